/**
 * The KubeClient port. Two adapters implement it with the same semantics and
 * the same errors: HTTP via @kubernetes/client-node (engine/kube/http-client.ts,
 * any kubeconfig) and in-process against the embedded cluster's store
 * (simulator/cluster). One contract suite runs against both.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** Identifies one object. `namespace` is omitted for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

/** Argo CD's resource tracking annotation: `<app>:<group>/<Kind>:<namespace>/<name>`. */
export const TRACKING_ID_ANNOTATION = "argocd.argoproj.io/tracking-id";

/** Field manager both adapters send when a write names none. */
export const DEFAULT_FIELD_MANAGER = "gitops-testbed";

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  /** Server-side field validation: Strict | Warn | Ignore. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
  subresource?: "status" | "scale";
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  gracePeriodSeconds?: number;
  /** Precondition: only delete if the uid (or resourceVersion) still matches. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** For ERROR events, a Status object (see KubeStatus). */
  object: T;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Resume after this resourceVersion; "" or undefined = start now (no initial list replay). */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

export interface WatchHandle {
  stop(): void;
}

/** A Status object as the API server returns it for errors. */
export interface KubeStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: Array<{ type?: string; message?: string; field?: string }>;
    retryAfterSeconds?: number;
  };
  code: number;
}

/** Every adapter throws this for API errors, carrying the server's Status. */
export class KubeApiError extends Error {
  readonly status: KubeStatus;
  constructor(status: KubeStatus) {
    super(status.message);
    this.name = "KubeApiError";
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string {
    return this.status.reason;
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubeApiError && e.status.code === 404;
}
export function isConflict(e: unknown): boolean {
  return e instanceof KubeApiError && e.status.code === 409;
}

/** What discovery says about one resource (enough to map kind <-> plural). */
export interface ApiResourceInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  subresources?: string[];
}

export interface KubeClient {
  /** The identity this client acts as (for audit). */
  readonly identity: string;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T>;
  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts?: ListOptions,
  ): Promise<KubeList<T>>;
  create<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT: optimistic concurrency on metadata.resourceVersion (409 Conflict when stale). */
  replace<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT to the /status subresource: only status changes. */
  replaceStatus<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T>;
  /** Server-side apply (PATCH application/apply-patch+yaml); creates when missing. */
  apply<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T>;
  /** Returns the object when it still exists (finalizers pending), else undefined. */
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<KubeObject | undefined>;
  watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onClose?: (err?: unknown) => void,
  ): Promise<WatchHandle>;
  /** Discovery: every served resource. */
  resources(): Promise<ApiResourceInfo[]>;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function refOf(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name ?? "" };
  if (obj.metadata.namespace !== undefined) ref.namespace = obj.metadata.namespace;
  return ref;
}
