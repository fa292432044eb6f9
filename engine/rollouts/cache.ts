/**
 * Listers for the rollouts controllers: what upstream Argo Rollouts reads from
 * its informers instead of listing the API server on every reconcile.
 *
 * An ObjectCache holds one kind, keyed by namespace/name and indexed by the uid
 * of the owning Rollout. The manager feeds it from a list + watch (see
 * RolloutsManager) and the controllers feed it the responses of their own
 * writes, so the next reconcile sees a just-created ReplicaSet or a
 * just-written status even before its watch event arrives. A write response and
 * a watch event race; the newer resourceVersion wins (when both are integers, as
 * etcd's and the embedded server's are), and a deletion leaves a tombstone so a
 * late write response cannot resurrect the object.
 *
 * Objects read from a cache are shared: treat them as immutable (copy before
 * changing, or patch). `freeze: true` deep-freezes every stored object so that
 * an accidental mutation throws (for tests; it costs a walk per stored object).
 */
import type { AnalysisRun } from "../analysis/types.ts";
import type { KubeObject } from "../kube/types.ts";
import { deepFreeze } from "../kube/json.ts";
import type { ReplicaSet } from "./controller.ts";
import type { Rollout } from "./types.ts";

export interface ObjectCacheOptions {
  /** Deep-freeze stored objects (mutation throws). Default false. */
  freeze?: boolean;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
}

/** The uid of the Rollout that owns `o`, if any. */
function rolloutOwner(o: KubeObject): string | undefined {
  return o.metadata.ownerReferences?.find(
    (r) => r.kind === "Rollout" && r.apiVersion.startsWith("argoproj.io/"),
  )?.uid;
}

/** /^\d+$/ without a regular expression (every watch event and write response is checked). */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** -1, 0, 1 when both are integers; undefined when either is opaque or missing. */
function compareRv(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !isDigits(a) || !isDigits(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class ObjectCache<T extends KubeObject = KubeObject> {
  private readonly byKey = new Map<string, T>();
  private readonly byOwner = new Map<string, Map<string, T>>();
  /** uid and resourceVersion at deletion, per key (a write response of that incarnation is stale). */
  private readonly tombstones = new Map<string, { uid: string | undefined; rv: string | undefined }>();

  constructor(private readonly opts: ObjectCacheOptions = {}) {}

  get size(): number {
    return this.byKey.size;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.byKey.get(`${namespace ?? ""}/${name}`);
  }

  /** Every cached object, in the order first seen. */
  list(): T[] {
    return [...this.byKey.values()];
  }

  /** Objects owned by the Rollout with this uid (a fresh array; the objects are shared). */
  ownedBy(uid: string | undefined): T[] {
    if (uid === undefined) return [];
    const m = this.byOwner.get(uid);
    return m === undefined ? [] : [...m.values()];
  }

  /**
   * Record an object seen in a watch event, a list or a write response. Ignored
   * when the cache already holds a newer resourceVersion of it, or it was deleted at a newer one.
   * Returns whether the cache changed.
   */
  upsert(obj: T): boolean {
    const k = keyOf(obj);
    const rv = obj.metadata.resourceVersion;
    const cur = this.byKey.get(k);
    if (cur !== undefined) {
      const c = compareRv(rv, cur.metadata.resourceVersion);
      if (c !== undefined && c <= 0) return false;
    } else {
      const dead = this.tombstones.get(k);
      if (dead !== undefined) {
        const sameIncarnation = dead.uid === undefined || dead.uid === obj.metadata.uid;
        const c = compareRv(rv, dead.rv);
        if (sameIncarnation && (c === undefined || c <= 0)) return false;
        this.tombstones.delete(k);
      }
    }
    if (this.opts.freeze === true) deepFreeze(obj);
    // the same ownerReferences (a status update shares them) name the same owner
    const sameRefs = cur !== undefined && cur.metadata.ownerReferences === obj.metadata.ownerReferences;
    const owner = rolloutOwner(obj);
    if (cur !== undefined) this.unindex(k, sameRefs ? owner : rolloutOwner(cur));
    this.byKey.set(k, obj);
    if (owner !== undefined) {
      let m = this.byOwner.get(owner);
      if (m === undefined) {
        m = new Map();
        this.byOwner.set(owner, m);
      }
      m.set(k, obj);
    }
    return true;
  }

  /** Make the cache hold exactly `items` (a fresh list); returns the objects it dropped. */
  replace(items: readonly T[]): T[] {
    const keep = new Set(items.map(keyOf));
    const gone = [...this.byKey.entries()].filter(([k]) => !keep.has(k)).map(([, o]) => o);
    for (const o of gone) this.remove(o);
    for (const o of items) this.upsert(o);
    return gone;
  }

  /** Forget a deleted object (watch DELETED, or the controller's own delete). */
  remove(obj: KubeObject): void {
    const k = keyOf(obj);
    const cur = this.byKey.get(k);
    const rv = obj.metadata.resourceVersion;
    // a late DELETED of an older incarnation (same name, recreated since) must not drop the new one
    if (cur !== undefined && cur.metadata.uid !== undefined && obj.metadata.uid !== undefined) {
      if (cur.metadata.uid !== obj.metadata.uid) return;
    }
    if (cur !== undefined) {
      this.unindex(k, rolloutOwner(cur));
      this.byKey.delete(k);
    }
    const newest = compareRv(rv, cur?.metadata.resourceVersion) === -1 ? cur?.metadata.resourceVersion : rv;
    this.tombstones.set(k, { uid: obj.metadata.uid ?? cur?.metadata.uid, rv: newest });
  }

  private unindex(k: string, owner: string | undefined): void {
    if (owner === undefined) return;
    const m = this.byOwner.get(owner);
    m?.delete(k);
    if (m?.size === 0) this.byOwner.delete(owner);
  }
}

/** The caches the Rollout and AnalysisRun controllers read (see RolloutsManager). */
export interface RolloutCaches {
  rollouts: ObjectCache<Rollout>;
  replicaSets: ObjectCache<ReplicaSet>;
  analysisRuns: ObjectCache<AnalysisRun>;
}

export function newRolloutCaches(opts: ObjectCacheOptions = {}): RolloutCaches {
  return {
    rollouts: new ObjectCache<Rollout>(opts),
    replicaSets: new ObjectCache<ReplicaSet>(opts),
    analysisRuns: new ObjectCache<AnalysisRun>(opts),
  };
}
