/** argoproj.io/v1alpha1 Rollout (canary strategy) as it appears on the wire, plus defaults. */
import type { KubeObject } from "../kube/types.ts";
import type { Argument } from "../analysis/types.ts";

export const ROLLOUT_KIND = "Rollout";
export const POD_HASH_LABEL = "rollouts-pod-template-hash";
export const REVISION_ANNOTATION = "rollout.argoproj.io/revision";
export const ROLLOUT_TYPE_LABEL = "rollout-type";
export const STEP_INDEX_LABEL = "step-index";

export interface AnalysisTemplateRef {
  templateName: string;
  clusterScope?: boolean;
}

export interface RolloutAnalysis {
  templates?: AnalysisTemplateRef[];
  args?: Argument[];
  dryRun?: Array<{ metricName: string }>;
  measurementRetention?: Array<{ metricName: string; limit: number }>;
}

export interface BackgroundAnalysis extends RolloutAnalysis {
  startingStep?: number;
}

export interface SetCanaryScale {
  replicas?: number;
  weight?: number;
  matchTrafficWeight?: boolean;
}

export interface CanaryStep {
  setWeight?: number;
  pause?: { duration?: string | number };
  analysis?: RolloutAnalysis;
  setCanaryScale?: SetCanaryScale;
  experiment?: unknown;
  [other: string]: unknown;
}

export interface CanaryStrategy {
  steps?: CanaryStep[];
  analysis?: BackgroundAnalysis;
  trafficRouting?: Record<string, unknown>;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  abortScaleDownDelaySeconds?: number;
  scaleDownDelaySeconds?: number;
  stableService?: string;
  canaryService?: string;
  [other: string]: unknown;
}

export interface RolloutSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
  workloadRef?: unknown;
  strategy?: { canary?: CanaryStrategy; blueGreen?: unknown };
  paused?: boolean;
  progressDeadlineSeconds?: number;
  progressDeadlineAbort?: boolean;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  /** How many completed AnalysisRuns of past attempts to keep (upstream AnalysisRunStrategy). */
  analysis?: { successfulRunHistoryLimit?: number; unsuccessfulRunHistoryLimit?: number };
  restartAt?: string;
}

export interface RolloutCondition {
  type: "Progressing" | "Available" | "Paused" | "Healthy" | "InvalidSpec" | "Completed" | "ReplicaFailure";
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export interface PauseCondition {
  reason: "CanaryPauseStep" | "InconclusiveAnalysisRun" | "BlueGreenPause" | "InconclusiveExperiment";
  startTime: string;
}

export interface RolloutStatus {
  phase?: "Healthy" | "Progressing" | "Paused" | "Degraded";
  message?: string;
  currentStepIndex?: number;
  stableRS?: string;
  currentPodHash?: string;
  pauseConditions?: PauseCondition[];
  controllerPause?: boolean;
  abort?: boolean;
  abortedAt?: string;
  promoteFull?: boolean;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  HPAReplicas?: number;
  selector?: string;
  observedGeneration?: string;
  collisionCount?: number;
  conditions?: RolloutCondition[];
  canary?: {
    weights?: {
      canary: { podTemplateHash: string; weight: number };
      stable: { podTemplateHash: string; weight: number };
    };
    currentStepAnalysisRunStatus?: { name: string; status: string; message?: string };
    currentBackgroundAnalysisRunStatus?: { name: string; status: string; message?: string };
    stablePingPong?: string;
  };
  /** Step the current canary scale override came from (setCanaryScale). */
  currentStepHash?: string;
}

export interface Rollout extends KubeObject {
  spec: RolloutSpec;
  status?: RolloutStatus;
}

/** Upstream defaults (utils/defaults). */
export const DEFAULTS = {
  replicas: 1,
  maxSurge: "25%",
  maxUnavailable: "25%",
  abortScaleDownDelaySeconds: 30,
  scaleDownDelaySeconds: 30,
  progressDeadlineSeconds: 600,
  revisionHistoryLimit: 10,
  successfulRunHistoryLimit: 5,
  unsuccessfulRunHistoryLimit: 5,
} as const;

export function replicasOf(ro: Rollout): number {
  return ro.spec.replicas ?? DEFAULTS.replicas;
}
