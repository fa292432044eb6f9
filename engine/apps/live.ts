/**
 * Live state for the Application controller: list + watch per kind on the
 * KubeClient, a store keyed by object identity and an index by the app named
 * in the tracking annotation. A closed watch re-lists and resumes (a dropped
 * watch event would be missed drift). Changes to status, resourceVersion,
 * generation or managedFields only are reported as `statusOnly`.
 */
import type { Clock } from "../core/clock.ts";
import {
  type KubeClient,
  type KubeObject,
  type ObjectRef,
  splitApiVersion,
  type WatchHandle,
} from "../kube/types.ts";
import { TRACKING_ANNOTATION } from "./types.ts";

export type LiveEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface LiveEvent {
  type: LiveEventType;
  object: KubeObject;
  old: KubeObject | undefined;
  /** Only status / server bookkeeping changed (no reconcile needed for drift). */
  statusOnly: boolean;
}

export function objectKey(group: string, kind: string, namespace: string | undefined, name: string): string {
  return `${group}/${kind}/${namespace ?? ""}/${name}`;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(
    splitApiVersion(obj.apiVersion).group,
    obj.kind,
    obj.metadata.namespace,
    obj.metadata.name ?? "",
  );
}

export function refKey(ref: ObjectRef): string {
  return objectKey(splitApiVersion(ref.apiVersion).group, ref.kind, ref.namespace, ref.name);
}

/** App name from `<app>:<group>/<Kind>:<ns>/<name>`. */
export function trackedApp(obj: KubeObject): string | undefined {
  const id = obj.metadata.annotations?.[TRACKING_ANNOTATION];
  if (id === undefined) return undefined;
  const i = id.indexOf(":");
  return i < 0 ? undefined : id.slice(0, i);
}

function specPart(obj: KubeObject): string {
  const { status: _s, metadata, ...rest } = obj;
  const { resourceVersion: _r, generation: _g, managedFields: _m, ...meta } = metadata;
  return JSON.stringify([rest, meta]);
}

interface KindWatch {
  apiVersion: string;
  kind: string;
  handle?: WatchHandle;
  ready: Promise<void>;
}

export class LiveCache {
  private readonly store = new Map<string, KubeObject>();
  private readonly byApp = new Map<string, Set<string>>();
  private readonly kinds = new Map<string, KindWatch>();
  private readonly listeners: Array<(e: LiveEvent) => void> = [];
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  subscribe(listener: (e: LiveEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Start list+watch for a kind (idempotent); resolves when the initial list is stored. */
  watchKind(apiVersion: string, kind: string): Promise<void> {
    const k = `${apiVersion}/${kind}`;
    const existing = this.kinds.get(k);
    if (existing !== undefined) return existing.ready;
    const w: KindWatch = { apiVersion, kind, ready: Promise.resolve() };
    w.ready = this.listAndWatch(w);
    this.kinds.set(k, w);
    w.ready.catch(() => this.kinds.delete(k));
    return w.ready;
  }

  isWatching(apiVersion: string, kind: string): boolean {
    return this.kinds.has(`${apiVersion}/${kind}`);
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.store.get(refKey(ref));
  }

  getByKey(key: string): KubeObject | undefined {
    return this.store.get(key);
  }

  /** Live objects whose tracking annotation names `app`. */
  managedBy(app: string): KubeObject[] {
    const keys = this.byApp.get(app);
    if (keys === undefined) return [];
    const out: KubeObject[] = [];
    for (const k of keys) {
      const o = this.store.get(k);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  list(apiVersion: string, kind: string): KubeObject[] {
    const group = splitApiVersion(apiVersion).group;
    const prefix = `${group}/${kind}/`;
    const out: KubeObject[] = [];
    for (const [k, o] of this.store) if (k.startsWith(prefix)) out.push(o);
    return out;
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.kinds.values()) w.handle?.stop();
    this.kinds.clear();
  }

  private async listAndWatch(w: KindWatch): Promise<void> {
    const list = await this.client.list(w.apiVersion, w.kind);
    const group = splitApiVersion(w.apiVersion).group;
    const seen = new Set<string>();
    for (const item of list.items) {
      const obj: KubeObject = {
        ...item,
        apiVersion: item.apiVersion ?? w.apiVersion,
        kind: item.kind ?? w.kind,
      };
      seen.add(keyOf(obj));
      this.upsert(obj);
    }
    // objects deleted while the watch was down
    for (const [k, o] of [...this.store]) {
      if (k.startsWith(`${group}/${w.kind}/`) && !seen.has(k)) this.remove(o);
    }
    if (this.stopped) return;
    w.handle = await this.client.watch(
      w.apiVersion,
      w.kind,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
      (ev) => {
        if (ev.type === "ADDED" || ev.type === "MODIFIED") this.upsert(ev.object);
        else if (ev.type === "DELETED") this.remove(ev.object);
      },
      (err) => {
        if (this.stopped) return;
        if (err !== undefined) this.onError(err);
        // resume: re-list (the server may have compacted history) and watch again
        this.clock.setTimeout(
          () => {
            if (this.stopped) return;
            w.ready = this.listAndWatch(w);
            w.ready.catch((e) => this.onError(e));
          },
          err === undefined ? 0 : 1000,
        );
      },
    );
  }

  private index(key: string, obj: KubeObject | undefined, add: boolean): void {
    if (obj === undefined) return;
    const app = trackedApp(obj);
    if (app === undefined) return;
    let set = this.byApp.get(app);
    if (add) {
      if (set === undefined) {
        set = new Set();
        this.byApp.set(app, set);
      }
      set.add(key);
    } else set?.delete(key);
  }

  private upsert(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (old !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.index(key, old, false);
    this.store.set(key, obj);
    this.index(key, obj, true);
    const statusOnly = old !== undefined && specPart(old) === specPart(obj);
    this.fire({ type: old === undefined ? "ADDED" : "MODIFIED", object: obj, old, statusOnly });
  }

  private remove(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (old === undefined) return;
    this.store.delete(key);
    this.index(key, old, false);
    this.fire({ type: "DELETED", object: old, old, statusOnly: false });
  }

  private fire(e: LiveEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
