/**
 * Helm via the `helm` binary (`helm template`), as Argo CD runs it, when a
 * helm binary is on PATH. Value precedence as Argo CD: parameters (--set) >
 * valuesObject > values > valueFiles (in order) > chart values.yaml.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Clock } from "../core/clock.ts";
import { GtbError } from "../core/errors.ts";
import { parseManifests } from "./manifests.ts";
import { cleanPath, joinPath, runProcess, withTempTree } from "./materialize.ts";
import type { RenderedManifest, Renderer, RenderRequest } from "./types.ts";

/** Split `helm template` output into manifests, keeping each `# Source:` as the manifest source. */
export function splitHelmOutput(stdout: string, fallback: string): RenderedManifest[] {
  const out: RenderedManifest[] = [];
  for (const doc of stdout.split(/^---\s*$/m)) {
    if (doc.trim() === "") continue;
    const src = /^# Source: (.+)$/m.exec(doc)?.[1]?.trim() ?? fallback;
    out.push(...parseManifests(doc, src));
  }
  return out;
}

export function createHelmBinaryRenderer(opts: { clock: Clock; binary?: string }): Renderer {
  const binary = opts.binary ?? "helm";
  return {
    name: "helm",
    async render(req: RenderRequest): Promise<RenderedManifest[]> {
      const dir = cleanPath(req.path);
      const helm = req.helm ?? {};
      return withTempTree(opts.clock, req.tree, [dir], async (tmp) => {
        const chart = join(tmp.root, dir);
        const args = ["template", helm.releaseName ?? req.appName, chart, "--include-crds"];
        if (req.namespace !== undefined) args.push("--namespace", req.namespace);
        if (req.kubeVersion !== undefined) args.push("--kube-version", req.kubeVersion);
        for (const v of req.apiVersions ?? []) args.push("--api-versions", v);
        if (helm.skipCrds === true) args.splice(args.indexOf("--include-crds"), 1, "--skip-crds");
        for (const f of helm.valueFiles ?? []) {
          const inTree = joinPath(dir, f);
          const content = await req.tree.read(inTree);
          if (content === undefined) {
            throw new GtbError("GTB_RENDER_HELM", `values file ${f} not found in ${dir || "."}`, {
              file: inTree,
              path: "spec.source.helm.valueFiles",
              hint: "valueFiles are relative to the chart path",
            });
          }
          args.push("--values", join(tmp.root, inTree));
        }
        if (helm.values !== undefined && helm.values.trim() !== "") {
          const p = join(tmp.root, ".argocd-values.yaml");
          await opts.clock.io(writeFile(p, helm.values));
          args.push("--values", p);
        }
        if (helm.valuesObject !== undefined) {
          const p = join(tmp.root, ".argocd-values-object.yaml");
          await opts.clock.io(writeFile(p, stringify(helm.valuesObject)));
          args.push("--values", p);
        }
        for (const p of helm.parameters ?? [])
          args.push(p.forceString ? "--set-string" : "--set", `${p.name}=${p.value}`);
        const r = await opts.clock.io(runProcess(binary, args));
        if (r.code !== 0) {
          throw new GtbError(
            "GTB_RENDER_HELM",
            `helm template ${dir || "."} failed: ${r.stderr.trim().replaceAll(tmp.root, "")}`,
            {
              file: joinPath(dir, "Chart.yaml"),
              hint: "run `helm template` on the chart to see the full error",
            },
          );
        }
        return splitHelmOutput(r.stdout, joinPath(dir, "Chart.yaml"));
      });
    },
  };
}
