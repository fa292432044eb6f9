/**
 * Sync vocabulary (gitops-engine pkg/sync/common/types.go): phases and
 * statuses as string unions, with isCompleted / isSuccessful helpers.
 */
import type { KubeObject } from "../kube/types.ts";

export const HOOK_ANNOTATION = "argocd.argoproj.io/hook";
export const HOOK_DELETE_POLICY_ANNOTATION = "argocd.argoproj.io/hook-delete-policy";
export const SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave";
export const SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options";

/** Phase of a sync operation. */
export type OperationPhase = "Running" | "Succeeded" | "Failed" | "Error" | "Terminating";

export function isCompleted(p: OperationPhase): boolean {
  return p === "Succeeded" || p === "Failed" || p === "Error";
}
export function isSuccessful(p: OperationPhase): boolean {
  return p === "Succeeded";
}

/** Phase of the sync a resource belongs to. */
export type SyncPhase = "PreSync" | "Sync" | "PostSync" | "SyncFail";
export const SYNC_PHASES: readonly SyncPhase[] = ["PreSync", "Sync", "PostSync", "SyncFail"];

export type HookType = SyncPhase | "Skip";
export type HookDeletePolicy = "HookSucceeded" | "HookFailed" | "BeforeHookCreation";

/** Phase of one hook (like a Job's): Running until its health says otherwise. */
export type HookPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Error" | "Terminating";

export function isHookCompleted(p: HookPhase): boolean {
  return p === "Succeeded" || p === "Failed" || p === "Error";
}

/** Result status of one resource in a sync (Argo CD syncResult.resources[].status). */
export type ResultCode = "Synced" | "SyncFailed" | "Pruned" | "PruneSkipped";

/** What the plan decided for one resource. */
export type SyncAction = "create" | "update" | "prune" | "skip" | "pruneSkip" | "hook";

export interface ResourceKey {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface SyncTask extends ResourceKey {
  apiVersion: string;
  action: SyncAction;
  phase: SyncPhase;
  /** Sync wave used for ordering (for prunes: the reversed / PruneLast-adjusted wave). */
  wave: number;
  /** Desired object to apply (tracking annotation added); undefined for prunes. */
  target?: KubeObject;
  /** Live object at planning time. */
  live?: KubeObject;
  hookType?: HookType;
  hookDeletePolicies?: HookDeletePolicy[];
  /** PUT instead of apply (Replace=true). */
  replace?: boolean;
  /** Per-resource ServerSideApply sync option; undefined = the plan's default. */
  serverSideApply?: boolean;
  /** Why the task is skipped / prune-skipped ("ignored (requires pruning)"). */
  message?: string;
  /** True for the Namespace created by CreateNamespace=true. */
  autoCreatedNamespace?: boolean;
}

export interface SyncResource extends ResourceKey {
  status: ResultCode;
  message: string;
  syncPhase: SyncPhase;
  hookPhase?: HookPhase;
  hookType?: HookType;
}

export interface SyncOperationState {
  phase: OperationPhase;
  message: string;
  resources: SyncResource[];
  startedAt: number;
  finishedAt?: number;
}

/** Backoff as in Application spec.syncPolicy.retry.backoff (durations as ms). */
export interface Backoff {
  durationMs: number;
  factor: number;
  maxDurationMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { durationMs: 5_000, factor: 2, maxDurationMs: 180_000 };

/** Delay before retry number `attempt` (1-based): duration * factor^(attempt-1), capped at maxDuration. */
export function retryDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(backoff.maxDurationMs, backoff.durationMs * backoff.factor ** (n - 1));
}
