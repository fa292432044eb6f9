/**
 * Typed events of the Application controller (the audit trail). Every deploy
 * is traceable: app, revision, commit author and reviewer, trigger, time,
 * resources changed; every drift: fields, writer identity, detection and heal.
 */
import type { EventBase } from "../core/events.ts";
import type { HealthStatusCode } from "../health/types.ts";
import type { OperationPhase, ResultCode, Trigger } from "./types.ts";

export interface ResourceId {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface FieldChange {
  /** JSON path like `spec.replicas` or `data.LOG_LEVEL`. */
  path: string;
  /** Value in Git (desired). */
  old: unknown;
  /** Value found live. */
  new: unknown;
}

export interface CommitRef {
  revision: string;
  author?: string;
  reviewer?: string;
  committedAt?: number;
  subject?: string;
}

export interface SyncStartedEvent extends EventBase, CommitRef {
  type: "sync.started";
  app: string;
  trigger: Trigger;
  operationId: number;
  selfHeal: boolean;
  resources: ResourceId[];
}

export interface SyncFinishedEvent extends EventBase, CommitRef {
  type: "sync.finished";
  app: string;
  trigger: Trigger;
  operationId: number;
  phase: OperationPhase;
  message: string;
  startedAt: number;
  selfHeal: boolean;
  dryRun: boolean;
  /** Resources the sync changed (applied, created or pruned). */
  changed: Array<ResourceId & { status: ResultCode }>;
  retryCount: number;
}

export interface DriftDetectedEvent extends EventBase {
  type: "drift.detected";
  app: string;
  resource: ResourceId;
  revision: string;
  /** Drifted fields (empty when the resource was deleted). */
  changes: FieldChange[];
  /** The resource was deleted from the cluster (Argo CD: OutOfSync, health Missing). */
  deleted?: true;
  /** Identity that last wrote (for a deletion: deleted) the object (from the AuditLookup or managedFields), when known. */
  identity?: string;
  fieldManager?: string;
  /** When the drifting write happened (ms), when known. */
  writtenAt?: number;
}

export interface DriftHealedEvent extends EventBase {
  type: "drift.healed";
  app: string;
  resource: ResourceId;
  revision: string;
  detectedAt: number;
  /** "selfHeal" when the controller reverted it, "manual" when a sync did, "external" when it went back by itself. */
  by: "selfHeal" | "sync" | "external";
}

export interface AppHealthChangedEvent extends EventBase {
  type: "app.health.changed";
  app: string;
  from: HealthStatusCode | undefined;
  to: HealthStatusCode;
  message?: string;
}

export interface AppConditionEvent extends EventBase {
  type: "app.condition";
  app: string;
  conditionType: string;
  message: string;
  /** false when the condition cleared. */
  active: boolean;
}

export type AppEvent =
  | SyncStartedEvent
  | SyncFinishedEvent
  | DriftDetectedEvent
  | DriftHealedEvent
  | AppHealthChangedEvent
  | AppConditionEvent;
