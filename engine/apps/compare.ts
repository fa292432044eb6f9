/**
 * Compare desired (rendered) objects with live ones: tracking annotation,
 * destination namespace defaulting, per-resource three-way diff (engine/diff)
 * with ignoreDifferences, health (engine/health), extraneous tracked objects
 * (OutOfSync, requires pruning). Pure given its inputs.
 */
import { diff } from "../diff/index.ts";
import type { HealthRegistry } from "../health/registry.ts";
import { appHealth } from "../health/registry.ts";
import type { HealthStatus } from "../health/types.ts";
import { type KubeObject, splitApiVersion } from "../kube/types.ts";
import type { FieldChange } from "./events.ts";
import { keyOf, sameExceptStatus } from "../kube/cluster-cache.ts";
import { jsonEqual } from "../kube/json.ts";
import type { IgnoreDifference, ResourceStatus, SyncStatusCode } from "./types.ts";
import { TRACKING_ANNOTATION } from "./types.ts";

export const HOOK_ANNOTATION = "argocd.argoproj.io/hook";
export const HELM_HOOK_ANNOTATION = "helm.sh/hook";
export const COMPARE_OPTIONS_ANNOTATION = "argocd.argoproj.io/compare-options";

const CLUSTER_SCOPED = new Set([
  "/Namespace",
  "/Node",
  "/PersistentVolume",
  "/ComponentStatus",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "storage.k8s.io/StorageClass",
  "scheduling.k8s.io/PriorityClass",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "apiregistration.k8s.io/APIService",
  "networking.k8s.io/IngressClass",
]);

/** group/Kind -> namespaced, from discovery; falls back to a list of well-known cluster-scoped kinds. */
export type ScopeLookup = (group: string, kind: string) => boolean;

export function defaultScope(group: string, kind: string): boolean {
  return !CLUSTER_SCOPED.has(`${group}/${kind}`);
}

export function trackingId(app: string, obj: KubeObject): string {
  const { group } = splitApiVersion(obj.apiVersion);
  return `${app}:${group}/${obj.kind}:${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}

export function isHook(obj: KubeObject): boolean {
  const a = obj.metadata.annotations ?? {};
  return a[HOOK_ANNOTATION] !== undefined || a[HELM_HOOK_ANNOTATION] !== undefined;
}

/** Prepare rendered objects for an app: default namespace on namespaced kinds, tracking annotation. */
export function prepareDesired(
  app: string,
  objects: KubeObject[],
  destNamespace: string | undefined,
  namespaced: ScopeLookup,
): KubeObject[] {
  return objects.map((o) => {
    const { group } = splitApiVersion(o.apiVersion);
    const metadata = { ...o.metadata };
    if (namespaced(group, o.kind)) {
      if (metadata.namespace === undefined || metadata.namespace === "") {
        if (destNamespace !== undefined && destNamespace !== "") metadata.namespace = destNamespace;
      }
    } else delete metadata.namespace;
    const out: KubeObject = { ...o, metadata };
    metadata.annotations = { ...(o.metadata.annotations ?? {}), [TRACKING_ANNOTATION]: trackingId(app, out) };
    return out;
  });
}

export interface ComparedResource {
  key: string;
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  desired: KubeObject | undefined;
  live: KubeObject | undefined;
  status: SyncStatusCode;
  hook: boolean;
  requiresPruning: boolean;
  health: HealthStatus | undefined;
  /** Drifted fields: old = Git, new = live. */
  changes: FieldChange[];
}

export interface Comparison {
  resources: ComparedResource[];
  status: SyncStatusCode;
  health: HealthStatus;
}

function pointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((t, i) =>
      /^\d+$/.test(t) ? `[${t}]` : /^[A-Za-z_][\w-]*$/.test(t) ? (i === 0 ? t : `.${t}`) : `["${t}"]`,
    )
    .join("");
}

interface ResourceDiff {
  desired: KubeObject;
  live: KubeObject;
  ignore: string;
  manager: string;
  status: SyncStatusCode;
  changes: FieldChange[];
}

/**
 * The tuple mainOwnership reads of one frozen managedFields entry: a status write renews its own
 * entry, the others stay the same objects, and equal tuples then compare by identity.
 */
const OWNERSHIP = new WeakMap<object, unknown[]>();

/** What the diff reads of managedFields: who owns which fields of the main resource. */
function mainOwnership(obj: KubeObject): unknown[] {
  const out: unknown[] = [];
  for (const e of obj.metadata.managedFields ?? []) {
    if (e.subresource !== undefined && e.subresource !== "") continue;
    let t = OWNERSHIP.get(e);
    if (t === undefined) {
      t = [e.manager, e.operation, e.apiVersion, e.fieldsV1];
      if (Object.isFrozen(e)) OWNERSHIP.set(e, t);
    }
    out.push(t);
  }
  return out;
}

/** Two versions of a live object the diff cannot tell apart (status, resourceVersion, times aside). */
function sameForDiff(a: KubeObject, b: KubeObject): boolean {
  return a === b || (sameExceptStatus(a, b) && jsonEqual(mainOwnership(a), mainOwnership(b)));
}

/**
 * Memo of per-resource diffs and health for compareApp. Cached live objects are immutable (a change
 * is a new object), so the same desired object, the same live object (or a version differing only in
 * status and server bookkeeping) and the same options give the same diff: a comparison re-diffs only
 * the resources whose spec changed. Health is memoized per live object.
 */
export class CompareMemo {
  private readonly diffs = new Map<string, ResourceDiff>();
  private readonly healths = new WeakMap<KubeObject, HealthStatus | undefined>();

  constructor(readonly health: HealthRegistry) {}

  healthOf(live: KubeObject): HealthStatus | undefined {
    if (this.healths.has(live)) return this.healths.get(live);
    const h = this.health.health(live);
    this.healths.set(live, h);
    return h;
  }

  diffOf(
    key: string,
    d: KubeObject,
    l: KubeObject,
    opts: { ignoreDifferences?: IgnoreDifference[]; manager: string },
    ignore: string,
  ): ResourceDiff {
    const hit = this.diffs.get(key);
    if (
      hit !== undefined &&
      hit.desired === d &&
      hit.ignore === ignore &&
      hit.manager === opts.manager &&
      sameForDiff(hit.live, l)
    ) {
      if (hit.live !== l) this.diffs.set(key, { ...hit, live: l });
      return hit;
    }
    const r = diff(d, l, {
      manager: opts.manager,
      ...(opts.ignoreDifferences ? { ignoreDifferences: opts.ignoreDifferences } : {}),
    });
    const out: ResourceDiff = {
      desired: d,
      live: l,
      ignore,
      manager: opts.manager,
      status: r.modified ? "OutOfSync" : "Synced",
      changes: r.modified
        ? r.changes.map((c) => ({ path: pointerToPath(c.path), old: c.new, new: c.old }))
        : [],
    };
    this.diffs.set(key, out);
    return out;
  }
}

export function compareApp(
  desired: KubeObject[],
  live: KubeObject[],
  opts: {
    ignoreDifferences?: IgnoreDifference[];
    health: HealthRegistry;
    manager: string;
    memo?: CompareMemo;
  },
): Comparison {
  const memo = opts.memo?.health === opts.health ? opts.memo : new CompareMemo(opts.health);
  const ignore = opts.ignoreDifferences === undefined ? "" : JSON.stringify(opts.ignoreDifferences);
  const resources: ComparedResource[] = [];
  const seen = new Set<string>();
  const liveByKey = new Map<string, KubeObject>();
  for (const l of live) liveByKey.set(keyOf(l), l);
  for (const d of desired) {
    const key = keyOf(d);
    seen.add(key);
    const l = liveByKey.get(key);
    const { group, version } = splitApiVersion(d.apiVersion);
    const hook = isHook(d);
    let status: SyncStatusCode = "Synced";
    let changes: FieldChange[] = [];
    if (!hook) {
      if (l === undefined) status = "OutOfSync";
      else ({ status, changes } = memo.diffOf(key, d, l, opts, ignore));
    }
    resources.push({
      key,
      group,
      version,
      kind: d.kind,
      namespace: d.metadata.namespace ?? "",
      name: d.metadata.name ?? "",
      desired: d,
      live: l,
      status,
      hook,
      requiresPruning: false,
      health: hook ? undefined : l === undefined ? { status: "Missing" } : memo.healthOf(l),
      changes,
    });
  }
  for (const [key, l] of liveByKey) {
    if (seen.has(key) || l.metadata.ownerReferences?.some((r) => r.controller === true)) continue;
    const ignoreExtraneous = (l.metadata.annotations?.[COMPARE_OPTIONS_ANNOTATION] ?? "").includes(
      "IgnoreExtraneous",
    );
    const { group, version } = splitApiVersion(l.apiVersion);
    resources.push({
      key,
      group,
      version,
      kind: l.kind,
      namespace: l.metadata.namespace ?? "",
      name: l.metadata.name ?? "",
      desired: undefined,
      live: l,
      status: ignoreExtraneous ? "Synced" : "OutOfSync",
      hook: isHook(l),
      requiresPruning: !ignoreExtraneous,
      health: memo.healthOf(l),
      changes: [],
    });
  }
  resources.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const nonHook = resources.filter((r) => !r.hook);
  const status: SyncStatusCode = nonHook.some((r) => r.status === "OutOfSync") ? "OutOfSync" : "Synced";
  const health = appHealth(nonHook.filter((r) => !r.requiresPruning).map((r) => r.health));
  return { resources, status, health };
}

export function resourceStatuses(c: Comparison): ResourceStatus[] {
  return c.resources
    .filter((r) => !r.hook)
    .map((r) => {
      const s: ResourceStatus = {
        group: r.group,
        version: r.version,
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        status: r.status,
      };
      if (r.health !== undefined)
        s.health = r.health.message !== undefined ? { ...r.health } : { status: r.health.status };
      if (r.requiresPruning) s.requiresPruning = true;
      return s;
    });
}
