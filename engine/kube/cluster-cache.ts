/**
 * ClusterCache: one list+watch Informer per kind (engine/kube/informer.ts), an
 * index of live objects by the app named in the Argo CD tracking annotation
 * (`argocd.argoproj.io/tracking-id: <app>:<group>/<Kind>:<ns>/<name>`), and the
 * app-relevant changes, as upstream's cluster cache feeds the application controller.
 *
 * API:
 *   new ClusterCache(client, clock, {kinds?, namespace?, exclude?, health?, backoff?})
 *     start()                   discovery, then list+watch the kinds; resolves when every initial list is cached
 *     watchKind(apiVersion, kind) add a kind later (idempotent); resolves when its list is cached
 *     isWatching(apiVersion, kind), watchedKinds(), isNamespaced(group, kind), resource(group, kind)
 *     objectsOf(app), appVersion(app), apps(), get(ref), all(), stop()
 *     onAppChange(cb)  created | deleted (with the tombstone: the object as deleted, its resourceVersion
 *                      that of the deletion) | tracking | spec | health (status-only changes are
 *                      reported only when the object's health status changed, as upstream's
 *                      skipResourceUpdate); objects are indexed by their group/kind/namespace/name
 *     onEvent(cb)      every informer event of every kind (e.g. the Applications themselves)
 *     onError(cb)      list | watch | parse | expired | handler | discovery
 * Cached objects are shared, never copied: callers must not mutate them.
 */
import type { Clock } from "../core/clock.ts";
import { defaultHealthRegistry, type HealthRegistry } from "../health/registry.ts";
import {
  type BackoffOptions,
  Informer,
  type InformerError,
  type InformerEvent,
  type InformerOptions,
  type InformerSpec,
  Listeners,
  surface,
} from "./informer.ts";
import { jsonEqualExcept } from "./json.ts";
import {
  type ApiResourceInfo,
  type KubeClient,
  type KubeObject,
  type ObjectRef,
  splitApiVersion,
  TRACKING_ID_ANNOTATION,
} from "./types.ts";

export interface ClusterCacheOptions {
  /** Kinds to watch from the start; default: every listable kind from discovery minus `exclude`. */
  kinds?: Array<{ apiVersion: string; kind: string }>;
  namespace?: string;
  /** Kinds to skip from discovery (default: Events, Leases, Endpoints, EndpointSlices). */
  exclude?: (r: ApiResourceInfo) => boolean;
  health?: HealthRegistry;
  backoff?: BackoffOptions;
}

export type AppChangeReason = "created" | "deleted" | "spec" | "health" | "tracking";

export interface AppChange {
  app: string;
  type: "add" | "update" | "delete";
  reason: AppChangeReason;
  /** The object now; for a delete, the tombstone (last state, resourceVersion of the deletion). */
  object: KubeObject;
  old?: KubeObject;
  /** `group/Kind/namespace/name` of the object. */
  key: string;
}

export interface ClusterCacheEvent {
  apiVersion: string;
  kind: string;
  event: InformerEvent;
}

const DEFAULT_EXCLUDE = (r: ApiResourceInfo): boolean =>
  r.kind === "Event" || r.kind === "Lease" || r.kind === "Endpoints" || r.kind === "EndpointSlice";

/** `group/Kind/namespace/name`: the identity objects are indexed and compared by. */
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

/** The app named by a valid tracking id that matches the object's own identity, else undefined. */
export function trackedApp(obj: KubeObject): string | undefined {
  const id = obj.metadata.annotations?.[TRACKING_ID_ANNOTATION];
  if (id === undefined) return undefined;
  const colon = id.indexOf(":");
  if (colon <= 0) return undefined;
  const { group } = splitApiVersion(obj.apiVersion);
  const expected = `${group}/${obj.kind}:${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
  return id.length === colon + 1 + expected.length && id.endsWith(expected) ? id.slice(0, colon) : undefined;
}

const TOP_BOOKKEEPING: ReadonlySet<string> = new Set(["status", "metadata"]);
const META_BOOKKEEPING: ReadonlySet<string> = new Set(["resourceVersion", "generation", "managedFields"]);

/**
 * Whether two versions of an object differ only in status and server bookkeeping
 * (metadata.resourceVersion, generation, managedFields).
 */
export function sameExceptStatus(a: KubeObject, b: KubeObject): boolean {
  if (a === b) return true;
  return (
    jsonEqualExcept(a, b, TOP_BOOKKEEPING) &&
    jsonEqualExcept(a.metadata ?? {}, b.metadata ?? {}, META_BOOKKEEPING)
  );
}

function groupKind(apiVersion: string, kind: string): string {
  return `${splitApiVersion(apiVersion).group}/${kind}`;
}

interface Watched {
  informer: Informer;
  ready: Promise<void>;
}

export class ClusterCache {
  private readonly watched = new Map<string, Watched>();
  private readonly byApp = new Map<string, Map<string, KubeObject>>();
  private readonly versions = new Map<string, number>();
  private seq = 0;
  private readonly discovered = new Map<string, ApiResourceInfo>();
  private readonly appListeners = new Listeners<AppChange>();
  private readonly eventListeners = new Listeners<ClusterCacheEvent>();
  private readonly errorListeners = new Listeners<InformerError>();
  private readonly health: HealthRegistry;
  private readonly healthCache = new WeakMap<KubeObject, string | undefined>();
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly opts: ClusterCacheOptions = {},
  ) {
    this.health = opts.health ?? defaultHealthRegistry;
  }

  onAppChange(cb: (c: AppChange) => void): () => void {
    return this.appListeners.add(cb);
  }
  onEvent(cb: (e: ClusterCacheEvent) => void): () => void {
    return this.eventListeners.add(cb);
  }
  onError(cb: (e: InformerError) => void): () => void {
    return this.errorListeners.add(cb);
  }

  /**
   * Discover kinds, then list+watch the configured ones (every discovered kind minus `exclude` when
   * none are configured); resolves when every initial list is cached. A kind whose initial list fails
   * is skipped and reported (kind "list"). A failed discovery is reported (kind "discovery") when
   * kinds are configured, and rejects otherwise.
   */
  async start(): Promise<void> {
    this.stopped = false;
    let resources: ApiResourceInfo[] = [];
    try {
      resources = await this.client.resources();
    } catch (e) {
      if (this.opts.kinds === undefined) throw e;
      this.report("discovery", "", "", `discovery failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    for (const r of resources) this.discovered.set(`${r.group}/${r.kind}`, r);
    const exclude = this.opts.exclude ?? DEFAULT_EXCLUDE;
    const kinds =
      this.opts.kinds ??
      resources
        .filter((r) => !exclude(r))
        .map((r) => ({ apiVersion: r.group === "" ? r.version : `${r.group}/${r.version}`, kind: r.kind }));
    await Promise.all(kinds.map((k) => this.watchKind(k.apiVersion, k.kind).catch(() => undefined)));
  }

  /**
   * List+watch one more kind (idempotent per group/kind). Resolves once its initial list is cached;
   * if that list fails (403, unknown kind) the kind is dropped, the error reported (kind "list") and
   * the promise rejects, so a later call tries again.
   */
  watchKind(apiVersion: string, kind: string): Promise<void> {
    const gk = groupKind(apiVersion, kind);
    const existing = this.watched.get(gk);
    if (existing !== undefined) return existing.ready;
    const spec: InformerSpec = { apiVersion, kind };
    if (this.opts.namespace !== undefined) spec.namespace = this.opts.namespace;
    const informerOpts: InformerOptions = {};
    if (this.opts.backoff !== undefined) informerOpts.backoff = this.opts.backoff;
    const informer = new Informer(this.client, spec, this.clock, informerOpts);
    informer.onError((e) => surface(this.clock, this.errorListeners, e));
    informer.onEvent((ev) => this.handle(apiVersion, kind, ev));
    const ready = informer.start().catch((e: unknown) => {
      informer.stop();
      if (this.watched.get(gk)?.informer === informer) this.watched.delete(gk);
      this.report(
        "list",
        apiVersion,
        kind,
        `not watching ${apiVersion}/${kind}: ${e instanceof Error ? e.message : String(e)}`,
        e,
      );
      throw e;
    });
    this.watched.set(gk, { informer, ready });
    return ready;
  }

  /** Whether the kind's initial list is cached (and it is watched). */
  isWatching(apiVersion: string, kind: string): boolean {
    return this.watched.get(groupKind(apiVersion, kind))?.informer.hasSynced() === true;
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watched.values()) w.informer.stop();
    this.watched.clear();
  }

  watchedKinds(): Array<{ apiVersion: string; kind: string }> {
    return [...this.watched.values()]
      .filter((w) => w.informer.hasSynced())
      .map((w) => ({ apiVersion: w.informer.spec.apiVersion, kind: w.informer.spec.kind }));
  }

  /** Namespaced according to discovery (undefined when the kind is unknown). */
  isNamespaced(group: string, kind: string): boolean | undefined {
    return this.discovered.get(`${group}/${kind}`)?.namespaced;
  }

  /** The discovery record of a kind (undefined when unknown or discovery failed). */
  resource(group: string, kind: string): ApiResourceInfo | undefined {
    return this.discovered.get(`${group}/${kind}`);
  }

  /** Live objects whose tracking id names `app`, sorted by group/kind/namespace/name. */
  objectsOf(app: string): KubeObject[] {
    const m = this.byApp.get(app);
    if (m === undefined) return [];
    return [...m.keys()].sort().map((k) => m.get(k)!);
  }

  /**
   * A number that changes whenever any object tracked by `app` is added, changed (status included)
   * or deleted: equal values mean `objectsOf(app)` returns the same objects.
   */
  appVersion(app: string): number {
    return this.versions.get(app) ?? 0;
  }

  apps(): string[] {
    return [...this.byApp.keys()].sort();
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.watched.get(groupKind(ref.apiVersion, ref.kind))?.informer.get(ref.namespace, ref.name);
  }

  all(): KubeObject[] {
    return [...this.watched.values()].flatMap((w) => w.informer.list());
  }

  // ---- internals ---------------------------------------------------------------------------

  private report(
    kind: InformerError["kind"],
    apiVersion: string,
    resourceKind: string,
    message: string,
    cause?: unknown,
  ): void {
    const err: InformerError = { kind, apiVersion, resourceKind, message };
    if (cause !== undefined) err.cause = cause;
    surface(this.clock, this.errorListeners, err);
  }

  private healthOf(obj: KubeObject): string | undefined {
    if (this.healthCache.has(obj)) return this.healthCache.get(obj);
    const h = this.health.health(obj)?.status;
    this.healthCache.set(obj, h);
    return h;
  }

  private index(app: string | undefined, key: string, obj: KubeObject, remove: boolean): void {
    if (app === undefined) return;
    this.versions.set(app, ++this.seq);
    let m = this.byApp.get(app);
    if (remove) {
      m?.delete(key);
      if (m?.size === 0) this.byApp.delete(app);
      return;
    }
    if (m === undefined) {
      m = new Map();
      this.byApp.set(app, m);
    }
    m.set(key, obj);
  }

  private tell(c: AppChange): void {
    this.appListeners.call(c, (e) =>
      this.report(
        "handler",
        c.object.apiVersion,
        c.object.kind,
        `app change handler threw: ${e instanceof Error ? e.message : String(e)}`,
        e,
      ),
    );
  }

  private handle(apiVersion: string, kind: string, ev: InformerEvent): void {
    if (this.stopped) return;
    if (this.eventListeners.size > 0) {
      this.eventListeners.call({ apiVersion, kind, event: ev }, (e) =>
        this.report(
          "handler",
          apiVersion,
          kind,
          `event handler threw: ${e instanceof Error ? e.message : String(e)}`,
          e,
        ),
      );
    }
    const key = keyOf(ev.object);
    if (ev.type === "add" || ev.type === "delete") {
      const app = trackedApp(ev.object);
      const remove = ev.type === "delete";
      this.index(app, key, ev.object, remove);
      if (app !== undefined)
        this.tell({ app, type: ev.type, reason: remove ? "deleted" : "created", object: ev.object, key });
      return;
    }
    const before = trackedApp(ev.old);
    const after = trackedApp(ev.object);
    if (before !== after) {
      this.index(before, key, ev.old, true);
      this.index(after, key, ev.object, false);
      if (before !== undefined)
        this.tell({ app: before, type: "delete", reason: "tracking", object: ev.object, old: ev.old, key });
      if (after !== undefined)
        this.tell({ app: after, type: "add", reason: "tracking", object: ev.object, old: ev.old, key });
      return;
    }
    if (after === undefined) return;
    this.index(after, key, ev.object, false);
    let reason: AppChangeReason | undefined;
    if (!sameExceptStatus(ev.old, ev.object)) reason = "spec";
    else if (this.healthOf(ev.old) !== this.healthOf(ev.object)) reason = "health";
    if (reason !== undefined)
      this.tell({ app: after, type: "update", reason, object: ev.object, old: ev.old, key });
  }
}
