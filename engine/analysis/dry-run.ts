/**
 * Offline evaluation of an AnalysisTemplate: run it on virtual time from
 * `startMs` for at most `durationMs` against a provider, and say what Argo
 * Rollouts would have concluded and why ("how would this have judged?").
 */
import { mergeArgs } from "./args.ts";
import type { MetricsProvider } from "./provider.ts";
import { stepAnalysisRun } from "./runner.ts";
import type {
  AnalysisPhase,
  AnalysisRunSpec,
  AnalysisRunStatus,
  AnalysisTemplateSpec,
  Argument,
} from "./types.ts";

export interface DryRunMeasurement {
  time: number;
  metric: string;
  phase: AnalysisPhase;
  value: string | undefined;
  message: string | undefined;
  dryRun: boolean;
}

export interface DryRunResult {
  measurements: DryRunMeasurement[];
  /** Final run phase; a run still going at the end of the window is terminated (Successful). */
  phase: AnalysisPhase;
  message: string;
  /** True when the window ended before the run completed on its own. */
  terminatedAtEnd: boolean;
  endedAt: number;
  status: AnalysisRunStatus;
  /** What a Rollout does with this verdict. */
  rolloutAction: "continue" | "abort" | "pause";
}

export interface DryRunOptions {
  template: AnalysisTemplateSpec;
  args: Argument[];
  provider: MetricsProvider;
  startMs: number;
  durationMs: number;
}

export async function dryRunAnalysis(o: DryRunOptions): Promise<DryRunResult> {
  const spec: AnalysisRunSpec = {
    metrics: o.template.metrics,
    args: mergeArgs(o.args, o.template.args ?? []),
    ...(o.template.dryRun !== undefined ? { dryRun: o.template.dryRun } : {}),
    ...(o.template.measurementRetention !== undefined
      ? { measurementRetention: o.template.measurementRetention }
      : {}),
  };
  const end = o.startMs + o.durationMs;
  const measurements: DryRunMeasurement[] = [];
  let status: AnalysisRunStatus | undefined;
  let now = o.startMs;
  let terminatedAtEnd = false;
  for (;;) {
    const step = await stepAnalysisRun(spec, status, now, o.provider);
    status = step.status;
    for (const t of step.taken) {
      measurements.push({
        time: now,
        metric: t.metric,
        phase: t.measurement.phase,
        value: t.measurement.value,
        message: t.measurement.message,
        dryRun: t.dryRun,
      });
    }
    if (step.nextAtMs === undefined) break;
    if (step.nextAtMs > end) {
      const fin = await stepAnalysisRun({ ...spec, terminate: true }, status, end, o.provider);
      status = fin.status;
      terminatedAtEnd = true;
      now = end;
      break;
    }
    now = step.nextAtMs;
  }
  const phase = status.phase ?? "Running";
  return {
    measurements,
    phase,
    message: status.message ?? "",
    terminatedAtEnd,
    endedAt: now,
    status,
    rolloutAction:
      phase === "Failed" || phase === "Error" ? "abort" : phase === "Inconclusive" ? "pause" : "continue",
  };
}
