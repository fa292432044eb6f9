/**
 * `gitops-testbed analysis dry-run TEMPLATE.yaml (--prometheus URL | --series FILE)
 *    [--arg k=v]... [--at TIME] [--duration D] [--json]`
 * Runs an AnalysisTemplate on a virtual clock against a real Prometheus HTTP API
 * or a series file (the mock Prometheus, in-process), prints every measurement
 * and the verdict Argo Rollouts would reach, with the reason.
 * Exit 0 when the verdict lets a rollout continue, 1 when it would abort or pause.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseAllDocuments } from "yaml";
import { dryRunAnalysis } from "../../engine/analysis/dry-run.ts";
import {
  HttpPrometheusApi,
  inProcessPrometheusApi,
  PrometheusProvider,
  type PrometheusApi,
} from "../../engine/analysis/provider.ts";
import type { AnalysisTemplate, Argument } from "../../engine/analysis/types.ts";
import { validateAnalysisSpec } from "../../engine/analysis/validate.ts";
import { parseDuration, rfc3339 } from "../../engine/core/clock.ts";
import { EXIT_CHECKS_FAILED, GtbError } from "../../engine/core/errors.ts";
import { RealClock } from "../../simulator/clock/real.ts";
import { MockPrometheus } from "../../simulator/prometheus/mock.ts";
import { loadSeriesFile } from "../../simulator/prometheus/series-file.ts";

interface DryRunOpts {
  prometheus?: string;
  series?: string;
  arg: string[];
  at?: string;
  duration: string;
  json?: boolean;
}

function loadTemplate(file: string): AnalysisTemplate {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new GtbError("GTB_ANALYSIS_UNREADABLE", `cannot read ${file}: ${(e as Error).message}`, {
      file,
      hint: "check the path",
    });
  }
  const docs = parseAllDocuments(text);
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    const o = d.toJS() as AnalysisTemplate | null;
    if (o !== null && (o.kind === "AnalysisTemplate" || o.kind === "ClusterAnalysisTemplate")) {
      const issues = validateAnalysisSpec(o.spec ?? {});
      const first = issues[0];
      if (first !== undefined) {
        throw new GtbError(
          "GTB_ANALYSIS_INVALID",
          `${o.kind} ${o.metadata?.name ?? ""} is invalid: ${first.message}`,
          {
            file,
            path: first.path,
            hint: `run: gitops-testbed validate ${file}`,
          },
        );
      }
      return o;
    }
  }
  throw new GtbError(
    "GTB_ANALYSIS_NO_TEMPLATE",
    `no AnalysisTemplate or ClusterAnalysisTemplate in ${file}`,
    {
      file,
      hint: "pass a file with kind: AnalysisTemplate",
    },
  );
}

function parseArgs(raw: string[]): Argument[] {
  return raw.map((a) => {
    const i = a.indexOf("=");
    if (i <= 0)
      throw new GtbError("GTB_ANALYSIS_BAD_ARG", `invalid --arg "${a}"`, {
        path: "--arg",
        hint: "use --arg name=value",
      });
    return { name: a.slice(0, i), value: a.slice(i + 1) };
  });
}

function parseTime(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new GtbError("GTB_ANALYSIS_BAD_TIME", `invalid --at "${s}"`, {
      path: "--at",
      hint: "use RFC 3339 (2026-01-05T10:00:00Z) or Unix seconds",
    });
  }
  return t;
}

export function register(program: Command): void {
  const cmd = program.command("analysis").description("Argo Rollouts analysis tools");
  cmd
    .command("dry-run")
    .description(
      "run an AnalysisTemplate offline on a virtual clock and print the verdict Argo Rollouts would reach",
    )
    .argument("<template>", "YAML file with an AnalysisTemplate or ClusterAnalysisTemplate")
    .option("--prometheus <url>", "a Prometheus HTTP API to query (replaces each metric's address)")
    .option("--series <file>", "a series file (promtool notation) served by the in-process mock Prometheus")
    .option(
      "--arg <name=value>",
      "template argument (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      "--at <time>",
      "start time: RFC 3339 or Unix seconds (default: now for --prometheus, 0 for --series)",
    )
    .option("--duration <d>", "analysis window; a run still going at its end is terminated", "10m")
    .option("--json", "print the result as JSON")
    .action(async (file: string, o: DryRunOpts) => {
      if ((o.prometheus === undefined) === (o.series === undefined)) {
        throw new GtbError("GTB_ANALYSIS_SOURCE", "pass exactly one of --prometheus URL or --series FILE", {
          hint: "e.g. --prometheus http://localhost:9090 or --series fixtures/series/canary.yaml",
        });
      }
      const template = loadTemplate(file);
      let durationMs: number;
      try {
        durationMs = parseDuration(o.duration);
      } catch {
        throw new GtbError("GTB_ANALYSIS_BAD_DURATION", `invalid --duration "${o.duration}"`, {
          path: "--duration",
          hint: "e.g. 10m, 1h",
        });
      }
      let api: PrometheusApi;
      let startMs: number;
      if (o.prometheus !== undefined) {
        api = new HttpPrometheusApi(o.prometheus);
        startMs = o.at === undefined ? new RealClock().now() - durationMs : parseTime(o.at);
      } else {
        const prom = new MockPrometheus();
        prom.loadSeries(loadSeriesFile(o.series!));
        api = inProcessPrometheusApi(prom);
        startMs = o.at === undefined ? 0 : parseTime(o.at);
      }
      const provider = new PrometheusProvider({ apiFor: () => api });
      let res: Awaited<ReturnType<typeof dryRunAnalysis>>;
      try {
        res = await dryRunAnalysis({
          template: template.spec,
          args: parseArgs(o.arg),
          provider,
          startMs,
          durationMs,
        });
      } catch (e) {
        throw new GtbError("GTB_ANALYSIS_ARGS", (e as Error).message, {
          file,
          path: "spec.args",
          hint: "pass every argument without a default with --arg name=value",
        });
      }
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
      } else {
        const out: string[] = [];
        for (const m of res.measurements) {
          const dry = m.dryRun ? " (dry-run)" : "";
          out.push(
            `${rfc3339(m.time)}  ${m.metric}${dry}  ${m.phase.padEnd(12)} value=${m.value ?? "-"}${m.message === undefined ? "" : `  ${m.message}`}`,
          );
        }
        for (const r of res.status.metricResults ?? []) {
          out.push(
            `metric ${r.name}: ${r.phase} (successful ${r.successful ?? 0}, failed ${r.failed ?? 0}, inconclusive ${r.inconclusive ?? 0}, error ${r.error ?? 0})`,
          );
        }
        const why = res.message === "" ? "" : `: ${res.message}`;
        const ended = res.terminatedAtEnd ? ` (window ended at ${rfc3339(res.endedAt)}; run terminated)` : "";
        out.push(`verdict: AnalysisRun ${res.phase}${why}${ended}`);
        out.push(
          `rollout: ${res.rolloutAction === "abort" ? "would ABORT and return all traffic to stable" : res.rolloutAction === "pause" ? "would PAUSE (InconclusiveAnalysisRun) until promoted or aborted" : "would continue"}`,
        );
        process.stdout.write(`${out.join("\n")}\n`);
      }
      if (res.rolloutAction !== "continue") process.exitCode = EXIT_CHECKS_FAILED;
    });
}
