/**
 * The object store: one global resourceVersion counter, objects per resource
 * type keyed by namespace/name, an owner index for garbage collection, and a
 * bounded event history that watches resume from (410 Expired beyond it).
 *
 * Stored objects are never mutated after they are stored: every write stores
 * a new object, so readers may share them and cache their JSON.
 */
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

export class Store {
  private rvCounter = 0;
  private readonly buckets = new Map<string, Map<string, Stored>>();
  /** owner uid -> "typeKey|objectKey" of dependents */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly history: Array<HistoryRecord | undefined>;
  private historyStart = 0;
  private historyLen = 0;
  private readonly listeners = new Set<HistoryListener>();
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
  }

  get(t: ResourceType, namespace: string | undefined, name: string): Stored | undefined {
    return this.buckets.get(t.key)?.get(objectKey(namespace, name));
  }

  /** Store a new version (its metadata.resourceVersion must already be `rv`) and record the event. */
  put(t: ResourceType, obj: KubeObject, rv: number, prev: Stored | undefined): Stored {
    const s: Stored = { obj, rv };
    const key = objectKey(obj.metadata.namespace, obj.metadata.name ?? "");
    this.bucket(t).set(key, s);
    if (prev !== undefined) this.unindex(t, key, prev.obj);
    this.index(t, key, obj);
    this.record({
      rv,
      type: prev === undefined ? "ADDED" : "MODIFIED",
      key: t.key,
      namespace: obj.metadata.namespace ?? "",
      stored: s,
      ...(prev === undefined ? {} : { prev: prev.obj }),
    });
    return s;
  }

  /** Remove an object for good; `last` is its final state with a fresh resourceVersion. */
  remove(t: ResourceType, last: KubeObject, rv: number, prev: Stored): void {
    const key = objectKey(last.metadata.namespace, last.metadata.name ?? "");
    this.bucket(t).delete(key);
    this.unindex(t, key, prev.obj);
    this.record({
      rv,
      type: "DELETED",
      key: t.key,
      namespace: last.metadata.namespace ?? "",
      stored: { obj: last, rv },
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
  }

  /**
   * History records after `rv`, or undefined when some of them were already
   * dropped from the window (the caller answers 410 Expired).
   */
  since(rv: number): HistoryRecord[] | undefined {
    if (rv < this.compactedRv) return undefined;
    const out: HistoryRecord[] = [];
    for (let i = 0; i < this.historyLen; i++) {
      const r = this.history[(this.historyStart + i) % this.historySize]!;
      if (r.rv > rv) out.push(r);
    }
    return out;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.compactedRv;
  }

  subscribe(l: HistoryListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
