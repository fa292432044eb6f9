/**
 * The two pieces every controller here is built from, as in client-go: a
 * shared informer (list, then watch from the list's resourceVersion; a local
 * cache with indexes; re-list on 410 or a closed watch) and a work queue
 * (deduplicated keys, one reconcile per key at a time, delayed re-adds and
 * retry backoff on the injected Clock). No polling: work comes from watch
 * events and from timers for transitions that are due later.
 */
import type { Clock, TimerHandle } from "../../../engine/core/clock.ts";
import {
  isConflict,
  isNotFound,
  KubeApiError,
  type KubeClient,
  type KubeObject,
  type KubeStatus,
  type WatchHandle,
} from "../../../engine/kube/types.ts";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";
export type ChangeHandler<T extends KubeObject> = (type: ChangeType, obj: T, old: T | undefined) => void;

export const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

const rvNum = (o: KubeObject): number => Number(o.metadata.resourceVersion ?? 0) || 0;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly handlers: Array<ChangeHandler<T>> = [];
  /** uids this process deleted whose DELETED event has not arrived: late events must not resurrect them. */
  private readonly tombstones = new Set<string>();
  private readonly indexers = new Map<string, { fn: (o: T) => string[]; idx: Map<string, Set<string>> }>();
  private watch: WatchHandle | undefined;
  private stopped = false;
  private relists = 0;
  /** Bumped on every (re)start: callbacks of an older watch are ignored. */
  private generation = 0;

  constructor(
    private readonly client: KubeClient,
    readonly apiVersion: string,
    readonly kind: string,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
  ) {}

  on(handler: ChangeHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Maintain an index: `fn` gives the index values of an object (e.g. its controller's uid). */
  addIndex(name: string, fn: (o: T) => string[]): void {
    const idx = new Map<string, Set<string>>();
    for (const [k, o] of this.items) for (const v of fn(o)) addTo(idx, v, k);
    this.indexers.set(name, { fn, idx });
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexers.get(name)?.idx.get(value);
    if (keys === undefined) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(`${namespace ?? ""}/${name}`);
  }

  list(): IterableIterator<T> {
    return this.items.values();
  }

  /** List, fill the cache, then watch from the list's resourceVersion. Failures retry with back-off. */
  async start(): Promise<void> {
    try {
      await this.listAndWatch();
      this.relists = 0;
    } catch (e) {
      this.restart(e);
    }
  }

  private async listAndWatch(): Promise<void> {
    const gen = ++this.generation;
    const list = await this.clock.track(this.client.list<T>(this.apiVersion, this.kind));
    if (this.stopped || gen !== this.generation) return;
    this.tombstones.clear();
    const seen = new Set<string>();
    for (const o of list.items) {
      const k = keyOf(o);
      seen.add(k);
      this.set(o);
    }
    for (const [k, o] of [...this.items]) if (!seen.has(k)) this.remove(o);
    this.watch = await this.clock.track(
      this.client.watch<T>(
        this.apiVersion,
        this.kind,
        { resourceVersion: list.metadata.resourceVersion },
        (ev) => {
          if (gen !== this.generation) return;
          if (ev.type === "ADDED" || ev.type === "MODIFIED") this.set(ev.object);
          else if (ev.type === "DELETED") {
            if (ev.object.metadata.uid !== undefined) this.tombstones.delete(ev.object.metadata.uid);
            this.remove(ev.object);
          } else if (ev.type === "ERROR") this.restart(new KubeApiError(ev.object as unknown as KubeStatus));
        },
        (err) => {
          if (gen === this.generation) this.restart(err);
        },
      ),
    );
    if (this.stopped || gen !== this.generation) this.watch.stop();
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    this.generation++;
    const w = this.watch;
    this.watch = undefined;
    w?.stop();
    if (err !== undefined && !(err instanceof KubeApiError && err.code === 410)) this.onError(err);
    // back off a little on repeated failures, re-list at once after an expiry
    const delay =
      err instanceof KubeApiError && err.code === 410 ? 0 : Math.min(1000 * 2 ** this.relists, 30_000);
    this.relists++;
    this.clock.setTimeout(() => {
      if (this.stopped) return;
      void this.start();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    const w = this.watch;
    this.watch = undefined;
    w?.stop();
  }

  /**
   * Record an object this process just wrote (write-through), so the next
   * reconcile sees it before its watch event arrives. Older versions never
   * replace newer ones; handlers still run when the watch event comes.
   */
  set(o: T): void {
    if (o.metadata.uid !== undefined && this.tombstones.has(o.metadata.uid)) return;
    const k = keyOf(o);
    const old = this.items.get(k);
    if (old !== undefined) {
      const cached = rvNum(old);
      const incoming = rvNum(o);
      // an older version arrived after a newer one was written through: someone else's change
      // may have been folded into that write, so wake the handlers up on what is cached
      if (cached > incoming) {
        for (const h of this.handlers) h("MODIFIED", old, old);
        return;
      }
      // the same version again (a write-through and its watch event): handlers already ran
      if (cached === incoming && cached !== 0 && old.metadata.uid === o.metadata.uid) return;
    }
    if (old !== undefined) this.unindex(k, old);
    this.items.set(k, o);
    for (const { fn, idx } of this.indexers.values()) for (const v of fn(o)) addTo(idx, v, k);
    for (const h of this.handlers) h(old === undefined ? "ADDED" : "MODIFIED", o, old);
  }

  /**
   * Forget an object this process just deleted. Until its DELETED event
   * arrives, late events of it are ignored (once that event is in, none can
   * follow, so nothing is remembered).
   */
  forget(o: T): void {
    const uid = o.metadata.uid;
    if (uid !== undefined && this.items.get(keyOf(o))?.metadata.uid === uid) this.tombstones.add(uid);
    this.remove(o);
  }

  /** Forget an object (a DELETED event). */
  remove(o: T): void {
    const k = keyOf(o);
    const old = this.items.get(k);
    if (old === undefined) return;
    if (old.metadata.uid !== undefined && o.metadata.uid !== undefined && old.metadata.uid !== o.metadata.uid)
      return;
    this.unindex(k, old);
    this.items.delete(k);
    for (const h of this.handlers) h("DELETED", old, old);
  }

  private unindex(k: string, o: T): void {
    for (const { fn, idx } of this.indexers.values()) {
      for (const v of fn(o)) {
        const s = idx.get(v);
        s?.delete(k);
        if (s?.size === 0) idx.delete(v);
      }
    }
  }
}

function addTo(idx: Map<string, Set<string>>, v: string, k: string): void {
  let s = idx.get(v);
  if (s === undefined) {
    s = new Set();
    idx.set(v, s);
  }
  s.add(k);
}

/** What a reconcile asks for: run again after `requeueAfterMs` (level-based; events also re-run it). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconciler = (key: string) => Promise<ReconcileResult | undefined>;

/**
 * A deduplicating work queue. A key is reconciled by one run at a time; adds
 * during a run mark it dirty and it runs again afterwards. Adds are batched to
 * the end of the current instant (a zero-delay Clock timer: a virtual clock
 * fires it once the work in flight has settled), so a burst of child changes
 * at one instant - five pods turning Ready together - costs one reconcile and
 * one status write, not five. Failures retry with exponential backoff (1 s
 * doubling to 5 min; Conflict at once after 10 ms); NotFound is the normal end
 * of an object and is not retried.
 */
export class WorkQueue {
  /** Keys waiting for the next flush, in the order they were added. */
  private queued = new Set<string>();
  private flushTimer: TimerHandle | undefined;
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly failures = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly reconcile: Reconciler,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    if (this.flushTimer === undefined) this.flushTimer = this.clock.setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const keys = this.queued;
    this.queued = new Set();
    for (const key of keys) {
      // added again while an earlier run of it is still going: that run re-runs it
      if (this.running.has(key)) this.dirty.add(key);
      else void this.clock.track(this.run(key));
    }
  }

  /** Add `key` after `ms` (an earlier pending add wins). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + Math.max(0, ms);
    const t = this.timers.get(key);
    if (t !== undefined) {
      if (t.at <= at) return;
      this.clock.clearTimeout(t.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, handle });
  }

  private async run(key: string): Promise<void> {
    if (this.stopped) return;
    this.running.add(key);
    try {
      const r = await this.reconcile(key);
      this.failures.delete(key);
      if (r?.requeueAfterMs !== undefined) this.addAfter(key, r.requeueAfterMs);
    } catch (e) {
      if (!isNotFound(e)) {
        const n = this.failures.get(key) ?? 0;
        this.failures.set(key, n + 1);
        if (!isConflict(e)) this.onError(key, e);
        this.addAfter(key, isConflict(e) && n < 5 ? 10 : Math.min(1000 * 2 ** n, 300_000));
      }
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t.handle);
    this.timers.clear();
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queued.clear();
  }
}
