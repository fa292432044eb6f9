/** Typed events of the rollout controller (appended to the injected EventSink). */
import type { EventBase } from "../core/events.ts";

interface RolloutEventBase extends EventBase {
  namespace: string;
  /** The Rollout name (the service). */
  service: string;
  /** Revision of the version being rolled out (rollout.argoproj.io/revision). */
  revision: number;
  stableHash: string | undefined;
  canaryHash: string;
  /** Container images of the stable and the new version ("name:tag"). */
  stableImages: string[];
  canaryImages: string[];
  /** Canary traffic weight (0-100). */
  weight: number;
}

export interface RolloutUpdatedEvent extends RolloutEventBase {
  type: "rollout.updated";
}

export interface RolloutStepEvent extends RolloutEventBase {
  type: "rollout.step";
  /** 0-based index of the completed step and the step count. */
  stepIndex: number;
  steps: number;
  step: string;
}

export interface RolloutPausedEvent extends RolloutEventBase {
  type: "rollout.paused";
  reason: string;
}

export interface RolloutAbortedEvent extends RolloutEventBase {
  type: "rollout.aborted";
  message: string;
  /** The AnalysisRun whose verdict caused the abort, with the metric that decided it. */
  analysisRun: string | undefined;
  metric: string | undefined;
  metricValue: string | undefined;
}

export interface RolloutCompletedEvent extends RolloutEventBase {
  type: "rollout.completed";
  /** ms from the rollout.updated of this revision to completion. */
  durationMs: number | undefined;
}

/**
 * No progress for progressDeadlineSeconds: condition Progressing=False reason
 * ProgressDeadlineExceeded, phase Degraded. With spec.progressDeadlineAbort a
 * rollout.aborted follows at once; without it the update stays where it is.
 */
export interface RolloutTimedOutEvent extends RolloutEventBase {
  type: "rollout.timedout";
  /** `ReplicaSet "<name>" has timed out progressing.` */
  message: string;
  progressDeadlineSeconds: number;
  /** spec.progressDeadlineAbort: the update is aborted. */
  abort: boolean;
}

export type RolloutEvent =
  | RolloutUpdatedEvent
  | RolloutStepEvent
  | RolloutPausedEvent
  | RolloutAbortedEvent
  | RolloutCompletedEvent
  | RolloutTimedOutEvent;
