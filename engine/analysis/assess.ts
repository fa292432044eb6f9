/**
 * Pure assessment logic of Argo Rollouts' AnalysisRun controller
 * (analysis/analysis.go, utils/evaluate/evaluate.go): how one measurement is
 * judged, how counters move, when a metric and a run complete, when the next
 * measurement is due, and how many measurements are kept.
 */
import { compiled, evalCondition, ExprError, formatValue } from "./expr.ts";
import { intValue } from "./args.ts";
import { parseDuration, parseTime } from "../core/clock.ts";
import {
  type AnalysisPhase,
  type Measurement,
  type Metric,
  type MetricResult,
  type MetricValue,
  type RunSummary,
  isCompleted,
  isWorse,
} from "./types.ts";

export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;
export const DEFAULT_MEASUREMENT_HISTORY_LIMIT = 10;
/** Upstream DefaultErrorRetryInterval: the next try after an Error measurement. */
export const ERROR_RETRY_INTERVAL_MS = 10_000;

export interface Verdict {
  phase: AnalysisPhase;
  /** Set for Error verdicts: why the conditions could not be evaluated. */
  message?: string;
}

function isNilOrEmpty(v: MetricValue | undefined | null): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
}

function evalOne(
  kind: "successCondition" | "failureCondition",
  source: string,
  result: MetricValue | undefined,
): boolean {
  try {
    return evalCondition(compiled(source), result);
  } catch (e) {
    const why = e instanceof ExprError || e instanceof Error ? e.message : String(e);
    if (isNilOrEmpty(result)) {
      throw new Error(
        `could not evaluate ${kind} "${source}": metric result is nil or empty: no data returned from the metric provider`,
      );
    }
    throw new Error(`could not evaluate ${kind} "${source}": ${why}`);
  }
}

/**
 * Judge one measurement result against the metric's conditions (upstream EvaluateResult):
 * no condition -> Successful; only success -> failure = !success; only failure ->
 * success = !failure; failure wins; neither -> Inconclusive; a throwing expression -> Error.
 */
export function evaluateResult(
  metric: Pick<Metric, "successCondition" | "failureCondition">,
  result: MetricValue | undefined,
): Verdict {
  const sc = metric.successCondition ?? "";
  const fc = metric.failureCondition ?? "";
  let success = false;
  let failure = false;
  try {
    if (sc !== "") success = evalOne("successCondition", sc, result);
    if (fc !== "") failure = evalOne("failureCondition", fc, result);
  } catch (e) {
    return { phase: "Error", message: (e as Error).message };
  }
  if (sc === "" && fc === "") return { phase: "Successful" };
  if (sc !== "" && fc === "") failure = !success;
  if (sc === "" && fc !== "") success = !failure;
  if (failure) return { phase: "Failed" };
  if (!success) return { phase: "Inconclusive" };
  return { phase: "Successful" };
}

/** Go's %v of a metric value, as Argo stores it in `measurement.value` ("0.01", "[0.01,0.02]"). */
export function formatMetricValue(v: MetricValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(",")}]`;
  return formatValue(v);
}

/**
 * Add a completed measurement to a metric result and move its counters (upstream runMeasurements).
 * (No closure per call: under tsx, a named local function costs a defineProperty each time.)
 */
export function recordMeasurement(mr: MetricResult, m: Measurement): MetricResult {
  const r: MetricResult = { ...mr, measurements: [...(mr.measurements ?? []), m] };
  if (m.phase === "Error") {
    r.error = (r.error ?? 0) + 1;
    r.consecutiveError = (r.consecutiveError ?? 0) + 1;
    r.consecutiveSuccess = 0;
  } else if (m.phase === "Successful" || m.phase === "Failed" || m.phase === "Inconclusive") {
    if (m.phase === "Successful") r.successful = (r.successful ?? 0) + 1;
    else if (m.phase === "Failed") r.failed = (r.failed ?? 0) + 1;
    else r.inconclusive = (r.inconclusive ?? 0) + 1;
    r.count = (r.count ?? 0) + 1;
    r.consecutiveError = 0;
    if (m.phase === "Successful") r.consecutiveSuccess = (r.consecutiveSuccess ?? 0) + 1;
    else r.consecutiveSuccess = 0;
  }
  return r;
}

export interface LimitVerdict {
  phase: AnalysisPhase | undefined;
  message: string;
}

/**
 * Upstream assessMetricFailureInconclusiveOrError: checked in this order so that
 * when several hold, Error beats Inconclusive beats Failed.
 * failureLimit -1 disables the failure check.
 */
export function assessLimits(metric: Metric, mr: MetricResult): LimitVerdict {
  let phase: AnalysisPhase | undefined;
  let message = "";
  const failureLimit = intValue(metric.failureLimit, 0);
  const failed = mr.failed ?? 0;
  if (failureLimit >= 0 && failed > failureLimit) {
    phase = "Failed";
    message = `failed (${failed}) > failureLimit (${failureLimit})`;
  }
  const inconclusiveLimit = intValue(metric.inconclusiveLimit, 0);
  const inconclusive = mr.inconclusive ?? 0;
  if (inconclusive > inconclusiveLimit) {
    phase = "Inconclusive";
    message = `inconclusive (${inconclusive}) > inconclusiveLimit (${inconclusiveLimit})`;
  }
  const errLimit = intValue(metric.consecutiveErrorLimit, DEFAULT_CONSECUTIVE_ERROR_LIMIT);
  const consecutiveError = mr.consecutiveError ?? 0;
  if (consecutiveError > errLimit) {
    phase = "Error";
    message = `consecutiveErrors (${consecutiveError}) > consecutiveErrorLimit (${errLimit})`;
  }
  return { phase, message };
}

/**
 * Upstream Metric.EffectiveCount: `count` when > 0; a metric with neither count nor
 * interval runs once; with an interval and no count it runs until terminated (undefined).
 */
export function effectiveCount(metric: Metric): number | undefined {
  const c = intValue(metric.count, 0);
  if (c > 0) return c;
  return metric.interval === undefined || metric.interval === "" ? 1 : undefined;
}

/** Upstream assessMetricStatus: the phase of one metric from its measurements and limits. */
export function assessMetricStatus(metric: Metric, mr: MetricResult, terminating: boolean): AnalysisPhase {
  if (isCompleted(mr.phase)) return mr.phase;
  const ms = mr.measurements ?? [];
  if (ms.length === 0) return terminating ? "Successful" : "Pending";
  const last = ms[ms.length - 1]!;
  if (!isCompleted(last.phase)) return "Running";
  const limits = assessLimits(metric, mr);
  if (limits.phase !== undefined) return limits.phase;
  const csl = intValue(metric.consecutiveSuccessLimit, 0);
  if (csl > 0 && (mr.consecutiveSuccess ?? 0) >= csl) return "Successful";
  const count = effectiveCount(metric);
  if (count !== undefined && (mr.count ?? 0) >= count) {
    const failureApplicable = intValue(metric.failureLimit, 0) >= 0;
    const successApplicable = csl > 0;
    if (failureApplicable && successApplicable) return "Inconclusive";
    if (!failureApplicable && successApplicable) return "Failed";
    return "Successful";
  }
  return terminating ? "Successful" : "Running";
}

/** Upstream IsTerminating: terminate requested, or any non-dry-run metric Failed/Error/Inconclusive. */
export function isTerminating(
  terminate: boolean | undefined,
  results: readonly MetricResult[],
  dryRun: ReadonlySet<string>,
): boolean {
  if (terminate === true) return true;
  return results.some(
    (r) => !dryRun.has(r.name) && (r.phase === "Failed" || r.phase === "Error" || r.phase === "Inconclusive"),
  );
}

export interface RunAssessment {
  phase: AnalysisPhase;
  message: string;
  results: MetricResult[];
  runSummary: RunSummary;
  dryRunSummary: RunSummary;
  /** Metrics whose phase changed to a completed one in this assessment. */
  completedMetrics: Array<{ name: string; phase: AnalysisPhase }>;
}

/**
 * Upstream assessRunStatus: every metric's phase; the run's phase is the worst of
 * its completed non-dry-run metrics once all are complete (a dry-run metric never
 * fails the run); the message names the metric and the limit that decided it.
 */
export function assessRunStatus(
  metrics: readonly Metric[],
  results: readonly MetricResult[],
  dryRun: ReadonlySet<string>,
  terminate: boolean | undefined,
): RunAssessment {
  const first = assessOnce(metrics, results, dryRun, terminate);
  // A metric that just failed makes the run terminating; upstream's own status
  // update re-queues the run at once and the second pass completes it.
  if (!isTerminating(terminate, results, dryRun) && isTerminating(terminate, first.results, dryRun)) {
    const second = assessOnce(metrics, first.results, dryRun, terminate);
    return { ...second, completedMetrics: [...first.completedMetrics, ...second.completedMetrics] };
  }
  return first;
}

function assessOnce(
  metrics: readonly Metric[],
  results: readonly MetricResult[],
  dryRun: ReadonlySet<string>,
  terminate: boolean | undefined,
): RunAssessment {
  const terminating = isTerminating(terminate, results, dryRun);
  let worst: AnalysisPhase | undefined;
  let worstMessage = terminate === true ? "Run Terminated" : "";
  let everythingCompleted = true;
  const runSummary = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0 };
  const dryRunSummary = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0 };
  const out = results.map((r) => ({ ...r }));
  const completedMetrics: Array<{ name: string; phase: AnalysisPhase }> = [];
  for (const metric of metrics) {
    const isDry = dryRun.has(metric.name);
    const summary = isDry ? dryRunSummary : runSummary;
    summary.count++;
    const idx = out.findIndex((r) => r.name === metric.name);
    const result = out[idx];
    if (result === undefined) {
      everythingCompleted = false;
      continue;
    }
    const status = assessMetricStatus(metric, result, terminating);
    if (result.phase !== status) {
      if (isCompleted(status)) completedMetrics.push({ name: metric.name, phase: status });
      const last = result.measurements?.[result.measurements.length - 1];
      if (last?.message !== undefined) result.message = last.message;
      result.phase = status;
    }
    if (!isCompleted(status)) {
      everythingCompleted = false;
      continue;
    }
    const limits = assessLimits(metric, result);
    if (!isDry) {
      if (worst === undefined || isWorse(worst, status)) {
        worst = status;
        if (limits.message !== "") {
          worstMessage = `Metric "${metric.name}" assessed ${status} due to ${limits.message}`;
          if (result.message !== undefined && result.message !== "") {
            worstMessage += `: "Error Message: ${result.message}"`;
          }
        }
      }
    } else {
      if (worst === undefined) worst = "Successful";
      if (limits.message !== "") result.message = `Metric assessed ${status} due to ${limits.message}`;
    }
    const p = limits.phase ?? "Successful";
    if (p === "Error") summary.error++;
    else if (p === "Failed") summary.failed++;
    else if (p === "Inconclusive") summary.inconclusive++;
    else summary.successful++;
  }
  worstMessage = worstMessage.trim();
  let phase: AnalysisPhase;
  if (terminating) phase = worst ?? "Successful";
  else if (!everythingCompleted || worst === undefined) {
    phase = "Running";
    worstMessage = "";
  } else phase = worst;
  return { phase, message: worstMessage, results: out, runSummary, dryRunSummary, completedMetrics };
}

/** Clock ms of a status timestamp; undefined when absent or not a date. */
export function parseMs(rfc: string | undefined): number | undefined {
  if (rfc === undefined) return undefined;
  const t = parseTime(rfc);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * When the next measurement of `metric` is due, in clock ms, or undefined when
 * none will be taken (completed, count reached, terminating, no interval).
 * First measurement: run start + initialDelay. After an Error: finishedAt + 10 s.
 * Otherwise: finishedAt + interval.
 */
export function nextMeasurementAt(
  metric: Metric,
  mr: MetricResult | undefined,
  runStartedAtMs: number,
  terminating: boolean,
): number | undefined {
  if (mr !== undefined && isCompleted(mr.phase)) return undefined;
  if (terminating) return undefined;
  const last = mr?.measurements?.[mr.measurements.length - 1];
  if (last === undefined) {
    return (
      runStartedAtMs +
      (metric.initialDelay !== undefined && metric.initialDelay !== ""
        ? parseDuration(metric.initialDelay)
        : 0)
    );
  }
  const count = effectiveCount(metric);
  if (count !== undefined && (mr?.count ?? 0) >= count) return undefined;
  const finished = parseMs(last.finishedAt);
  if (finished === undefined) return undefined;
  if (last.phase === "Error") return finished + ERROR_RETRY_INTERVAL_MS;
  if (metric.interval === undefined || metric.interval === "") return undefined;
  return finished + parseDuration(metric.interval);
}

/** Keep the last `limit` measurements (measurementRetention, default 10). */
export function trimMeasurements(mr: MetricResult, limit: number): MetricResult {
  const ms = mr.measurements ?? [];
  if (ms.length <= limit) return mr;
  return { ...mr, measurements: ms.slice(ms.length - limit) };
}
