/**
 * Argo Rollouts analysis objects as they appear on the wire
 * (argoproj.io/v1alpha1 AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun).
 */
import type { KubeObject } from "../kube/types.ts";

export const ARGO_API_VERSION = "argoproj.io/v1alpha1";

export type AnalysisPhase = "Pending" | "Running" | "Successful" | "Failed" | "Error" | "Inconclusive";

/** Completed phases (upstream AnalysisPhase.Completed()). */
export function isCompleted(p: AnalysisPhase | undefined): boolean {
  return p === "Successful" || p === "Failed" || p === "Error" || p === "Inconclusive";
}

/** Upstream's ordering, best to worst: Successful < Running < Pending < Inconclusive < Error < Failed. */
const ORDER: Record<AnalysisPhase, number> = {
  Successful: 0,
  Running: 1,
  Pending: 2,
  Inconclusive: 3,
  Error: 4,
  Failed: 5,
};

/** True when `candidate` is worse than `current` (upstream analysisutil.IsWorse). */
export function isWorse(current: AnalysisPhase, candidate: AnalysisPhase): boolean {
  return ORDER[candidate] > ORDER[current];
}

/** Kubernetes intstr: a number or a string (possibly templated from args). */
export type IntOrString = number | string;

export interface PrometheusProviderSpec {
  address?: string;
  query: string;
  /** Seconds (default 30). */
  timeout?: number;
  headers?: Array<{ key: string; value: string }>;
  insecure?: boolean;
}

export interface MetricProviderSpec {
  prometheus?: PrometheusProviderSpec;
  [other: string]: unknown;
}

export interface Metric {
  name: string;
  interval?: string;
  initialDelay?: string;
  count?: IntOrString;
  successCondition?: string;
  failureCondition?: string;
  failureLimit?: IntOrString;
  inconclusiveLimit?: IntOrString;
  consecutiveErrorLimit?: IntOrString;
  consecutiveSuccessLimit?: IntOrString;
  provider: MetricProviderSpec;
}

export interface ArgValueFrom {
  podTemplateHashValue?: "Stable" | "Latest";
  fieldRef?: { fieldPath: string };
  secretKeyRef?: { name: string; key: string };
}

export interface Argument {
  name: string;
  value?: string;
  valueFrom?: ArgValueFrom;
}

export interface DryRun {
  metricName: string;
}
export interface MeasurementRetention {
  metricName: string;
  limit: number;
}

export interface AnalysisTemplateSpec {
  metrics: Metric[];
  args?: Argument[];
  dryRun?: DryRun[];
  measurementRetention?: MeasurementRetention[];
}

export interface AnalysisTemplate extends KubeObject {
  spec: AnalysisTemplateSpec;
}

export interface Measurement {
  phase: AnalysisPhase;
  value?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  metadata?: Record<string, string>;
}

export interface MetricResult {
  name: string;
  phase: AnalysisPhase;
  measurements?: Measurement[];
  message?: string;
  count?: number;
  successful?: number;
  failed?: number;
  inconclusive?: number;
  error?: number;
  consecutiveError?: number;
  consecutiveSuccess?: number;
  dryRun?: boolean;
  metadata?: Record<string, string>;
}

export interface RunSummary {
  count?: number;
  successful?: number;
  failed?: number;
  inconclusive?: number;
  error?: number;
}

export interface AnalysisRunSpec extends AnalysisTemplateSpec {
  terminate?: boolean;
}

export interface AnalysisRunStatus {
  phase?: AnalysisPhase;
  message?: string;
  metricResults?: MetricResult[];
  startedAt?: string;
  runSummary?: RunSummary;
  dryRunSummary?: RunSummary;
}

export interface AnalysisRun extends KubeObject {
  spec: AnalysisRunSpec;
  status?: AnalysisRunStatus;
}

/** What a provider query yields, bound as `result` (scalar -> number; vector/matrix -> number[]). */
export type MetricValue = number | number[];
