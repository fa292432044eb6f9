/** Public entry of the analysis module: conditions, assessment, runs, providers, validation. */
export { ARGO_ENV, compile, evalCondition, ExprError, type Program, type Value } from "./expr.ts";
export {
  assessMetricStatus,
  assessRunStatus,
  effectiveCount,
  evaluateResult,
  nextMeasurementAt,
  recordMeasurement,
  trimMeasurements,
} from "./assess.ts";
export {
  AnalysisRunController,
  type AnalysisRunControllerOptions,
  type AnalysisRunLister,
} from "./controller.ts";
export { getIfExists, memoFrozen, mergeDiff } from "./kube-util.ts";
export { dryRunAnalysis, type DryRunOptions, type DryRunResult } from "./dry-run.ts";
export type { AnalysisCompletedEvent, AnalysisEvent, AnalysisMeasurementEvent } from "./events.ts";
export {
  bindPromResult,
  FunctionProvider,
  HttpPrometheusApi,
  inProcessPrometheusApi,
  type InProcessPrometheus,
  type MeasureResult,
  type MetricsProvider,
  type PrometheusApi,
  PrometheusProvider,
  type PromQueryData,
} from "./provider.ts";
export { stepAnalysisRun, type StepOptions, type StepResult } from "./runner.ts";
export * from "./types.ts";
export { validateAnalysisSpec, type ValidationIssue } from "./validate.ts";
