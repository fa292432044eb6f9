/**
 * The AnalysisRun controller: level-based reconcile(key) -> {requeueAfterMs}.
 * Reads the run, takes the measurements that are due (runner.ts), writes the
 * status, emits typed events and records Kubernetes events through an
 * injected callback (so this module does not depend on the rollout package).
 *
 * Outcomes: run gone -> {}; completed -> {} (nothing more to do); a write
 * conflict -> {requeueAfterMs: 0} (retry with fresh state); otherwise the time
 * until the next measurement is due.
 */
import type { Clock } from "../core/clock.ts";
import { type EventSink, NULL_SINK } from "../core/events.ts";
import { type KubeClient, isConflict, isNotFound } from "../kube/types.ts";
import type { AnalysisEvent } from "./events.ts";
import type { MetricsProvider } from "./provider.ts";
import { stepAnalysisRun } from "./runner.ts";
import { ARGO_API_VERSION, type AnalysisRun } from "./types.ts";

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type RecordFn = (
  obj: AnalysisRun,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
) => Promise<void>;

export interface AnalysisRunControllerOptions {
  client: KubeClient;
  clock: Clock;
  provider: MetricsProvider;
  events?: EventSink<AnalysisEvent>;
  record?: RecordFn;
}

const POD_HASH_LABEL = "rollouts-pod-template-hash";
const REVISION_ANNOTATION = "rollout.argoproj.io/revision";

export class AnalysisRunController {
  private readonly events: EventSink<AnalysisEvent>;
  constructor(private readonly opts: AnalysisRunControllerOptions) {
    this.events = opts.events ?? (NULL_SINK as EventSink<AnalysisEvent>);
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { client, clock } = this.opts;
    let run: AnalysisRun;
    try {
      run = await client.get<AnalysisRun>({
        apiVersion: ARGO_API_VERSION,
        kind: "AnalysisRun",
        namespace,
        name,
      });
    } catch (e) {
      if (isNotFound(e)) return {};
      throw e;
    }
    const now = clock.now();
    const step = await clock.track(stepAnalysisRun(run.spec, run.status, now, this.opts.provider));
    const owner = run.metadata.ownerReferences?.find((o) => o.kind === "Rollout")?.name;
    const ctx = {
      namespace,
      run: name,
      service: owner,
      revision: run.metadata.annotations?.[REVISION_ANNOTATION],
      podTemplateHash: run.metadata.labels?.[POD_HASH_LABEL],
    };
    for (const t of step.taken) {
      this.events.emit({
        type: "analysis.measurement",
        time: now,
        ...ctx,
        metric: t.metric,
        phase: t.measurement.phase,
        value: t.measurement.value,
        message: t.measurement.message,
        dryRun: t.dryRun,
      });
    }
    if (JSON.stringify(step.status) !== JSON.stringify(run.status ?? {})) {
      try {
        run = await client.replaceStatus<AnalysisRun>({ ...run, status: step.status });
      } catch (e) {
        if (isConflict(e)) return { requeueAfterMs: 0 };
        if (isNotFound(e)) return {};
        throw e;
      }
    }
    const record = this.opts.record;
    if (record !== undefined) {
      for (const m of step.completedMetrics) {
        const type = m.phase === "Error" || m.phase === "Failed" ? "Warning" : "Normal";
        await record(run, type, `Metric${m.phase}`, `Metric '${m.name}' Completed. Result: ${m.phase}`);
      }
    }
    if (step.completedNow) {
      const phase = step.status.phase!;
      const startedAt = step.status.startedAt === undefined ? undefined : Date.parse(step.status.startedAt);
      this.events.emit({
        type: "analysis.completed",
        time: now,
        ...ctx,
        phase,
        message: step.status.message ?? "",
        startedAt,
        metrics: (step.status.metricResults ?? []).map((r) => ({
          name: r.name,
          phase: r.phase,
          lastValue: r.measurements?.[r.measurements.length - 1]?.value,
          measurements: (r.successful ?? 0) + (r.failed ?? 0) + (r.inconclusive ?? 0) + (r.error ?? 0),
        })),
      });
      if (record !== undefined) {
        const type = phase === "Error" || phase === "Failed" ? "Warning" : "Normal";
        await record(run, type, `AnalysisRun${phase}`, `Analysis Completed. Result: ${phase}`);
      }
    }
    return step.nextAtMs === undefined ? {} : { requeueAfterMs: Math.max(0, step.nextAtMs - now) };
  }
}
