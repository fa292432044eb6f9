/**
 * Informer: a list+watch cache of one kind over the KubeClient port (ClusterCache in
 * ./cluster-cache.ts combines informers for many kinds with the Argo CD tracking index).
 *
 * API:
 *   new Informer<T>(client, {apiVersion, kind, namespace?, labelSelector?}, clock, opts?)
 *     start(): Promise<void> (resolves after the initial list), stop(), hasSynced()
 *     list(): T[] (sorted by namespace/name), get(namespace, name): T | undefined
 *     onEvent(cb: (e: InformerEvent<T>) => void): () => void     add | update {old} | delete
 *     onError(cb: (e: InformerError) => void): () => void         parse | watch | list | expired | handler
 * Behaviour: a watch that closes is resumed from the last resourceVersion after a
 * backoff on the injected clock; 410 Expired (HTTP or in-band ERROR) re-lists and
 * emits the differences as events, so nothing is missed; a malformed watch object
 * is reported (kind "parse") and triggers a re-list. Errors are never swallowed:
 * they go to onError listeners, and when there are none they are thrown from a
 * clock callback (the virtual clock rethrows them from runUntil).
 */
import type { Clock, TimerHandle } from "../core/clock.ts";
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  type KubeStatus,
  type WatchEvent,
  type WatchHandle,
} from "./types.ts";

export interface InformerSpec {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
}

export interface BackoffOptions {
  /** First reconnect delay (default 1 s). */
  initialMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
}

export interface InformerOptions {
  backoff?: BackoffOptions;
  /** Page size for lists (default 500; 0 = unpaged). */
  pageSize?: number;
}

export type InformerEvent<T extends KubeObject = KubeObject> =
  | { type: "add"; object: T }
  | { type: "update"; old: T; object: T }
  | { type: "delete"; object: T };

export interface InformerError {
  kind: "parse" | "watch" | "list" | "expired" | "handler" | "discovery";
  apiVersion: string;
  resourceKind: string;
  message: string;
  cause?: unknown;
}

function keyOfObj(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
}

function is410(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 410;
}

function validObject(o: unknown): o is KubeObject {
  if (typeof o !== "object" || o === null) return false;
  const md = (o as { metadata?: unknown }).metadata;
  return (
    typeof md === "object" &&
    md !== null &&
    typeof (md as { name?: unknown }).name === "string" &&
    typeof (o as { kind?: unknown }).kind === "string"
  );
}

/** Small listener list that reports listener exceptions instead of losing them. */
export class Listeners<A> {
  private readonly fns: Array<(a: A) => void> = [];
  add(fn: (a: A) => void): () => void {
    this.fns.push(fn);
    return () => {
      const i = this.fns.indexOf(fn);
      if (i >= 0) this.fns.splice(i, 1);
    };
  }
  get size(): number {
    return this.fns.length;
  }
  call(a: A, onThrow: (e: unknown) => void): void {
    for (const fn of [...this.fns]) {
      try {
        fn(a);
      } catch (e) {
        onThrow(e);
      }
    }
  }
}

/**
 * Deliver an error to its listeners; with no listener (or a listener that
 * throws) it is thrown from a clock callback so it is never lost (the virtual
 * clock rethrows it from runUntil; a real clock makes it an uncaught error).
 */
export function surface(clock: Clock, listeners: Listeners<InformerError>, err: InformerError): void {
  const raise = (e: unknown) =>
    clock.setTimeout(() => {
      throw e;
    }, 0);
  if (listeners.size === 0) {
    raise(
      new Error(`informer ${err.apiVersion}/${err.resourceKind}: ${err.kind}: ${err.message}`, {
        cause: err.cause,
      }),
    );
    return;
  }
  listeners.call(err, raise);
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  private rv = "";
  private handle: WatchHandle | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private synced = false;
  private attempt = 0;
  private gen = 0;
  private relisting = false;
  private readonly events = new Listeners<InformerEvent<T>>();
  private readonly errors = new Listeners<InformerError>();

  constructor(
    private readonly client: KubeClient,
    readonly spec: InformerSpec,
    private readonly clock: Clock,
    private readonly opts: InformerOptions = {},
  ) {}

  onEvent(cb: (e: InformerEvent<T>) => void): () => void {
    return this.events.add(cb);
  }

  onError(cb: (e: InformerError) => void): () => void {
    return this.errors.add(cb);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Last resourceVersion seen (list, event or bookmark). */
  resourceVersion(): string {
    return this.rv;
  }

  list(): T[] {
    return [...this.store.keys()].sort().map((k) => this.store.get(k)!);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(`${namespace ?? ""}/${name}`);
  }

  /** List, then watch. Resolves once the initial list is in the cache; rejects if that list fails. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.relist(true);
  }

  stop(): void {
    this.running = false;
    this.gen++;
    this.handle?.stop();
    this.handle = undefined;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  // ---- internals ---------------------------------------------------------------------------

  private report(kind: InformerError["kind"], message: string, cause?: unknown): void {
    const err: InformerError = {
      kind,
      apiVersion: this.spec.apiVersion,
      resourceKind: this.spec.kind,
      message,
    };
    if (cause !== undefined) err.cause = cause;
    surface(this.clock, this.errors, err);
  }

  private emit(e: InformerEvent<T>): void {
    this.events.call(e, (err) =>
      this.report("handler", `event handler threw: ${err instanceof Error ? err.message : String(err)}`, err),
    );
  }

  private async listAll(): Promise<{ items: unknown[]; resourceVersion: string }> {
    const items: unknown[] = [];
    const pageSize = this.opts.pageSize ?? 500;
    let cont: string | undefined;
    let rv = "";
    do {
      const opts: Parameters<KubeClient["list"]>[2] = {};
      if (this.spec.namespace !== undefined) opts.namespace = this.spec.namespace;
      if (this.spec.labelSelector !== undefined) opts.labelSelector = this.spec.labelSelector;
      if (pageSize > 0) opts.limit = pageSize;
      if (cont !== undefined) opts.continue = cont;
      const page = await this.client.list(this.spec.apiVersion, this.spec.kind, opts);
      items.push(...page.items);
      rv = page.metadata.resourceVersion;
      cont = page.metadata.continue === "" ? undefined : page.metadata.continue;
    } while (cont !== undefined);
    return { items, resourceVersion: rv };
  }

  /** Re-list and reconcile the cache with what the server has, emitting the differences. */
  private async relist(initial = false): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    this.gen++;
    this.handle?.stop();
    this.handle = undefined;
    try {
      let listed: { items: unknown[]; resourceVersion: string };
      try {
        listed = await this.listAll();
      } catch (e) {
        if (initial) throw e;
        this.report("list", e instanceof Error ? e.message : String(e), e);
        this.retryLater(() => this.relist());
        return;
      }
      if (!this.running) return;
      const seen = new Set<string>();
      for (const raw of listed.items) {
        if (!validObject(raw)) {
          this.report("parse", `list returned an object without kind/metadata.name: ${JSON.stringify(raw)}`);
          continue;
        }
        const obj = { ...raw, apiVersion: raw.apiVersion ?? this.spec.apiVersion } as T;
        const k = keyOfObj(obj);
        seen.add(k);
        const old = this.store.get(k);
        this.store.set(k, obj);
        if (old === undefined) this.emit({ type: "add", object: obj });
        else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
          this.emit({ type: "update", old, object: obj });
        }
      }
      for (const [k, old] of [...this.store]) {
        if (seen.has(k)) continue;
        this.store.delete(k);
        this.emit({ type: "delete", object: old });
      }
      this.rv = listed.resourceVersion;
      this.synced = true;
    } finally {
      this.relisting = false;
    }
    await this.watch();
  }

  private retryLater(fn: () => Promise<void>): void {
    if (!this.running) return;
    const initial = this.opts.backoff?.initialMs ?? 1000;
    const max = this.opts.backoff?.maxMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.attempt);
    this.attempt++;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.background(fn());
    }, delay);
  }

  /**
   * Re-lists and watch retries run in the background, NOT clock.track()ed: their requests may
   * themselves wait on the clock (API latency spent in virtual time), and a virtual clock that
   * waited for them would never advance. In-process requests settle with the microtasks anyway.
   */
  private background(p: Promise<void>): void {
    p.catch((e: unknown) => this.report("watch", e instanceof Error ? e.message : String(e), e));
  }

  private async watch(): Promise<void> {
    if (!this.running) return;
    const gen = ++this.gen;
    const opts: Parameters<KubeClient["watch"]>[2] = { resourceVersion: this.rv, allowWatchBookmarks: true };
    if (this.spec.namespace !== undefined) opts.namespace = this.spec.namespace;
    if (this.spec.labelSelector !== undefined) opts.labelSelector = this.spec.labelSelector;
    try {
      const handle = await this.client.watch<T>(
        this.spec.apiVersion,
        this.spec.kind,
        opts,
        (ev) => this.onWatchEvent(gen, ev),
        (err) => this.onClose(gen, err),
      );
      if (gen === this.gen && this.running) this.handle = handle;
      else handle.stop();
    } catch (e) {
      if (is410(e)) {
        this.report("expired", `resourceVersion ${this.rv} expired, re-listing`, e);
        await this.relist();
        return;
      }
      this.report("watch", e instanceof Error ? e.message : String(e), e);
      this.retryLater(() => this.watch());
    }
  }

  private onClose(gen: number, err: unknown): void {
    if (gen !== this.gen || !this.running) return;
    this.handle = undefined;
    if (is410(err)) {
      this.background(this.relist());
      return;
    }
    if (err !== undefined) {
      this.report("watch", `watch closed: ${err instanceof Error ? err.message : String(err)}`, err);
    } else {
      // A clean close (server timeout) resumes after the initial delay; errors back off further.
      this.attempt = 0;
    }
    this.retryLater(() => this.watch());
  }

  private onWatchEvent(gen: number, ev: WatchEvent<T>): void {
    if (gen !== this.gen || !this.running) return;
    if (ev.type === "ERROR") {
      const status = ev.object as unknown as KubeStatus;
      this.gen++;
      this.handle?.stop();
      this.handle = undefined;
      if (status.code === 410) {
        this.report("expired", `watch expired (${status.message}), re-listing`);
        this.background(this.relist());
      } else {
        this.report("watch", `watch error ${status.code} ${status.reason}: ${status.message}`);
        this.retryLater(() => this.watch());
      }
      return;
    }
    const obj: unknown = ev.object;
    if (ev.type === "BOOKMARK") {
      // a bookmark carries only metadata.resourceVersion: remember it, nothing else changed
      const rv = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
      if (typeof rv === "string") this.rv = rv;
      this.attempt = 0;
      return;
    }
    if (!validObject(obj)) {
      // A dropped event would be missed drift: report it and re-list to recover the state.
      this.report("parse", `malformed ${ev.type} watch event: ${JSON.stringify(obj)}`);
      this.background(this.relist());
      return;
    }
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined) this.rv = rv;
    this.attempt = 0;
    const o = obj as T;
    const k = keyOfObj(o);
    const old = this.store.get(k);
    if (ev.type === "DELETED") {
      // the tombstone: the object as deleted, with the deletion's resourceVersion
      this.store.delete(k);
      this.emit({ type: "delete", object: o });
      return;
    }
    this.store.set(k, o);
    if (old === undefined) this.emit({ type: "add", object: o });
    else this.emit({ type: "update", old, object: o });
  }
}
