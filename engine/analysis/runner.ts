/**
 * One reconcile step of an AnalysisRun, independent of where the run is stored:
 * resolve args, validate, take every measurement that is due at `now`, assess
 * metrics and the run, trim history, and say when the next step is due.
 * The AnalysisRun controller (controller.ts) and the `analysis dry-run` CLI both
 * drive this function; it only reads the clock time it is given, and `opts.now`
 * (when a provider call may take time) for when each measurement finished.
 */
import { rfc3339 } from "../core/clock.ts";
import { ArgError, resolveMetric } from "./args.ts";
import { memoFrozen } from "./kube-util.ts";
import {
  DEFAULT_MEASUREMENT_HISTORY_LIMIT,
  assessRunStatus,
  evaluateResult,
  formatMetricValue,
  isTerminating,
  nextMeasurementAt,
  parseMs,
  recordMeasurement,
  trimMeasurements,
} from "./assess.ts";
import type { MetricsProvider } from "./provider.ts";
import type {
  AnalysisPhase,
  AnalysisRunSpec,
  AnalysisRunStatus,
  Measurement,
  Metric,
  MetricResult,
} from "./types.ts";
import { isCompleted } from "./types.ts";
import { matchRules, validateAnalysisSpec } from "./validate.ts";

export interface TakenMeasurement {
  metric: string;
  measurement: Measurement;
  dryRun: boolean;
}

export interface StepOptions {
  /**
   * The clock, read when a measurement returns: its finishedAt (and the next
   * measurement, due `interval` after it). Without it a measurement takes no time.
   */
  now?: () => number;
}

export interface StepResult {
  status: AnalysisRunStatus;
  /** Measurements taken in this step, in metric order. */
  taken: TakenMeasurement[];
  /** True when the run reached a completed phase in this step. */
  completedNow: boolean;
  /** Metrics whose phase became completed in this step. */
  completedMetrics: Array<{ name: string; phase: AnalysisPhase }>;
  /** Clock time of the next measurement, or undefined when nothing more is scheduled. */
  nextAtMs: number | undefined;
}

function failRun(status: AnalysisRunStatus, message: string): StepResult {
  return {
    status: { ...status, phase: "Error", message },
    taken: [],
    completedNow: true,
    completedMetrics: [],
    nextAtMs: undefined,
  };
}

/** What a step derives from the spec alone: resolved metrics and dry-run names, or why the run fails. */
type Prepared = { metrics: Metric[]; dryRun: Set<string> } | string;
const PREPARED = new WeakMap<AnalysisRunSpec, Prepared>();

function prepare(spec: AnalysisRunSpec): Prepared {
  let metrics: Metric[];
  try {
    metrics = resolveMetrics(spec);
  } catch (e) {
    if (e instanceof ArgError || e instanceof Error)
      return `Unable to resolve metric arguments: ${e.message}`;
    throw e;
  }
  const issues = validateAnalysisSpec({ ...spec, metrics });
  if (issues.length > 0) {
    return `Analysis spec invalid: ${issues.map((i) => `${i.path.replace(/^spec\./, "")}: ${i.message}`).join("; ")}`;
  }
  const dryRun = new Set(
    metrics.filter((m) => matchRules(spec.dryRun, m.name) !== undefined).map((m) => m.name),
  );
  return { metrics, dryRun };
}

/** Resolve every metric's `{{args.x}}` (args must already carry values). */
export function resolveMetrics(spec: AnalysisRunSpec): Metric[] {
  return spec.metrics.map((m) => resolveMetric(m, spec.args ?? []));
}

async function takeMeasurement(
  provider: MetricsProvider,
  metric: Metric,
  nowMs: number,
  now: () => number,
): Promise<Measurement> {
  const at = rfc3339(nowMs);
  const res = await provider.measure(metric, nowMs);
  const done = rfc3339(now());
  if (!res.ok) return { phase: "Error", message: res.error, startedAt: at, finishedAt: done };
  const verdict = evaluateResult(metric, res.value);
  const m: Measurement = {
    phase: verdict.phase,
    value: formatMetricValue(res.value),
    startedAt: at,
    finishedAt: done,
  };
  if (verdict.message !== undefined) m.message = verdict.message;
  if (res.warnings !== undefined) m.metadata = { warnings: res.warnings.map((w) => `"${w}"`).join(", ") };
  return m;
}

/** Run one reconcile step of an AnalysisRun at clock time `nowMs`. */
export async function stepAnalysisRun(
  spec: AnalysisRunSpec,
  current: AnalysisRunStatus | undefined,
  nowMs: number,
  provider: MetricsProvider,
  opts: StepOptions = {},
): Promise<StepResult> {
  const now = opts.now ?? (() => nowMs);
  const status: AnalysisRunStatus = { ...(current ?? {}) };
  if (isCompleted(status.phase)) {
    return { status, taken: [], completedNow: false, completedMetrics: [], nextAtMs: undefined };
  }
  if (status.startedAt === undefined) status.startedAt = rfc3339(nowMs);
  const startedAtMs = parseMs(status.startedAt) ?? nowMs;
  const prepared = memoFrozen(PREPARED, spec, prepare);
  if (typeof prepared === "string") return failRun(status, prepared);
  const { metrics, dryRun } = prepared;
  let results: MetricResult[] = [...(status.metricResults ?? [])];
  const terminating = isTerminating(spec.terminate, results, dryRun);

  const due = metrics.filter((m) => {
    const r = results.find((x) => x.name === m.name);
    const at = nextMeasurementAt(m, r, startedAtMs, terminating);
    return at !== undefined && at <= nowMs;
  });
  const measured = await Promise.all(due.map((m) => takeMeasurement(provider, m, nowMs, now)));
  const endMs = due.length === 0 ? nowMs : Math.max(nowMs, now());
  const taken: TakenMeasurement[] = [];
  due.forEach((m, i) => {
    const measurement = measured[i]!;
    const idx = results.findIndex((x) => x.name === m.name);
    const base: MetricResult =
      idx >= 0
        ? results[idx]!
        : { name: m.name, phase: "Running", ...(dryRun.has(m.name) ? { dryRun: true } : {}) };
    const next = recordMeasurement(base, measurement);
    if (idx >= 0) results[idx] = next;
    else results.push(next);
    taken.push({ metric: m.name, measurement, dryRun: dryRun.has(m.name) });
  });

  const assessed = assessRunStatus(metrics, results, dryRun, spec.terminate);
  results = assessed.results.map((r) => {
    const rule = matchRules(spec.measurementRetention, r.name);
    const limit = rule !== undefined && rule.limit > 0 ? rule.limit : DEFAULT_MEASUREMENT_HISTORY_LIMIT;
    return trimMeasurements(r, limit);
  });
  status.metricResults = results;
  status.runSummary = assessed.runSummary;
  status.dryRunSummary = assessed.dryRunSummary;
  let completedNow = false;
  if (assessed.phase !== status.phase) {
    status.phase = assessed.phase;
    status.message = assessed.message;
    if (status.message === "") delete status.message;
    completedNow = isCompleted(assessed.phase);
  }
  let nextAtMs: number | undefined;
  if (!isCompleted(status.phase)) {
    const term = isTerminating(spec.terminate, results, dryRun);
    for (const m of metrics) {
      const at = nextMeasurementAt(
        m,
        results.find((x) => x.name === m.name),
        startedAtMs,
        term,
      );
      if (at !== undefined && (nextAtMs === undefined || at < nextAtMs)) nextAtMs = Math.max(at, endMs);
    }
  }
  return { status, taken, completedNow, completedMetrics: assessed.completedMetrics, nextAtMs };
}
