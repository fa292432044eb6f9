/** Argo CD `argoproj.io/v1alpha1 Application` as the controller reads and writes it. */
import type { IgnoreDifference } from "../diff/ignore.ts";
import type { HealthStatusCode } from "../health/types.ts";
import type { KubeObject } from "../kube/types.ts";
import type { DirectorySourceOptions, HelmSourceOptions, KustomizeSourceOptions } from "../render/types.ts";

export const APP_API_VERSION = "argoproj.io/v1alpha1";
export const APP_KIND = "Application";
export { TRACKING_ANNOTATION } from "../diff/normalize.ts";
export const INSTANCE_LABEL = "app.kubernetes.io/instance";
export const REFRESH_ANNOTATION = "argocd.argoproj.io/refresh";

export interface ApplicationSource {
  repoURL: string;
  path?: string;
  targetRevision?: string;
  chart?: string;
  ref?: string;
  helm?: HelmSourceOptions & { valuesObject?: Record<string, unknown> };
  kustomize?: KustomizeSourceOptions;
  directory?: DirectorySourceOptions;
}

export interface RetryStrategy {
  limit?: number;
  backoff?: { duration?: string; factor?: number; maxDuration?: string };
}

export interface SyncPolicy {
  automated?: { prune?: boolean; selfHeal?: boolean; allowEmpty?: boolean; enabled?: boolean };
  syncOptions?: string[];
  retry?: RetryStrategy;
}

/** spec.ignoreDifferences[] entries (engine/diff implements them). */
export type { IgnoreDifference };

export interface ApplicationSpec {
  project?: string;
  source?: ApplicationSource;
  sources?: ApplicationSource[];
  destination?: { server?: string; name?: string; namespace?: string };
  syncPolicy?: SyncPolicy;
  ignoreDifferences?: IgnoreDifference[];
  revisionHistoryLimit?: number;
}

export type SyncStatusCode = "Synced" | "OutOfSync" | "Unknown";
export type OperationPhase = "Running" | "Succeeded" | "Failed" | "Error" | "Terminating";
export type ResultCode = "Synced" | "SyncFailed" | "Pruned" | "PruneSkipped";

export interface ResourceResult {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: ResultCode;
  message: string;
  hookPhase?: string;
  syncPhase: "PreSync" | "Sync" | "PostSync" | "SyncFail";
  hookType?: string;
}

export interface SyncOperationSpec {
  revision?: string;
  prune?: boolean;
  dryRun?: boolean;
  resources?: Array<{ group?: string; kind: string; name: string; namespace?: string }>;
  syncOptions?: string[];
  /** Self-heal attempts at this revision, this one included (upstream SelfHealAttemptsCount). */
  autoHealAttemptsCount?: number;
}

export interface OperationState {
  operation: {
    sync: SyncOperationSpec;
    initiatedBy: { username?: string; automated?: boolean };
    retry?: RetryStrategy;
  };
  phase: OperationPhase;
  message: string;
  syncResult?: { revision: string; resources: ResourceResult[]; source?: ApplicationSource };
  startedAt: string;
  finishedAt?: string;
  retryCount?: number;
}

export interface HistoryEntry {
  id: number;
  revision: string;
  deployStartedAt: string;
  deployedAt: string;
  source?: ApplicationSource;
  initiatedBy: { username?: string; automated?: boolean };
}

export interface AppCondition {
  type: string;
  message: string;
  lastTransitionTime?: string;
}

export interface ResourceStatus {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: SyncStatusCode;
  health?: { status: HealthStatusCode; message?: string };
  hook?: boolean;
  requiresPruning?: boolean;
}

export interface ApplicationStatus {
  sync?: {
    status: SyncStatusCode;
    revision?: string;
    comparedTo?: { source?: ApplicationSource; destination?: unknown };
  };
  health?: { status: HealthStatusCode; message?: string };
  operationState?: OperationState;
  history?: HistoryEntry[];
  conditions?: AppCondition[];
  reconciledAt?: string;
  resources?: ResourceStatus[];
  summary?: { images?: string[]; externalURLs?: string[] };
  sourceType?: string;
}

export interface Application extends KubeObject {
  spec: ApplicationSpec;
  status?: ApplicationStatus;
  operation?: { sync?: SyncOperationSpec; initiatedBy?: { username?: string; automated?: boolean } };
}

/** How a deploy or refresh was triggered (audit trail). */
export type Trigger = "automated" | "webhook" | "poll" | "selfHeal" | "manual" | "watch" | "create";
