/**
 * World-level events: what happened to the fleet, in the vocabulary of DORA.
 * The engine emits mechanism events (sync, drift, rollout, analysis); the
 * operating worlds (simulator/world/) translate outcomes into these. Reports
 * (reports/) are pure functions of a log of these events.
 *
 * Ground truth (`bad`, `faultKind`) is known to the simulator and carried on
 * the events so reports can show true vs observed change failure rate.
 */
import type { EventBase } from "../engine/core/events.ts";

export type WorldName = string; // "manual" | "gitops" | "migration" | user-defined
export type Tier = "internal" | "tier-2" | "tier-1";

export interface RunStartedEvent extends EventBase {
  type: "run.started";
  scenario: string;
  seed: number;
  worlds: WorldName[];
  services: number;
  startTime: number;
  endTime: number;
}

export interface RunFinishedEvent extends EventBase {
  type: "run.finished";
  scenario: string;
}

/** A change became ready to ship (merged PR, or a change a person intends to kubectl apply). */
export interface ChangeCommittedEvent extends EventBase {
  type: "change.committed";
  world: WorldName;
  service: string;
  tier: Tier;
  changeId: string;
  version: string;
  author: string;
  reviewer?: string;
  /** Git commit SHA in worlds that use Git. */
  commit?: string;
  /** Ground truth: this version is bad (a fault is attached). */
  bad: boolean;
  faultKind?: string;
  /** Unplanned change made because of an incident (revert, rollback, hotfix). */
  rework: boolean;
}

export interface DeployStartedEvent extends EventBase {
  type: "deploy.started";
  world: WorldName;
  service: string;
  tier: Tier;
  deployId: string;
  changeId: string;
  version: string;
  previousVersion: string;
  method: "kubectl" | "gitops";
  bad: boolean;
  faultKind?: string;
  rework: boolean;
}

export interface DeployFinishedEvent extends EventBase {
  type: "deploy.finished";
  world: WorldName;
  service: string;
  deployId: string;
  /** succeeded: the version runs in production at 100%; aborted: canary aborted, stable kept. */
  outcome: "succeeded" | "aborted" | "failed" | "superseded";
  /** Weight the version reached (100 for manual deploys). */
  maxWeight: number;
  /** When the abort happened, for aborted canaries: time the analysis started judging. */
  analysisStartedAt?: number;
  reason?: string;
}

export interface IncidentOpenedEvent extends EventBase {
  type: "incident.opened";
  world: WorldName;
  service: string;
  incidentId: string;
  cause: "bad-deploy" | "drift" | "infrastructure";
  /** The deploy that caused it (ground truth), when cause is bad-deploy. */
  deployId?: string;
  detectedBy: "alert" | "human" | "canary";
  /** When the failure began affecting users (ground truth), <= time. */
  impactStartedAt: number;
  severity?: "sev1" | "sev2" | "sev3";
}

export interface IncidentResolvedEvent extends EventBase {
  type: "incident.resolved";
  world: WorldName;
  service: string;
  incidentId: string;
  resolution: "rollback" | "revert" | "canary-abort" | "self-heal" | "hotfix" | "manual-fix";
  /** The deploy that restored service, when one did. */
  restoringDeployId?: string;
}

/** Requests served by a version while it was bad; emitted when its exposure ends. */
export interface ExposureEvent extends EventBase {
  type: "exposure";
  world: WorldName;
  service: string;
  deployId: string;
  /** Requests served by the bad version, and how many of them failed. */
  requests: number;
  failedRequests: number;
  /** Minutes during which the service was out of SLO because of this version. */
  errorBudgetMinutes: number;
  /** Highest traffic share (%) the bad version reached. */
  maxWeight: number;
}

export interface DriftInjectedEvent extends EventBase {
  type: "drift.injected";
  world: WorldName;
  service: string;
  driftId: string;
  kind: "configmap-edit" | "replicas-frozen" | "image-override" | "env-change" | "resource-deleted";
  identity: string;
  allowed: boolean;
  resource: { apiVersion: string; kind: string; namespace: string; name: string };
}

/** Outcome of a drift: detected (by the engine), healed, or still present at the end of the run. */
export interface DriftResolvedEvent extends EventBase {
  type: "drift.resolved";
  world: WorldName;
  service: string;
  driftId: string;
  detected: boolean;
  healed: boolean;
  detectedAt?: number;
  healedAt?: number;
  /** Caused an incident later (e.g. a stale ConfigMap broke the next deploy). */
  causedIncident?: string;
}

export interface CanaryVerdictEvent extends EventBase {
  type: "canary.verdict";
  world: WorldName;
  service: string;
  deployId: string;
  verdict: "promoted" | "aborted" | "paused";
  /** Ground truth of the version judged. */
  bad: boolean;
  /** Metric that decided an abort, and its value. */
  metric?: string;
  value?: number;
  /** ms from analysis start (or canary start) to the verdict. */
  timeToVerdictMs: number;
  weightAtVerdict: number;
}

export interface FaultInjectedEvent extends EventBase {
  type: "fault.injected";
  world: WorldName;
  fault: string;
  service?: string;
  params?: Record<string, unknown>;
  until?: number;
}

export type WorldEvent =
  | RunStartedEvent
  | RunFinishedEvent
  | ChangeCommittedEvent
  | DeployStartedEvent
  | DeployFinishedEvent
  | IncidentOpenedEvent
  | IncidentResolvedEvent
  | ExposureEvent
  | DriftInjectedEvent
  | DriftResolvedEvent
  | CanaryVerdictEvent
  | FaultInjectedEvent;
