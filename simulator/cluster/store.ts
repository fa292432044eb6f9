/**
 * The object store: one global resourceVersion counter, objects per resource
 * type keyed by namespace/name, an owner index for garbage collection, and a
 * bounded event history that watches resume from (410 Expired beyond it).
 *
 * Stored objects are deep-frozen when they are stored (a write stores a new
 * object sharing the untouched, already frozen subtrees of the old one), so
 * every reader may be handed the same object and its JSON cached: an attempt
 * to mutate one throws a TypeError instead of corrupting the store.
 */
import { deepFreeze } from "../../engine/kube/json.ts";
import type { KubeObject, WatchEventType } from "../../engine/kube/types.ts";
import type { ResourceType } from "./registry.ts";

export interface Stored {
  readonly obj: KubeObject;
  readonly rv: number;
  /** JSON of `obj`, computed once on first need. */
  json?: string;
}

export interface HistoryRecord {
  readonly rv: number;
  readonly type: Exclude<WatchEventType, "BOOKMARK" | "ERROR">;
  readonly key: string;
  readonly namespace: string;
  readonly stored: Stored;
  /** The object before this change (MODIFIED only): watches with selectors need it. */
  readonly prev?: KubeObject;
}

export type HistoryListener = (r: HistoryRecord) => void;

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

export function storedJson(s: Stored): string {
  if (s.json === undefined) s.json = JSON.stringify(s.obj);
  return s.json;
}

const EMPTY: ReadonlyMap<string, Stored> = new Map();

export class Store {
  private rvCounter = 0;
  private readonly buckets = new Map<string, Map<string, Stored>>();
  /** type key -> namespace -> objects of that namespace (namespaced types only), for namespace lists. */
  private readonly namespaces = new Map<string, Map<string, Map<string, Stored>>>();
  /** owner uid -> "typeKey|objectKey" of dependents */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly history: Array<HistoryRecord | undefined>;
  private historyStart = 0;
  private historyLen = 0;
  /** Listeners of every record, and of one type's records (by type key). */
  private readonly listeners = new Set<HistoryListener>();
  private readonly typeListeners = new Map<string, Set<HistoryListener>>();
  /** Lowest resourceVersion a watch may resume from. */
  private compactedRv = 0;

  constructor(readonly historySize = 10_000) {
    this.history = new Array<HistoryRecord | undefined>(historySize);
  }

  get resourceVersion(): number {
    return this.rvCounter;
  }

  nextRv(): number {
    return ++this.rvCounter;
  }

  bucket(t: ResourceType): Map<string, Stored> {
    let b = this.buckets.get(t.key);
    if (b === undefined) {
      b = new Map();
      this.buckets.set(t.key, b);
    }
    return b;
  }

  dropBucket(t: ResourceType): void {
    this.buckets.delete(t.key);
    this.namespaces.delete(t.key);
  }

  /** The objects of one namespace (keyed "namespace/name" like the bucket); empty when there are none. */
  inNamespace(t: ResourceType, namespace: string): ReadonlyMap<string, Stored> {
    return this.namespaces.get(t.key)?.get(namespace) ?? EMPTY;
  }

  private nsBucket(t: ResourceType, namespace: string): Map<string, Stored> {
    let byNs = this.namespaces.get(t.key);
    if (byNs === undefined) {
      byNs = new Map();
      this.namespaces.set(t.key, byNs);
    }
    let b = byNs.get(namespace);
    if (b === undefined) {
      b = new Map();
      byNs.set(namespace, b);
    }
    return b;
  }

  private dropFromNamespace(t: ResourceType, namespace: string, key: string): void {
    const byNs = this.namespaces.get(t.key);
    const b = byNs?.get(namespace);
    if (b === undefined) return;
    b.delete(key);
    if (b.size === 0) byNs!.delete(namespace);
  }

  get(t: ResourceType, namespace: string | undefined, name: string): Stored | undefined {
    return this.buckets.get(t.key)?.get(objectKey(namespace, name));
  }

  /** Store a new version (its metadata.resourceVersion must already be `rv`) and record the event. */
  put(t: ResourceType, obj: KubeObject, rv: number, prev: Stored | undefined): Stored {
    const s: Stored = { obj: deepFreeze(obj), rv };
    const ns = obj.metadata.namespace;
    const key = objectKey(ns, obj.metadata.name ?? "");
    this.bucket(t).set(key, s);
    if (ns !== undefined && ns !== "") this.nsBucket(t, ns).set(key, s);
    // (a write that left the owner references as they were - the same frozen list - keeps its index entries)
    if (prev === undefined) this.index(t, key, obj);
    else if (prev.obj.metadata.ownerReferences !== obj.metadata.ownerReferences) {
      this.unindex(t, key, prev.obj);
      this.index(t, key, obj);
    }
    this.record(
      prev === undefined
        ? { rv, type: "ADDED", key: t.key, namespace: ns ?? "", stored: s }
        : { rv, type: "MODIFIED", key: t.key, namespace: ns ?? "", stored: s, prev: prev.obj },
    );
    return s;
  }

  /** Remove an object for good; `last` is its final state with a fresh resourceVersion. */
  remove(t: ResourceType, last: KubeObject, rv: number, prev: Stored): void {
    const ns = last.metadata.namespace;
    const key = objectKey(ns, last.metadata.name ?? "");
    this.bucket(t).delete(key);
    if (ns !== undefined && ns !== "") this.dropFromNamespace(t, ns, key);
    this.unindex(t, key, prev.obj);
    this.record({
      rv,
      type: "DELETED",
      key: t.key,
      namespace: last.metadata.namespace ?? "",
      stored: { obj: deepFreeze(last), rv },
    });
  }

  /** Dependents ("typeKey|objectKey") whose ownerReferences name `uid`. */
  dependentsOf(uid: string): string[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  private index(t: ResourceType, key: string, obj: KubeObject): void {
    for (const o of obj.metadata.ownerReferences ?? []) {
      let s = this.dependents.get(o.uid);
      if (s === undefined) {
        s = new Set();
        this.dependents.set(o.uid, s);
      }
      s.add(`${t.key}|${key}`);
    }
  }

  private unindex(t: ResourceType, key: string, obj: KubeObject): void {
    for (const o of obj.metadata.ownerReferences ?? []) {
      const s = this.dependents.get(o.uid);
      if (s === undefined) continue;
      s.delete(`${t.key}|${key}`);
      if (s.size === 0) this.dependents.delete(o.uid);
    }
  }

  private record(r: HistoryRecord): void {
    const size = this.historySize;
    if (this.historyLen === size) {
      const dropped = this.history[this.historyStart];
      if (dropped !== undefined) this.compactedRv = dropped.rv;
      this.history[this.historyStart] = r;
      this.historyStart = (this.historyStart + 1) % size;
    } else {
      this.history[(this.historyStart + this.historyLen) % size] = r;
      this.historyLen++;
    }
    for (const l of this.listeners) l(r);
    const typed = this.typeListeners.get(r.key);
    if (typed !== undefined) for (const l of typed) l(r);
  }

  /**
   * History records after `rv`, or undefined when some of them were already
   * dropped from the window (the caller answers 410 Expired).
   */
  since(rv: number, typeKey?: string): HistoryRecord[] | undefined {
    if (rv < this.compactedRv) return undefined;
    // records are in resourceVersion order: binary search for the first one after rv
    const at = (i: number) => this.history[(this.historyStart + i) % this.historySize]!;
    let lo = 0;
    let hi = this.historyLen;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (at(mid).rv > rv) hi = mid;
      else lo = mid + 1;
    }
    const out: HistoryRecord[] = [];
    for (let i = lo; i < this.historyLen; i++) {
      const r = at(i);
      if (typeKey === undefined || r.key === typeKey) out.push(r);
    }
    return out;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.compactedRv;
  }

  /** Call `l` with every record from now on, or only with the records of type `typeKey`. */
  subscribe(l: HistoryListener, typeKey?: string): () => void {
    if (typeKey === undefined) {
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    }
    let set = this.typeListeners.get(typeKey);
    if (set === undefined) {
      set = new Set();
      this.typeListeners.set(typeKey, set);
    }
    set.add(l);
    return () => {
      set.delete(l);
      if (set.size === 0 && this.typeListeners.get(typeKey) === set) this.typeListeners.delete(typeKey);
    };
  }
}
