/** `gitops-testbed render CHART_DIR`: render a Helm chart as `helm template` prints it. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { GtbError } from "../../engine/core/errors.ts";
import {
  formatHelmTemplate,
  localFileTree,
  mergeValues,
  parseSetValues,
  parseValuesYaml,
  renderChart,
} from "../../engine/render/helm/index.ts";

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  program
    .command("render")
    .description(
      "render a Helm chart with the built-in Go-template engine, printed as `helm template` prints it",
    )
    .argument("<chart-dir>", "chart directory (holding Chart.yaml)")
    .option("-f, --values <file>", "values file (repeatable; later files win)", collect, [])
    .option("--set <key=value>", "set a value with Helm's --set syntax (repeatable)", collect, [])
    .option("--set-string <key=value>", "like --set, values kept as strings (repeatable)", collect, [])
    .option("--release <name>", "release name", "release-name")
    .option("--namespace <ns>", "release namespace", "default")
    .option("--kube-version <version>", "Kubernetes version for .Capabilities.KubeVersion")
    .option(
      "--api-versions <gv>",
      "extra API versions for .Capabilities.APIVersions (repeatable)",
      collect,
      [],
    )
    .option("--include-crds", "include CRDs from crds/ in the output", false)
    .action(async (chartDir: string, o: Record<string, unknown>) => {
      const dir = resolve(chartDir);
      const valuesObject: Record<string, unknown>[] = [];
      for (const f of o.values as string[]) {
        let text: string;
        try {
          text = await readFile(f, "utf8");
        } catch {
          throw new GtbError("GTB_RENDER_HELM_VALUE_FILE_MISSING", `values file ${f} not found`, { file: f });
        }
        try {
          valuesObject.push(parseValuesYaml(text));
        } catch (e) {
          throw new GtbError("GTB_RENDER_HELM_VALUES", `cannot parse ${f}: ${(e as Error).message}`, {
            file: f,
          });
        }
      }
      let sets: Record<string, unknown>;
      try {
        sets = parseSetValues(o.set as string[]);
        const strings = parseSetValues(o.setString as string[], { forceString: true });
        valuesObject.push(sets, strings);
      } catch (e) {
        throw new GtbError("GTB_RENDER_HELM_SET", `invalid --set: ${(e as Error).message}`, {
          hint: "use key=value, a.b=c, list[0]=x, list={a,b}, escaped\\.dots",
        });
      }
      const tree = localFileTree(dir);
      const r = await renderChart(
        {
          tree,
          path: "",
          releaseName: o.release as string,
          namespace: o.namespace as string,
          kubeVersion: o.kubeVersion as string | undefined,
          apiVersions: o.apiVersions as string[],
          includeCrds: o.includeCrds === true,
          helm: { valuesObject: layer(valuesObject) },
        },
        {},
      );
      process.stdout.write(formatHelmTemplate(r));
    });
}

/** -f files in order, then --set, then --set-string: later layers win, nulls kept until coalesce. */
function layer(maps: Record<string, unknown>[]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const m of maps) out = mergeValues(out, m, { keepNulls: true });
  return out;
}
