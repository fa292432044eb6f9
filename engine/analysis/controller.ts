/**
 * The AnalysisRun controller: level-based reconcile(key) -> {requeueAfterMs}.
 * Reads the run, takes the measurements that are due (runner.ts), writes the
 * status, emits typed events and records Kubernetes events through an
 * injected callback (so this module does not depend on the rollout package).
 *
 * Outcomes: run gone -> {}; completed -> {} (nothing more to do); a write
 * conflict -> {requeueAfterMs: 0} (retry with fresh state); otherwise the time
 * until the next measurement is due.
 *
 * A measurement takes the time its provider takes on the injected clock (a slow
 * Prometheus answers 20 s later; past the metric's timeout it is an Error
 * measurement): startedAt is when the query went out, finishedAt when it came
 * back, and the next one is due `interval` after that, as upstream. The reconcile
 * is deliberately not clock.track()ed: a provider waiting on a timer of the same
 * virtual clock would otherwise hold time still and never be woken. Adapters that
 * do real I/O in virtual time track it themselves.
 *
 * The status is written as a merge patch of what changed (upstream's
 * persistAnalysisRunStatus), so a spec change made meanwhile (terminate) does not
 * throw away a measurement that took time to take.
 */
import type { Clock } from "../core/clock.ts";
import { type EventSink, NULL_SINK } from "../core/events.ts";
import { type KubeClient, isConflict, isNotFound, refOf } from "../kube/types.ts";
import type { AnalysisEvent } from "./events.ts";
import { getIfExists, mergeDiff } from "./kube-util.ts";
import type { MetricsProvider } from "./provider.ts";
import { type StepOptions, stepAnalysisRun } from "./runner.ts";
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

/** An informer cache of AnalysisRuns (RolloutsManager's); the controller records its own writes in it. */
export interface AnalysisRunLister {
  get(namespace: string, name: string): AnalysisRun | undefined;
  upsert(run: AnalysisRun): unknown;
}

export interface AnalysisRunControllerOptions {
  client: KubeClient;
  clock: Clock;
  provider: MetricsProvider;
  /** Read runs from this cache instead of a GET per reconcile. */
  runs?: AnalysisRunLister;
  events?: EventSink<AnalysisEvent>;
  record?: RecordFn;
}

const POD_HASH_LABEL = "rollouts-pod-template-hash";
const REVISION_ANNOTATION = "rollout.argoproj.io/revision";

export class AnalysisRunController {
  private readonly events: EventSink<AnalysisEvent>;
  /** Made once: measurements finish at the clock's time. */
  private readonly stepOptions: StepOptions;
  constructor(private readonly opts: AnalysisRunControllerOptions) {
    this.events = opts.events ?? (NULL_SINK as EventSink<AnalysisEvent>);
    this.stepOptions = { now: () => opts.clock.now() };
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { client, clock } = this.opts;
    let run = await this.getRun(namespace, name);
    if (run === undefined) return {};
    const started = clock.now();
    const step = await stepAnalysisRun(run.spec, run.status, started, this.opts.provider, this.stepOptions);
    const now = clock.now();
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
    const patch = mergeDiff(run.status ?? {}, step.status);
    if (patch !== undefined) {
      try {
        run = await client.patch<AnalysisRun>(refOf(run), { status: patch }, "merge", {
          subresource: "status",
        });
        this.opts.runs?.upsert(run);
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

  private async getRun(namespace: string, name: string): Promise<AnalysisRun | undefined> {
    if (this.opts.runs !== undefined) return this.opts.runs.get(namespace, name);
    return getIfExists<AnalysisRun>(this.opts.client, {
      apiVersion: ARGO_API_VERSION,
      kind: "AnalysisRun",
      namespace,
      name,
    });
  }
}
