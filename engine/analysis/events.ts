/** Typed events of the analysis module (appended to the injected EventSink). */
import type { EventBase } from "../core/events.ts";
import type { AnalysisPhase } from "./types.ts";

export interface AnalysisMeasurementEvent extends EventBase {
  type: "analysis.measurement";
  namespace: string;
  /** AnalysisRun name. */
  run: string;
  /** The Rollout (service) the run belongs to, when it has one. */
  service: string | undefined;
  revision: string | undefined;
  podTemplateHash: string | undefined;
  metric: string;
  phase: AnalysisPhase;
  /** Measurement value as Argo stores it ("0.012", "[0.01,0.02]"), when there is one. */
  value: string | undefined;
  message: string | undefined;
  dryRun: boolean;
}

export interface AnalysisCompletedEvent extends EventBase {
  type: "analysis.completed";
  namespace: string;
  run: string;
  service: string | undefined;
  revision: string | undefined;
  podTemplateHash: string | undefined;
  phase: AnalysisPhase;
  message: string;
  startedAt: number | undefined;
  metrics: Array<{ name: string; phase: AnalysisPhase; lastValue: string | undefined; measurements: number }>;
}

export type AnalysisEvent = AnalysisMeasurementEvent | AnalysisCompletedEvent;
