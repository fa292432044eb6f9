/**
 * RolloutsManager: runs the Rollout and AnalysisRun controllers against any
 * KubeClient. List + watch keeps Rollouts, ReplicaSets and
 * AnalysisRuns in caches indexed by owning Rollout, which the controllers read
 * instead of listing the API server on every reconcile (upstream's listers);
 * a change enqueues the owning Rollout (and the run itself); each reconcile's
 * requeueAfter is scheduled on the injected clock. Works the same in virtual
 * time (in-process client) and live mode (HTTP client, real clock).
 */
import { AnalysisRunController } from "../analysis/controller.ts";
import type { AnalysisEvent } from "../analysis/events.ts";
import type { MetricsProvider } from "../analysis/provider.ts";
import { ARGO_API_VERSION } from "../analysis/types.ts";
import { WorkQueue } from "../apps/queue.ts";
import type { Clock } from "../core/clock.ts";
import { type EventSink, NULL_SINK } from "../core/events.ts";
import type { TrafficRouter } from "../core/traffic-router.ts";
import { withClientGoRetries } from "../kube/retry.ts";
import type { KubeClient, KubeObject, WatchHandle } from "../kube/types.ts";
import { type ObjectCache, type RolloutCaches, newRolloutCaches } from "./cache.ts";
import { RolloutController, SUPERSEDED_LABEL } from "./controller.ts";
import type { RolloutEvent } from "./events.ts";
import { type EventRecorder, KubeEventRecorder } from "./recorder.ts";

export interface RolloutsManagerOptions {
  client: KubeClient;
  clock: Clock;
  provider: MetricsProvider;
  trafficRouter?: TrafficRouter;
  events?: EventSink<RolloutEvent | AnalysisEvent>;
  /** Kubernetes Events; default: core/v1 Event objects through `client`. */
  recorder?: EventRecorder;
  /** Only manage objects in this namespace (default: all). */
  namespace?: string;
  /** Parallel reconciles per queue (default 10). */
  workers?: number;
  /** Failed reconciles and failed re-lists. */
  onError?: (e: unknown, where: string) => void;
  /** Deep-freeze cached objects so that a controller mutating one throws (tests). */
  freezeCache?: boolean;
}

export class RolloutsManager {
  readonly rollouts: RolloutController;
  readonly analysis: AnalysisRunController;
  private readonly roQueue: WorkQueue;
  private readonly arQueue: WorkQueue;
  private readonly watches: WatchHandle[] = [];
  /** What the watches have seen plus the controllers' own writes. */
  readonly caches: RolloutCaches;
  /** Last seen phase of each AnalysisRun. */
  private readonly runPhases = new Map<string, string>();
  /**
   * resourceVersion of the last write to each object by each controller: `ro|Kind/ns/name` for the
   * Rollout controller's writes, `ar|AnalysisRun/ns/name` for the AnalysisRun controller's (one entry
   * per object, dropped when it is deleted).
   */
  private readonly written = new Map<string, string | undefined>();
  /** Per `ro|key` / `ar|key` being reconciled: updates seen meanwhile ([writer|object, rv]), decided afterwards. */
  private readonly inflight = new Map<string, Array<[string, string | undefined]>>();
  private stopped = false;
  /** False until every kind is listed: reconciles wait for complete caches. */
  private synced = false;
  /** Reconciles run (for benchmarks). */
  reconciles = 0;
  private readonly opts: RolloutsManagerOptions;

  constructor(options: RolloutsManagerOptions) {
    // Argo Rollouts talks to the API through client-go, which waits out 429s (and 5xx) carrying Retry-After
    const opts = { ...options, client: withClientGoRetries(options.client, options.clock) };
    this.opts = opts;
    const events = opts.events ?? NULL_SINK;
    const recorder = opts.recorder ?? new KubeEventRecorder(opts.client, opts.clock);
    this.caches = newRolloutCaches({ freeze: opts.freezeCache === true });
    const rolloutOpts: ConstructorParameters<typeof RolloutController>[0] = {
      client: opts.client,
      clock: opts.clock,
      events: events as EventSink<RolloutEvent>,
      recorder,
      caches: this.caches,
      onWrite: (obj) => this.written.set(`ro|${objectId(obj)}`, obj.metadata.resourceVersion),
    };
    if (opts.trafficRouter !== undefined) rolloutOpts.trafficRouter = opts.trafficRouter;
    this.rollouts = new RolloutController(rolloutOpts);
    this.analysis = new AnalysisRunController({
      client: opts.client,
      clock: opts.clock,
      provider: opts.provider,
      runs: {
        get: (namespace, name) => this.caches.analysisRuns.get(namespace, name),
        upsert: (run) => {
          this.written.set(`ar|${objectId(run)}`, run.metadata.resourceVersion);
          return this.caches.analysisRuns.upsert(run);
        },
      },
      events: events as EventSink<AnalysisEvent>,
      record: (obj, type, reason, message) => recorder.record(obj, type, reason, message),
    });
    const onError = opts.onError ?? (() => {});
    const workers = opts.workers ?? 10;
    this.roQueue = new WorkQueue(
      opts.clock,
      workers,
      (k) => this.run(k, "ro"),
      (k, e) => onError(e, `rollout ${k}`),
    );
    this.arQueue = new WorkQueue(
      opts.clock,
      workers,
      (k) => this.run(k, "ar"),
      (k, e) => onError(e, `analysisrun ${k}`),
    );
  }

  private async run(key: string, which: "ro" | "ar"): Promise<void> {
    if (this.stopped) return;
    const slash = key.indexOf("/");
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    this.reconciles++;
    const queue = which === "ro" ? this.roQueue : this.arQueue;
    const flight = `${which}|${key}`;
    const seen: Array<[string, string | undefined]> = [];
    this.inflight.set(flight, seen);
    try {
      const res =
        which === "ro" ? await this.rollouts.reconcile(ns, name) : await this.analysis.reconcile(ns, name);
      if (res.requeueAfterMs !== undefined) queue.addAfter(key, res.requeueAfterMs);
    } catch (e) {
      queue.addAfter(key, 1000);
      throw e;
    } finally {
      this.inflight.delete(flight);
      // changes seen while reconciling: the reconcile's own writes need no second look, others do
      let again = false;
      for (const [w, rv] of seen) if (this.written.get(w) !== rv) again = true;
      if (again) queue.add(key);
    }
  }

  /**
   * Enqueue `key` on a queue for a change, unless the change is the version a write of that queue's
   * own controller returned (`changed`: the updated object): the reconcile that
   * wrote it has taken it into account (upstream re-runs it; it would find nothing to do). While
   * `key` is being reconciled, the decision waits for the reconcile's end, by which its writes'
   * responses are known.
   */
  private enqueueFor(which: "ro" | "ar", key: string, changed: KubeObject | undefined): void {
    const queue = which === "ro" ? this.roQueue : this.arQueue;
    if (changed === undefined) {
      queue.add(key);
      return;
    }
    const w = `${which}|${objectId(changed)}`;
    const rv = changed.metadata.resourceVersion;
    if (rv !== undefined && this.written.get(w) === rv) return;
    const seen = this.inflight.get(`${which}|${key}`);
    if (seen !== undefined) seen.push([w, rv]);
    else queue.add(key);
  }

  private ownerKey(obj: KubeObject): string | undefined {
    const o = obj.metadata.ownerReferences?.find(
      (r) => r.kind === "Rollout" && r.apiVersion.startsWith("argoproj.io/"),
    );
    return o === undefined ? undefined : `${obj.metadata.namespace}/${o.name}`;
  }

  /** Enqueue a Rollout for reconcile (e.g. after an operator verb). */
  enqueue(namespace: string, name: string): void {
    this.roQueue.add(`${namespace}/${name}`);
  }

  /** Enqueue what a change concerns; `modified`: an update (not an add, delete or list). */
  private onObject(kind: string, obj: KubeObject, deleted = false, modified = false): void {
    if (!this.synced) return; // start() enqueues everything once all caches are filled
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const changed = modified ? obj : undefined;
    if (deleted) {
      this.written.delete(`ro|${objectId(obj)}`);
      this.written.delete(`ar|${objectId(obj)}`);
    }
    if (kind === "Rollout") {
      this.enqueueFor("ro", key, changed);
      return;
    }
    if (kind === "AnalysisRun") {
      this.enqueueFor("ar", key, changed);
      // a Rollout only reads a run's phase: skip the owner when only measurements changed
      const phase = `${(obj as { status?: { phase?: string } }).status?.phase ?? ""}/${obj.metadata.labels?.[SUPERSEDED_LABEL] ?? ""}`;
      if (deleted) this.runPhases.delete(key);
      else if (this.runPhases.get(key) === phase) return;
      else this.runPhases.set(key, phase);
    }
    const owner = this.ownerKey(obj);
    if (owner !== undefined) this.enqueueFor("ro", owner, changed);
  }

  /**
   * List, then watch from the list's resourceVersion, keeping `cache` equal to the server's
   * state; a closed watch is re-established from a fresh list, so no change is missed.
   * A near-copy of engine/kube's Informer, kept for now because the two report failures
   * differently: the Informer reports a dropped watch as an error and not each failed re-list,
   * while this reports each failed re-list once (manager.test.ts "a dropped watch is re-listed").
   * Moving onto the Informer otherwise works (the threaded-vs-one-thread determinism failure that
   * stopped it was the git I/O race clock.io() fixed); fold it once the reporting is aligned.
   */
  private async watchKind<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    cache: ObjectCache<T>,
  ): Promise<void> {
    const { client, namespace } = this.opts;
    const list = await client.list<T>(apiVersion, kind, namespace === undefined ? {} : { namespace });
    for (const gone of cache.replace(list.items)) this.onObject(kind, gone, true);
    for (const o of list.items) this.onObject(kind, o);
    const handle = await client.watch<T>(
      apiVersion,
      kind,
      { ...(namespace === undefined ? {} : { namespace }), resourceVersion: list.metadata.resourceVersion },
      (ev) => {
        if (ev.type === "ADDED" || ev.type === "MODIFIED") cache.upsert(ev.object);
        else if (ev.type === "DELETED") cache.remove(ev.object);
        else return;
        this.onObject(kind, ev.object, ev.type === "DELETED", ev.type === "MODIFIED");
      },
      () => this.rewatch(apiVersion, kind, cache, 0),
    );
    if (this.stopped) handle.stop();
    else this.watches.push(handle);
  }

  /** Re-list and watch again after a closed watch; a failed re-list is reported and retried (1 s doubling to 30 s). */
  private rewatch<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    cache: ObjectCache<T>,
    attempt: number,
  ): void {
    if (this.stopped) return;
    void this.watchKind(apiVersion, kind, cache).catch((e: unknown) => {
      this.opts.onError?.(e, `watch ${kind}`);
      const delay = Math.min(30_000, 1000 * 2 ** attempt);
      this.opts.clock.setTimeout(() => this.rewatch(apiVersion, kind, cache, attempt + 1), delay);
    });
  }

  async start(): Promise<void> {
    await this.watchKind(ARGO_API_VERSION, "Rollout", this.caches.rollouts);
    await this.watchKind("apps/v1", "ReplicaSet", this.caches.replicaSets);
    await this.watchKind(ARGO_API_VERSION, "AnalysisRun", this.caches.analysisRuns);
    this.synced = true;
    for (const r of this.caches.rollouts.list()) this.onObject("Rollout", r);
    for (const r of this.caches.analysisRuns.list()) this.onObject("AnalysisRun", r);
  }

  /** Resolves when no reconcile is queued or running (delayed requeues excluded). */
  async idle(): Promise<void> {
    for (;;) {
      await this.roQueue.idle();
      await this.arQueue.idle();
      if (this.roQueue.length === 0 && this.arQueue.length === 0) return;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.stop();
    this.watches.length = 0;
    this.roQueue.stop();
    this.arQueue.stop();
  }
}

/** `Kind/namespace/name` of an object. */
function objectId(obj: KubeObject): string {
  return `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
}
