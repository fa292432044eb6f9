/**
 * The Application controller (Argo CD application-controller semantics).
 *
 * Contract of reconcile(appKey) (controller-runtime style, level based):
 * - reads the Application from the watch cache; gone -> forget it, {}.
 * - invalid spec -> InvalidSpecError condition, sync Unknown, {} (other apps unaffected).
 * - a pending refresh (new app, poll, webhook, manual) resolves the revision in Git and renders
 *   (manifests cached by revision, path and source params); otherwise it compares against the
 *   last compared revision without touching Git (watch events on managed objects).
 * - render / Git errors -> ComparisonError condition, sync Unknown; the app is retried at the next poll.
 * - compares, reports drift, decides auto-sync / self-heal (returns {requeueAfter} while a
 *   self-heal backoff is pending), writes status through the /status subresource when it changed.
 * Operations (syncs) run on their own queue (operation processors) and requeue the app when done.
 */
import type { Clock } from "../core/clock.ts";
import { rfc3339 } from "../core/clock.ts";
import { GtbError, isGtbError } from "../core/errors.ts";
import type { EventBase, EventSink } from "../core/events.ts";
import type { Rng } from "../core/rng.ts";
import { HealthRegistry } from "../health/registry.ts";
import type { HealthStatusCode } from "../health/types.ts";
import {
  type AppChange,
  ClusterCache,
  type ClusterCacheEvent,
  objectKey,
  sameExceptStatus,
} from "../kube/cluster-cache.ts";
import { deepFreeze, jsonEqualExcept, mergePatchDelta } from "../kube/json.ts";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import { type RendererSet, selectRenderer } from "../render/select.ts";
import type { RenderedManifest } from "../render/types.ts";
import { Poller } from "../source/poller.ts";
import type { CommitInfo, GitSource } from "../source/types.ts";
import {
  filesUnder,
  MANIFEST_GENERATE_PATHS,
  refMatches,
  refreshPrefixes,
  sameRepoURL,
  targetRef,
} from "../source/webhook.ts";
import type { AuditLookup } from "./audit.ts";
import { lastWriterFromManagedFields } from "./audit.ts";
import { retryDelayMs, retryLimit, selfHealDelayMs } from "./backoff.ts";
import {
  type ComparedResource,
  type Comparison,
  CompareMemo,
  compareApp,
  defaultScope,
  prepareDesired,
  resourceStatuses,
  type ScopeLookup,
} from "./compare.ts";
import type { AppEvent, CommitRef, ResourceId } from "./events.ts";
import { executeSync, type SyncOutcome } from "./operation.ts";
import { WorkQueue } from "./queue.ts";
import {
  APP_API_VERSION,
  APP_KIND,
  type AppCondition,
  type Application,
  type ApplicationSource,
  type ApplicationStatus,
  type HistoryEntry,
  type OperationState,
  REFRESH_ANNOTATION,
  type ResourceStatus,
  type SyncOperationSpec,
  type SyncStatusCode,
  type Trigger,
} from "./types.ts";
import { sourceKey, validateApplication } from "./validate.ts";

export const DEFAULT_NAMESPACE = "argocd";
const RECONCILED_AT: ReadonlySet<string> = new Set(["reconciledAt"]);
export const DEFAULT_FIELD_MANAGER = "argocd-controller";

/**
 * Kinds listed before the first reconcile (so objects that left Git are still seen after a restart);
 * the kinds an app's manifests name are added when it is first compared.
 */
const DEFAULT_WATCHED: Array<{ apiVersion: string; kind: string }> = [
  { apiVersion: APP_API_VERSION, kind: APP_KIND },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
  { apiVersion: "apps/v1", kind: "DaemonSet" },
  { apiVersion: "batch/v1", kind: "Job" },
];

export interface AppControllerOptions {
  client: KubeClient;
  clock: Clock;
  rng: Rng;
  events: EventSink<EventBase>;
  source: GitSource;
  renderers: RendererSet;
  /** Namespace the Applications live in (default argocd). */
  namespace?: string;
  auditLookup?: AuditLookup;
  /** Poll interval (default 120 s) and jitter (default 60 s). */
  pollIntervalMs?: number;
  pollJitterMs?: number;
  statusProcessors?: number;
  operationProcessors?: number;
  health?: HealthRegistry;
  fieldManager?: string;
  selfHealBackoff?: { baseMs?: number; factor?: number; capMs?: number };
  /** Called after each status write (notifications). */
  onStatus?: (app: Application) => void;
  /** Called when an Application disappears. */
  onDeleted?: (app: Application) => void;
  /** Internal errors (watch failures, unexpected exceptions). */
  onError?: (e: unknown, context: string) => void;
}

interface Compared {
  revision: string;
  revisions: string[];
  commit: CommitRef;
  sources: ApplicationSource[];
  desired: KubeObject[];
  /** What `desired` was made from (revisions, sources, destination): equal keys, equal objects. */
  desiredKey: string;
  /** The same without the revisions, and each source's render: equal renders, equal objects. */
  inputsKey: string;
  renders: RenderedManifest[][];
  /** The kinds `desired` names (watched before comparing). */
  kinds: Array<{ apiVersion: string; kind: string }>;
  sourceType: string;
}

/** A render of one source at one revision, with the renderer that made it. */
interface Rendered {
  manifests: RenderedManifest[];
  sourceType: string;
}

/** The inputs of the last comparison: the same inputs give the same comparison. */
interface CompareInputs {
  desired: KubeObject[];
  liveVersion: number;
  ignoreDifferences: unknown;
}

interface RunningOp {
  id: number;
  spec: SyncOperationSpec;
  trigger: Trigger;
  selfHeal: boolean;
  initiatedBy: { username?: string; automated?: boolean };
  startedAt: number;
  retryCount: number;
  revision: string;
  retryAt?: number;
  lastMessage: string;
  /** Resource keys the op targets (undefined = all). */
  only: Set<string> | undefined;
  /** Keys of the resources that differed from Git when the op started (what it changes). */
  outOfSync: Set<string>;
}

interface LastOp {
  revision: string;
  phase: OperationState["phase"];
  message: string;
  finishedAt: number;
  selfHeal: boolean;
  state: OperationState;
}

interface AppRuntime {
  name: string;
  app: Application | undefined;
  refresh: Trigger | undefined;
  hard: boolean;
  compared: Compared | undefined;
  /** How the compared revision was discovered (audit: webhook / poll / manual / create). */
  revisionTrigger: Trigger;
  comparison: Comparison | undefined;
  op: RunningOp | undefined;
  lastOp: LastOp | undefined;
  selfHealAttempts: number;
  selfHealRevision: string | undefined;
  history: HistoryEntry[];
  /** status.history as last written: a frozen copy of `history`, made again when it changes. */
  historyCopy: readonly HistoryEntry[] | undefined;
  /** status.sync.comparedTo as last written (frozen), kept while its source and destination are. */
  comparedTo: { source: ApplicationSource; destination: unknown } | undefined;
  conditions: Map<string, string>;
  drifts: Map<string, { detectedAt: number; revision: string }>;
  /**
   * Objects changed (spec, creation, tracking) or deleted since the last comparison, by key: the
   * object as that change left it (a deletion's tombstone), so drift names the write that made it
   * rather than a later status update.
   */
  watchTriggered: Map<string, KubeObject>;
  /**
   * Per-resource sync status as the Application's status recorded it when this controller first saw
   * it (before a restart), and the revision it was compared to: the first comparison reports what
   * drifted from it while no controller was watching.
   */
  recorded: { revision: string; statuses: Map<string, SyncStatusCode> } | undefined;
  compareInputs: CompareInputs | undefined;
  health: HealthStatusCode | undefined;
  /** The status last written (reconciledAt aside, an unchanged status is not written again). */
  lastStatus: ApplicationStatus | undefined;
  reconciledAt: number | undefined;
  opSeq: number;
  /** What a push is matched against, made from the spec and annotation it was made for. */
  pushMatch: PushMatch | undefined;
  /** Creation order among the runtimes (the order of the apps map). */
  seq: number;
  /**
   * While a sync applies its resources: the clock time it started applying, and whether a tracked
   * object changed at that same instant (that refresh waits for the sync's end; see onAppChange).
   */
  applying: { at: number; changed: boolean } | undefined;
}

interface PushMatch {
  spec: unknown;
  annotation: string | undefined;
  /** `ref`: the target revision as targetRef() gives it. */
  sources: Array<{ repoURL: unknown; ref: string; prefixes: string[] | undefined }>;
}

/** An app's sources as a push is matched against them (made again when the spec or annotation changes). */
function pushMatcher(rt: AppRuntime, app: Application): PushMatch["sources"] {
  const annotation = app.metadata.annotations?.[MANIFEST_GENERATE_PATHS];
  const m = rt.pushMatch;
  if (m !== undefined && m.spec === app.spec && m.annotation === annotation) return m.sources;
  const sources = validateApplication(app).sources.map((s) => ({
    repoURL: s.repoURL,
    ref: targetRef(s.targetRevision ?? "HEAD"),
    prefixes: refreshPrefixes(annotation, s.path ?? ""),
  }));
  rt.pushMatch = { spec: app.spec, annotation, sources };
  return sources;
}

function errMessage(e: unknown): string {
  if (isGtbError(e)) return `${e.message}${e.location() !== undefined ? ` (${e.location()})` : ""}`;
  return e instanceof Error ? e.message : String(e);
}

function resourceId(r: { group: string; kind: string; namespace: string; name: string }): ResourceId {
  return { group: r.group, kind: r.kind, namespace: r.namespace, name: r.name };
}

export class AppController {
  readonly namespace: string;
  readonly fieldManager: string;
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly events: EventSink<EventBase>;
  private readonly health: HealthRegistry;
  private readonly cache: ClusterCache;
  private readonly apps = new Map<string, AppRuntime>();
  private readonly statusQueue: WorkQueue;
  private readonly opQueue: WorkQueue;
  private readonly poller: Poller;
  private readonly renderCache = new Map<string, Promise<Rendered>>();
  private readonly commitCache = new Map<string, Promise<CommitRef>>();
  private readonly compareMemo: CompareMemo;
  private readonly statusPartsMemo = new WeakMap<
    Comparison,
    { resources: ResourceStatus[]; summary: ApplicationStatus["summary"] }
  >();
  /** The images a live object names (objects from the watch cache are immutable: one walk each). */
  /** Images named by a live object, or by one of its top-level members (a spec outlives status updates). */
  private readonly imagesMemo = new WeakMap<object, readonly string[]>();
  /** Frozen status lists found equal to the Application's (mergePatchDelta's `same`). */
  private readonly sameLists = new WeakMap<object, unknown>();
  private runtimeSeq = 0;
  private scope: ScopeLookup = defaultScope;
  private statusSubresource = true;
  private unsubscribe: Array<() => void> = [];
  private started = false;
  /** Reconciles run (steady-state throughput figure). */
  reconciles = 0;
  /** Comparisons computed (a reconcile whose inputs did not change reuses the last one). */
  comparisons = 0;

  constructor(private readonly opts: AppControllerOptions) {
    this.client = opts.client;
    this.clock = opts.clock;
    this.events = opts.events;
    this.namespace = opts.namespace ?? DEFAULT_NAMESPACE;
    this.fieldManager = opts.fieldManager ?? DEFAULT_FIELD_MANAGER;
    this.health = opts.health ?? new HealthRegistry();
    this.compareMemo = new CompareMemo(this.health);
    const onError = opts.onError ?? (() => {});
    this.cache = new ClusterCache(opts.client, opts.clock, { kinds: DEFAULT_WATCHED, health: this.health });
    this.statusQueue = new WorkQueue(
      opts.clock,
      opts.statusProcessors ?? 20,
      (k) => this.reconcileAndRequeue(k),
      (k, e) => onError(e, `reconcile ${k}`),
    );
    // held until the caches are listed: the first comparisons run against the listed state
    this.statusQueue.pause();
    this.opQueue = new WorkQueue(
      opts.clock,
      opts.operationProcessors ?? 10,
      (k) => this.processOperation(k),
      (k, e) => onError(e, `operation ${k}`),
    );
    const pollOpts: ConstructorParameters<typeof Poller>[0] = {
      clock: opts.clock,
      rng: opts.rng.fork("app-poller"),
      onPoll: (k) => this.requestRefresh(k, "poll"),
    };
    if (opts.pollIntervalMs !== undefined) pollOpts.intervalMs = opts.pollIntervalMs;
    if (opts.pollJitterMs !== undefined) pollOpts.jitterMs = opts.pollJitterMs;
    this.poller = new Poller(pollOpts);
  }

  /** Watch Applications and the default kinds; resolves once the initial lists are cached. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const cache = this.cache;
    this.unsubscribe = [
      cache.onError((e) =>
        this.opts.onError?.(
          new Error(`${e.apiVersion}/${e.resourceKind}: ${e.message}`, { cause: e.cause }),
          e.kind === "discovery" ? "discovery" : "watch",
        ),
      ),
      cache.onEvent((e) => this.onClusterEvent(e)),
      cache.onAppChange((c) => this.onAppChange(c)),
    ];
    // Argo CD's initial full refresh: list everything, then compare every app against that state
    await cache.start();
    if (!cache.isWatching(APP_API_VERSION, APP_KIND)) await cache.watchKind(APP_API_VERSION, APP_KIND);
    this.scope = (g, k) => cache.isNamespaced(g, k) ?? defaultScope(g, k);
    // Argo CD's own CRD has no status subresource: the controller then patches the object itself.
    const appResource = cache.resource("argoproj.io", APP_KIND);
    if (appResource !== undefined)
      this.statusSubresource = appResource.subresources?.includes("status") === true;
    this.statusQueue.resume();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.cache.stop();
    this.statusQueue.stop();
    this.opQueue.stop();
    this.poller.stop();
    this.started = false;
  }

  /** Resolves when no reconcile or operation is queued or running (delayed work excluded). */
  async idle(): Promise<void> {
    for (;;) {
      await this.statusQueue.idle();
      await this.opQueue.idle();
      if (this.statusQueue.length === 0 && this.opQueue.length === 0) return;
    }
  }

  /** Names of known Applications. */
  appNames(): string[] {
    return [...this.apps.keys()].sort();
  }

  /** The last status written (or computed) for an app. */
  application(name: string): Application | undefined {
    return this.apps.get(name)?.app;
  }

  // ---- public APIs -------------------------------------------------------------------------

  /** Ask for a refresh (Git revision resolution + render + compare) of one app. */
  refresh(name: string, opts: { hard?: boolean } = {}): void {
    this.requestRefresh(name, "manual", opts.hard === true);
  }

  /**
   * The apps a push can concern, by the repository paths their manifest-generate-paths name (apps
   * without the annotation concern every push): a push to one chart of a 200-app monorepo looks at
   * the apps of that chart, not at all 200. Made again after an app came, went, or changed its spec
   * or annotation.
   */
  private pushIndex: { byPrefix: Map<string, AppRuntime[]>; anyPath: AppRuntime[] } | undefined;

  private appsForFiles(files: readonly string[]): AppRuntime[] {
    let index = this.pushIndex;
    if (index === undefined) {
      index = { byPrefix: new Map(), anyPath: [] };
      for (const rt of this.apps.values()) {
        if (rt.app === undefined) continue;
        for (const s of pushMatcher(rt, rt.app)) {
          if (s.prefixes === undefined) index.anyPath.push(rt);
          else
            for (const p of s.prefixes) {
              const list = index.byPrefix.get(p);
              if (list === undefined) index.byPrefix.set(p, [rt]);
              else list.push(rt);
            }
        }
      }
      this.pushIndex = index;
    }
    const found = new Set<AppRuntime>(index.anyPath);
    for (const f of files) {
      // f itself and each directory above it, up to the root ("")
      for (let end = f.length; end >= 0; end = end === 0 ? -1 : Math.max(0, f.lastIndexOf("/", end - 1))) {
        for (const rt of index.byPrefix.get(f.slice(0, end)) ?? []) found.add(rt);
      }
    }
    // in the order of the apps (the order refreshes are queued in)
    return [...found].sort((a, b) => a.seq - b.seq);
  }

  /** Webhook target: refresh apps whose source matches the push; returns their names. */
  onPush(push: {
    repoURLs: string[];
    revision: string;
    touchedHead: boolean;
    changedFiles?: string[];
  }): string[] {
    const out: string[] = [];
    // apps mostly share a few repositories: match each repoURL once per push
    const repoHit = new Map<string, boolean>();
    const sameRepo = (url: unknown): boolean => {
      if (typeof url !== "string") return false;
      let hit = repoHit.get(url);
      if (hit === undefined) {
        hit = push.repoURLs.some((u) => sameRepoURL(u, url));
        repoHit.set(url, hit);
      }
      return hit;
    };
    const files = push.changedFiles;
    for (const rt of files === undefined ? this.apps.values() : this.appsForFiles(files)) {
      const app = rt.app;
      if (app === undefined) continue;
      let hit = false;
      for (const s of pushMatcher(rt, app)) {
        if (!sameRepo(s.repoURL)) continue;
        if (!refMatches(s.ref, push.revision, push.touchedHead)) continue;
        if (files !== undefined && !filesUnder(s.prefixes, files)) continue;
        hit = true;
        break;
      }
      if (hit) {
        out.push(rt.name);
        // upstream's webhook handler asks for a normal refresh (argo.RefreshApp(..., RefreshTypeNormal))
        this.requestRefresh(rt.name, "webhook");
      }
    }
    return out.sort();
  }

  /** Manual sync (argocd app sync): refused while an operation runs. */
  async sync(
    name: string,
    opts: {
      revision?: string;
      prune?: boolean;
      resources?: SyncOperationSpec["resources"];
      dryRun?: boolean;
      username?: string;
    } = {},
  ): Promise<void> {
    const rt = this.apps.get(name);
    if (rt?.app === undefined) {
      throw new GtbError(
        "GTB_APP_NOT_FOUND",
        `application ${name} not found in namespace ${this.namespace}`,
        {
          hint: "kubectl get applications -n " + this.namespace,
        },
      );
    }
    if (rt.op !== undefined) {
      throw new GtbError("GTB_APP_OPERATION_RUNNING", "another operation is already in progress", {
        hint: "wait for the running sync to finish or terminate it",
      });
    }
    const spec: SyncOperationSpec = {};
    if (opts.revision !== undefined) spec.revision = opts.revision;
    if (opts.prune !== undefined) spec.prune = opts.prune;
    if (opts.resources !== undefined) spec.resources = opts.resources;
    if (opts.dryRun !== undefined) spec.dryRun = opts.dryRun;
    if (
      rt.compared === undefined ||
      (opts.revision !== undefined && opts.revision !== rt.compared.revision)
    ) {
      await this.refreshRevision(rt, rt.app, opts.revision);
    }
    this.startOperation(rt, spec, "manual", false, { username: opts.username ?? "admin" });
  }

  /** Rollback to a history entry; refused while automated sync is enabled (as Argo CD). */
  async rollback(name: string, id: number): Promise<void> {
    const rt = this.apps.get(name);
    if (rt?.app === undefined) throw new GtbError("GTB_APP_NOT_FOUND", `application ${name} not found`);
    if (this.automated(rt.app)) {
      throw new GtbError(
        "GTB_APP_ROLLBACK_AUTOSYNC",
        `rollback cannot be initiated when auto-sync is enabled`,
        { path: "spec.syncPolicy.automated", hint: "disable auto-sync or revert the change in Git instead" },
      );
    }
    const entry = rt.history.find((h) => h.id === id);
    if (entry === undefined) {
      throw new GtbError("GTB_APP_HISTORY_NOT_FOUND", `application ${name} does not have history id ${id}`, {
        hint: "see status.history for the ids",
      });
    }
    await this.sync(name, { revision: entry.revision, prune: true });
  }

  // ---- events ------------------------------------------------------------------------------

  private runtime(name: string): AppRuntime {
    let rt = this.apps.get(name);
    if (rt === undefined) {
      rt = {
        name,
        app: undefined,
        refresh: "create",
        hard: false,
        compared: undefined,
        revisionTrigger: "create",
        comparison: undefined,
        op: undefined,
        lastOp: undefined,
        selfHealAttempts: 0,
        selfHealRevision: undefined,
        history: [],
        historyCopy: undefined,
        comparedTo: undefined,
        conditions: new Map(),
        drifts: new Map(),
        watchTriggered: new Map(),
        recorded: undefined,
        compareInputs: undefined,
        health: undefined,
        lastStatus: undefined,
        reconciledAt: undefined,
        opSeq: 0,
        pushMatch: undefined,
        seq: this.runtimeSeq++,
        applying: undefined,
      };
      this.apps.set(name, rt);
      this.pushIndex = undefined;
    }
    return rt;
  }

  /**
   * Pick up what an earlier controller recorded in the Application's status (Argo CD keeps its state
   * there): history, the last finished operation (the "already attempted" rule and self-heal use it),
   * conditions, health, and each resource's sync status (drift made while no controller ran).
   */
  private restore(rt: AppRuntime, app: Application): void {
    const st = app.status;
    if (st === undefined) return;
    rt.history = [...(st.history ?? [])];
    for (const c of st.conditions ?? []) rt.conditions.set(c.type, c.message);
    rt.health = st.health?.status;
    const os = st.operationState;
    if (
      os !== undefined &&
      os.phase !== "Running" &&
      os.phase !== "Terminating" &&
      os.finishedAt !== undefined
    ) {
      const spec = os.operation.sync;
      rt.lastOp = {
        revision: os.syncResult?.revision ?? spec.revision ?? "",
        phase: os.phase,
        message: os.message,
        finishedAt: Date.parse(os.finishedAt),
        selfHeal: os.operation.initiatedBy.automated === true && (spec.resources?.length ?? 0) > 0,
        state: os,
      };
      // the self-heal backoff goes on from the attempts the last operation recorded
      if (spec.autoHealAttemptsCount !== undefined && rt.lastOp.revision !== "") {
        rt.selfHealRevision = rt.lastOp.revision;
        rt.selfHealAttempts = spec.autoHealAttemptsCount;
      }
    }
    const revision = st.sync?.revision;
    if (revision !== undefined && st.resources !== undefined) {
      const statuses = new Map<string, SyncStatusCode>();
      for (const r of st.resources) statuses.set(objectKey(r.group, r.kind, r.namespace, r.name), r.status);
      rt.recorded = { revision, statuses };
    }
  }

  private requestRefresh(name: string, trigger: Trigger, hard = false): void {
    const rt = this.apps.get(name);
    if (rt === undefined) return;
    rt.refresh = trigger;
    rt.hard = rt.hard || hard;
    this.statusQueue.add(name);
  }

  /** Applications (and every other watched object) as the informers see them. */
  private onClusterEvent(e: ClusterCacheEvent): void {
    if (e.kind !== APP_KIND || e.apiVersion !== APP_API_VERSION) return;
    const ev = e.event;
    const obj = ev.object as Application;
    if (obj.metadata.namespace !== this.namespace) return;
    const name = obj.metadata.name ?? "";
    if (ev.type === "delete") {
      const rt = this.apps.get(name);
      this.apps.delete(name);
      this.pushIndex = undefined;
      this.poller.cancel(name);
      if (rt?.app !== undefined) this.opts.onDeleted?.(rt.app);
      return;
    }
    const isNew = !this.apps.has(name);
    const rt = this.runtime(name);
    const prev = rt.app;
    rt.app = obj;
    if (
      prev === undefined ||
      prev.spec !== obj.spec ||
      prev.metadata.annotations?.[MANIFEST_GENERATE_PATHS] !==
        obj.metadata.annotations?.[MANIFEST_GENERATE_PATHS]
    )
      this.pushIndex = undefined;
    if (isNew) this.restore(rt, obj);
    else if (ev.type === "update" && sameExceptStatus(ev.old, obj)) return;
    if (
      prev !== undefined &&
      prev.spec !== obj.spec &&
      JSON.stringify(prev.spec) !== JSON.stringify(obj.spec)
    )
      rt.refresh ??= "manual";
    this.statusQueue.add(name);
  }

  /** A change to an object an app tracks: spec changes and deletions are compared for drift. */
  private onAppChange(c: AppChange): void {
    const rt = this.apps.get(c.app);
    if (rt === undefined) return;
    // status-only changes come only when health changed (upstream skipResourceUpdate)
    if (c.reason !== "health") rt.watchTriggered.set(c.key, c.object);
    // The sync's own applies, made in one instant: one refresh once they are all made (upstream's
    // refresh queue folds the watch events of a burst of applies that arrive while it compares),
    // not one per applied object. A change at a later time (a wave waiting for health) refreshes.
    const a = rt.applying;
    if (a !== undefined && a.at === this.clock.now()) {
      a.changed = true;
      return;
    }
    this.statusQueue.add(c.app);
  }

  // ---- reconcile ---------------------------------------------------------------------------

  private async reconcileAndRequeue(key: string): Promise<void> {
    const r = await this.reconcile(key);
    if (r.requeueAfter !== undefined) this.statusQueue.addAfter(key, r.requeueAfter);
  }

  /** Level-based reconcile of one Application (see the module comment for the contract). */
  async reconcile(name: string): Promise<{ requeueAfter?: number }> {
    this.reconciles++;
    const rt = this.apps.get(name);
    const app = rt?.app;
    if (rt === undefined || app === undefined) return {};
    const v = validateApplication(app);
    if (v.errors.length > 0) {
      this.setConditions(rt, { InvalidSpecError: v.errors.join("; ") });
      rt.refresh = undefined;
      await this.writeStatus(rt, { status: "Unknown" }, undefined, true);
      return {};
    }
    const annotationRefresh = app.metadata.annotations?.[REFRESH_ANNOTATION];
    if (annotationRefresh !== undefined) {
      rt.refresh = "manual";
      rt.hard = rt.hard || annotationRefresh === "hard";
      await this.client
        .patch(
          { apiVersion: APP_API_VERSION, kind: APP_KIND, name, namespace: this.namespace },
          { metadata: { annotations: { [REFRESH_ANNOTATION]: null } } },
          "merge",
        )
        .catch((e) => this.opts.onError?.(e, `clear refresh annotation ${name}`));
    }
    const refreshing = rt.refresh !== undefined || rt.compared === undefined;
    if (refreshing) {
      const trigger = rt.refresh ?? "poll";
      rt.refresh = undefined;
      const hard = rt.hard;
      rt.hard = false;
      try {
        const before = rt.compared?.revision;
        await this.refreshRevision(rt, app, undefined, hard);
        if (rt.compared !== undefined && rt.compared.revision !== before) rt.revisionTrigger = trigger;
        this.setConditions(rt, {});
      } catch (e) {
        this.setConditions(rt, { ComparisonError: errMessage(e) });
        this.poller.schedule(name);
        rt.reconciledAt = this.clock.now();
        await this.writeStatus(rt, { status: "Unknown" }, undefined, true);
        return {};
      }
      this.poller.schedule(name);
      rt.reconciledAt = this.clock.now();
    }
    if (app.operation?.sync !== undefined && rt.op === undefined) {
      const spec = app.operation.sync;
      this.startOperation(rt, spec, "manual", false, app.operation.initiatedBy ?? { username: "admin" });
      await this.client
        .patch(
          { apiVersion: APP_API_VERSION, kind: APP_KIND, name, namespace: this.namespace },
          { operation: null },
          "merge",
        )
        .catch((e) => this.opts.onError?.(e, `clear operation ${name}`));
    }
    const compared = rt.compared!;
    for (const k of compared.kinds) {
      if (!this.cache.isWatching(k.apiVersion, k.kind)) {
        await this.cache.watchKind(k.apiVersion, k.kind).catch(() => undefined);
      }
    }
    const prevComparison = rt.comparison;
    const comparison = this.compare(rt, app, compared);
    rt.comparison = comparison;
    await this.trackDrift(rt, prevComparison, comparison);
    const requeueAfter = this.autoSync(rt, app, comparison);
    await this.writeStatus(
      rt,
      { status: comparison.status, revision: compared.revision },
      comparison,
      refreshing,
    );
    const out: { requeueAfter?: number } = {};
    if (requeueAfter !== undefined) out.requeueAfter = requeueAfter;
    return out;
  }

  /**
   * Compare desired with live, or reuse the last comparison when its inputs are unchanged (the same
   * desired objects, no change to any object the app tracks, the same ignoreDifferences): that gives
   * the identical result.
   */
  private compare(rt: AppRuntime, app: Application, compared: Compared): Comparison {
    const inputs: CompareInputs = {
      desired: compared.desired,
      liveVersion: this.cache.appVersion(rt.name),
      ignoreDifferences: app.spec.ignoreDifferences,
    };
    const last = rt.compareInputs;
    if (
      rt.comparison !== undefined &&
      last !== undefined &&
      last.desired === inputs.desired &&
      last.liveVersion === inputs.liveVersion &&
      (last.ignoreDifferences === inputs.ignoreDifferences ||
        JSON.stringify(last.ignoreDifferences) === JSON.stringify(inputs.ignoreDifferences))
    ) {
      return rt.comparison;
    }
    rt.compareInputs = inputs;
    this.comparisons++;
    return compareApp(compared.desired, this.cache.objectsOf(rt.name), {
      ...(app.spec.ignoreDifferences !== undefined ? { ignoreDifferences: app.spec.ignoreDifferences } : {}),
      health: this.health,
      manager: this.fieldManager,
      memo: this.compareMemo,
    });
  }

  private async refreshRevision(
    rt: AppRuntime,
    app: Application,
    revisionOverride?: string,
    hard = false,
  ): Promise<void> {
    const { sources } = validateApplication(app);
    const dest = app.spec.destination?.namespace;
    const revisions: string[] = [];
    const keys: string[] = [];
    const inputs: string[] = [];
    const renders: RenderedManifest[][] = [];
    const manifests: KubeObject[] = [];
    let sourceType = "Directory";
    for (const [i, s] of sources.entries()) {
      const rev = await this.opts.source.resolve(
        s.repoURL,
        i === 0 && revisionOverride !== undefined ? revisionOverride : (s.targetRevision ?? "HEAD"),
      );
      revisions.push(rev);
      const input = `${sourceKey(s)}|${rt.name}|${dest ?? ""}`;
      inputs.push(input);
      const key = `${rev}|${input}`;
      keys.push(key);
      let rendered = hard ? undefined : this.renderCache.get(key);
      if (rendered === undefined) {
        rendered = this.render(s, rev, rt.name, dest);
        remember(this.renderCache, key, rendered);
      }
      const out = await rendered;
      if (i === 0) sourceType = out.sourceType;
      renders.push(out.manifests);
      for (const m of out.manifests) manifests.push(m.object);
    }
    const revision = revisions[0] ?? "";
    const commit = await this.commitRef(sources[0]!.repoURL, revision);
    const desiredKey = keys.join("\n");
    const inputsKey = inputs.join("\n");
    const prev = rt.compared;
    // the same render gives the same desired objects: keep them (and the comparison made from them);
    // so does a new revision whose renders a renderer answered from content it had seen (directory)
    const same =
      !hard &&
      prev !== undefined &&
      (prev.desiredKey === desiredKey ||
        (prev.inputsKey === inputsKey && prev.renders.every((r, i) => r === renders[i])));
    const desired = same ? prev.desired : prepareDesired(rt.name, manifests, dest, this.scope);
    rt.compared = {
      revision,
      revisions,
      commit,
      sources,
      desired,
      desiredKey,
      inputsKey,
      renders,
      kinds: same ? prev.kinds : kindsOf(desired),
      sourceType: sourceType.charAt(0).toUpperCase() + sourceType.slice(1),
    };
  }

  private async render(
    s: ApplicationSource,
    rev: string,
    appName: string,
    ns: string | undefined,
  ): Promise<Rendered> {
    const tree = await this.opts.source.tree(s.repoURL, rev);
    const renderer = await selectRenderer(this.opts.renderers, tree, s);
    const req: Parameters<typeof renderer.render>[0] = { tree, path: s.path ?? "", appName };
    if (ns !== undefined) req.namespace = ns;
    if (s.helm !== undefined) req.helm = s.helm;
    if (s.kustomize !== undefined) req.kustomize = s.kustomize;
    if (s.directory !== undefined) req.directory = s.directory;
    return { manifests: await renderer.render(req), sourceType: renderer.name };
  }

  /** Commit metadata of a revision (immutable, so cached). */
  private commitRef(repoURL: string, revision: string): Promise<CommitRef> {
    const key = `${repoURL}|${revision}`;
    let ref = this.commitCache.get(key);
    if (ref === undefined) {
      ref = this.opts.source.commit(repoURL, revision).then(
        (info: CommitInfo) => {
          const out: CommitRef = {
            revision,
            author: `${info.author.name} <${info.author.email}>`,
            committedAt: info.committer.time,
            subject: info.subject,
          };
          const reviewer = info.trailers["Reviewed-by"]?.[0] ?? info.trailers["Approved-by"]?.[0];
          if (reviewer !== undefined) out.reviewer = reviewer;
          return out;
        },
        () => {
          this.commitCache.delete(key);
          return { revision };
        },
      );
      remember(this.commitCache, key, ref);
    }
    return ref;
  }

  // ---- drift -------------------------------------------------------------------------------

  /**
   * Drift: a resource that was Synced is now OutOfSync (changed, or deleted: health Missing) because of
   * a watch event, or, on this controller's first comparison of an app, relative to the status an
   * earlier controller recorded at the same revision (drift made while no controller was running).
   * A drifted resource that is Synced again is healed.
   */
  private async trackDrift(rt: AppRuntime, prev: Comparison | undefined, next: Comparison): Promise<void> {
    const triggered = rt.watchTriggered;
    rt.watchTriggered = new Map();
    const now = this.clock.now();
    const revision = rt.compared?.revision ?? "";
    let before: Map<string, SyncStatusCode> | undefined;
    if (prev !== undefined) before = new Map(prev.resources.map((p) => [p.key, p.status]));
    else if (rt.recorded?.revision === revision) before = rt.recorded.statuses;
    rt.recorded = undefined;
    for (const r of next.resources) {
      if (r.hook) continue;
      const open = rt.drifts.get(r.key);
      if (r.status === "Synced") {
        if (open !== undefined) {
          rt.drifts.delete(r.key);
          const last =
            rt.lastOp !== undefined && rt.lastOp.finishedAt >= open.detectedAt ? rt.lastOp : undefined;
          const op = rt.op ?? last;
          const by = op === undefined ? "external" : op.selfHeal ? "selfHeal" : "sync";
          this.emit({
            type: "drift.healed",
            time: now,
            app: rt.name,
            resource: resourceId(r),
            revision: open.revision,
            detectedAt: open.detectedAt,
            by,
          });
        }
        continue;
      }
      if (open !== undefined || r.desired === undefined || before?.get(r.key) !== "Synced") continue;
      if (prev !== undefined && !triggered.has(r.key)) continue;
      await this.reportDrift(rt, r, revision, now, triggered.get(r.key));
    }
  }

  /**
   * Report one drifted resource with the identity that made the change: the writer of the watched
   * change (`written`; for a deletion its tombstone names who deleted it), else of the live object.
   */
  private async reportDrift(
    rt: AppRuntime,
    r: ComparedResource,
    revision: string,
    now: number,
    change: KubeObject | undefined,
  ): Promise<void> {
    const deleted = r.live === undefined;
    const written = deleted ? change : (change ?? r.live);
    // managedFields name the last writer of an object, not who deleted it
    let who =
      written !== undefined && !deleted ? lastWriterFromManagedFields(written, this.fieldManager) : undefined;
    const rv = written?.metadata.resourceVersion;
    if (this.opts.auditLookup !== undefined && written !== undefined && rv !== undefined) {
      try {
        const found = await this.opts.auditLookup.lookup(
          {
            apiVersion: written.apiVersion,
            kind: written.kind,
            name: r.name,
            ...(r.namespace !== "" ? { namespace: r.namespace } : {}),
          },
          rv,
        );
        if (found !== undefined) who = found;
      } catch (e) {
        this.opts.onError?.(e, "audit lookup");
      }
    }
    if (who?.identity === this.client.identity) return; // our own write (e.g. a sync still settling)
    rt.drifts.set(r.key, { detectedAt: now, revision });
    const ev: AppEvent = {
      type: "drift.detected",
      time: now,
      app: rt.name,
      resource: resourceId(r),
      revision,
      changes: r.changes,
    };
    if (deleted) ev.deleted = true;
    if (who !== undefined) {
      ev.identity = who.identity;
      if (who.fieldManager !== undefined) ev.fieldManager = who.fieldManager;
      if (who.time > 0) ev.writtenAt = who.time;
    }
    this.emit(ev);
  }

  // ---- auto-sync ---------------------------------------------------------------------------

  private automated(app: Application): boolean {
    const a = app.spec.syncPolicy?.automated;
    return a !== undefined && a !== null && a.enabled !== false;
  }

  /** Decide auto-sync / self-heal (Argo CD autoSync); returns a requeue delay while backing off. */
  private autoSync(rt: AppRuntime, app: Application, c: Comparison): number | undefined {
    const auto = app.spec.syncPolicy?.automated;
    if (!this.automated(app) || auto === undefined) return undefined;
    if (rt.op !== undefined) return undefined;
    if (c.status !== "OutOfSync") {
      this.clearCondition(rt, "SyncError");
      return undefined;
    }
    const compared = rt.compared!;
    const revision = compared.revision;
    const outOfSync = c.resources.filter((r) => !r.hook && r.status === "OutOfSync");
    if (auto.prune !== true && outOfSync.every((r) => r.requiresPruning)) return undefined;
    if (
      auto.prune === true &&
      auto.allowEmpty !== true &&
      compared.desired.filter((d) => !c.resources.find((r) => r.desired === d)?.hook).length === 0 &&
      c.resources.some((r) => r.live !== undefined)
    ) {
      this.setCondition(rt, "SyncError", "auto-sync will wipe out all resources");
      return undefined;
    }
    if (rt.selfHealRevision !== revision) {
      rt.selfHealRevision = revision;
      rt.selfHealAttempts = 0;
    }
    const last = rt.lastOp;
    const alreadyAttempted = last !== undefined && last.revision === revision;
    const selfHeal = auto.selfHeal === true;
    if (alreadyAttempted && (!selfHeal || last.phase !== "Succeeded")) {
      if (last.phase !== "Succeeded") {
        this.setCondition(rt, "SyncError", `Failed last sync attempt to ${revision}: ${last.message}`);
      }
      return undefined;
    }
    if (alreadyAttempted && selfHeal) {
      const b = this.opts.selfHealBackoff ?? {};
      const delay = selfHealDelayMs(rt.selfHealAttempts, b.baseMs, b.factor, b.capMs);
      const elapsed = this.clock.now() - last.finishedAt;
      if (elapsed < delay) return delay - elapsed;
      rt.selfHealAttempts++;
      const only = outOfSync.filter((r) => !r.requiresPruning || auto.prune === true);
      this.startOperation(
        rt,
        {
          revision,
          prune: auto.prune === true,
          autoHealAttemptsCount: rt.selfHealAttempts,
          resources: only.map((r) => ({
            group: r.group,
            kind: r.kind,
            name: r.name,
            namespace: r.namespace,
          })),
        },
        "selfHeal",
        true,
        { username: "automated sync policy", automated: true },
      );
      return undefined;
    }
    this.startOperation(
      rt,
      { revision, prune: auto.prune === true },
      rt.revisionTrigger === "create" ? "automated" : rt.revisionTrigger,
      false,
      {
        username: "automated sync policy",
        automated: true,
      },
    );
    return undefined;
  }

  // ---- operations --------------------------------------------------------------------------

  private startOperation(
    rt: AppRuntime,
    spec: SyncOperationSpec,
    trigger: Trigger,
    selfHeal: boolean,
    initiatedBy: { username?: string; automated?: boolean },
  ): void {
    const compared = rt.compared!;
    const only =
      spec.resources !== undefined && spec.resources.length > 0
        ? new Set(spec.resources.map((r) => `${r.group ?? ""}/${r.kind}/${r.namespace ?? ""}/${r.name}`))
        : undefined;
    const outOfSyncNow = (rt.comparison?.resources ?? []).filter(
      (r) => !r.hook && r.status === "OutOfSync" && (only === undefined || only.has(r.key)),
    );
    const op: RunningOp = {
      outOfSync: new Set(outOfSyncNow.map((r) => r.key)),
      id: ++rt.opSeq,
      spec,
      trigger,
      selfHeal,
      initiatedBy,
      startedAt: this.clock.now(),
      retryCount: 0,
      revision: compared.revision,
      lastMessage: "",
      only,
    };
    rt.op = op;
    const resources = outOfSyncNow.map(resourceId);
    this.emit({
      type: "sync.started",
      time: op.startedAt,
      app: rt.name,
      ...compared.commit,
      trigger,
      operationId: op.id,
      selfHeal,
      resources,
    });
    this.opQueue.add(rt.name);
  }

  private async processOperation(name: string): Promise<void> {
    const rt = this.apps.get(name);
    const op = rt?.op;
    if (rt === undefined || op === undefined || rt.app === undefined || rt.compared === undefined) return;
    if (op.retryAt !== undefined && this.clock.now() < op.retryAt) return;
    op.retryAt = undefined;
    const app = rt.app;
    const syncOptions = [...(app.spec.syncPolicy?.syncOptions ?? []), ...(op.spec.syncOptions ?? [])];
    await this.writeOperationState(
      rt,
      "Running",
      op.retryCount > 0 ? `Retrying attempt #${op.retryCount}` : "syncing",
    );
    let outcome: SyncOutcome;
    const applying = { at: this.clock.now(), changed: false };
    rt.applying = applying;
    try {
      const auto = app.spec.syncPolicy?.automated;
      outcome = await executeSync({
        client: this.client,
        clock: this.clock,
        health: this.health,
        fieldManager: this.fieldManager,
        app: rt.name,
        desired: rt.compared.desired,
        liveObjects: this.cache.objectsOf(rt.name),
        prune: op.spec.prune === true,
        dryRun: op.spec.dryRun === true,
        resources:
          op.spec.resources !== undefined && op.spec.resources.length > 0 ? op.spec.resources : undefined,
        hooks: !op.selfHeal,
        syncOptions,
        ignoreDifferences: app.spec.ignoreDifferences ?? [],
        destinationNamespace: app.spec.destination?.namespace,
        automated: op.initiatedBy.automated === true,
        allowEmpty: auto?.allowEmpty === true,
        operationId: `${rt.name}-${op.id}`,
      });
    } catch (e) {
      outcome = { phase: "Error", message: errMessage(e), resources: [] };
    } finally {
      if (rt.applying === applying) rt.applying = undefined;
    }
    // what the sync's applies changed is compared before its result is written: whoever reads the
    // result (notifications' on-deployed) sees the health those changes gave
    if (applying.changed) {
      this.statusQueue.add(name);
      await this.statusQueue.done(name);
    }
    const automated = this.automated(app);
    const limit = retryLimit(app.spec.syncPolicy?.retry, automated && op.initiatedBy.automated === true);
    if (outcome.phase !== "Succeeded" && op.retryCount < limit && !op.spec.dryRun) {
      op.retryCount++;
      const delay = retryDelayMs(app.spec.syncPolicy?.retry, op.retryCount);
      op.retryAt = this.clock.now() + delay;
      op.lastMessage = outcome.message;
      await this.writeOperationState(
        rt,
        "Running",
        `${outcome.message}. Retrying attempt #${op.retryCount} at ${rfc3339(op.retryAt)}.`,
        outcome,
      );
      this.opQueue.addAfter(name, delay);
      return;
    }
    this.finishOperation(rt, op, outcome);
    await this.writeOperationState(rt, outcome.phase, outcome.message, outcome);
    this.statusQueue.add(name);
  }

  private finishOperation(rt: AppRuntime, op: RunningOp, outcome: SyncOutcome): void {
    const now = this.clock.now();
    const compared = rt.compared!;
    // frozen: written with every status from now on (its lists are compared by mergePatchDelta's memo)
    const state = deepFreeze(this.operationState(rt, op, outcome.phase, outcome.message, outcome, now));
    rt.lastOp = {
      revision: op.revision,
      phase: outcome.phase,
      message: outcome.message,
      finishedAt: now,
      selfHeal: op.selfHeal,
      state,
    };
    rt.op = undefined;
    if (outcome.phase === "Succeeded" && !op.spec.dryRun && op.only === undefined) {
      const id = (rt.history[rt.history.length - 1]?.id ?? -1) + 1;
      rt.history.push({
        id,
        revision: op.revision,
        deployStartedAt: rfc3339(op.startedAt),
        deployedAt: rfc3339(now),
        source: compared.sources[0]!,
        initiatedBy: op.initiatedBy,
      });
      const limit = rt.app?.spec.revisionHistoryLimit ?? 10;
      while (rt.history.length > limit) rt.history.shift();
    }
    if (outcome.phase === "Succeeded") this.clearCondition(rt, "SyncError");
    this.emit({
      type: "sync.finished",
      time: now,
      app: rt.name,
      ...compared.commit,
      revision: op.revision,
      trigger: op.trigger,
      operationId: op.id,
      phase: outcome.phase,
      message: outcome.message,
      startedAt: op.startedAt,
      selfHeal: op.selfHeal,
      dryRun: op.spec.dryRun === true,
      changed: outcome.resources
        .filter(
          (r) =>
            r.hookType === undefined &&
            (r.status === "Pruned" || op.outOfSync.has(`${r.group}/${r.kind}/${r.namespace}/${r.name}`)),
        )
        .map((r) => ({
          group: r.group,
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          status: r.status,
        })),
      retryCount: op.retryCount,
    });
  }

  private operationState(
    rt: AppRuntime,
    op: RunningOp,
    phase: OperationState["phase"],
    message: string,
    outcome: SyncOutcome | undefined,
    finishedAt: number | undefined,
  ): OperationState {
    const state: OperationState = {
      operation: { sync: { ...op.spec, revision: op.revision }, initiatedBy: op.initiatedBy },
      phase,
      message,
      startedAt: rfc3339(op.startedAt),
    };
    if (rt.app?.spec.syncPolicy?.retry !== undefined) state.operation.retry = rt.app.spec.syncPolicy.retry;
    if (outcome !== undefined) {
      state.syncResult = { revision: op.revision, resources: outcome.resources };
      const src = rt.compared?.sources[0];
      if (src !== undefined) state.syncResult.source = src;
    }
    if (finishedAt !== undefined) state.finishedAt = rfc3339(finishedAt);
    if (op.retryCount > 0) state.retryCount = op.retryCount;
    return state;
  }

  private async writeOperationState(
    rt: AppRuntime,
    phase: OperationState["phase"],
    message: string,
    outcome?: SyncOutcome,
  ): Promise<void> {
    const op = rt.op;
    const state =
      op !== undefined ? this.operationState(rt, op, phase, message, outcome, undefined) : rt.lastOp?.state;
    if (state === undefined) return;
    await this.patchStatus(rt, { operationState: state });
  }

  // ---- status ------------------------------------------------------------------------------

  private setConditions(rt: AppRuntime, wanted: Record<string, string>): void {
    for (const t of ["InvalidSpecError", "ComparisonError"]) {
      const msg = wanted[t];
      if (msg !== undefined) this.setCondition(rt, t, msg);
      else this.clearCondition(rt, t);
    }
  }

  private setCondition(rt: AppRuntime, type: string, message: string): void {
    if (rt.conditions.get(type) === message) return;
    rt.conditions.set(type, message);
    this.emit({
      type: "app.condition",
      time: this.clock.now(),
      app: rt.name,
      conditionType: type,
      message,
      active: true,
    });
  }

  private clearCondition(rt: AppRuntime, type: string): void {
    const msg = rt.conditions.get(type);
    if (msg === undefined) return;
    rt.conditions.delete(type);
    this.emit({
      type: "app.condition",
      time: this.clock.now(),
      app: rt.name,
      conditionType: type,
      message: msg,
      active: false,
    });
  }

  private async writeStatus(
    rt: AppRuntime,
    sync: { status: SyncStatusCode; revision?: string },
    c: Comparison | undefined,
    refreshed: boolean,
  ): Promise<void> {
    const status: ApplicationStatus = {};
    const compared = rt.compared;
    status.sync = { status: sync.status };
    if (sync.revision !== undefined) status.sync.revision = sync.revision;
    const app = rt.app;
    if (compared !== undefined && app !== undefined) {
      status.sync.comparedTo = comparedTo(rt, compared.sources[0]!, app.spec.destination);
      status.sourceType = compared.sourceType;
    }
    if (c !== undefined) {
      const h = c.health;
      status.health =
        h.message !== undefined ? { status: h.status, message: h.message } : { status: h.status };
      const parts = this.statusParts(c);
      status.resources = parts.resources;
      status.summary = parts.summary;
      if (rt.health !== h.status) {
        this.emit({
          type: "app.health.changed",
          time: this.clock.now(),
          app: rt.name,
          from: rt.health,
          to: h.status,
          ...(h.message !== undefined ? { message: h.message } : {}),
        });
        rt.health = h.status;
      }
    } else status.health = { status: "Unknown" };
    const conditions: AppCondition[] = [...rt.conditions].map(([type, message]) => ({ type, message }));
    status.conditions = conditions;
    status.history = historyOf(rt) as HistoryEntry[];
    if (rt.reconciledAt !== undefined) status.reconciledAt = rfc3339(rt.reconciledAt);
    const same = rt.lastStatus !== undefined && jsonEqualExcept(status, rt.lastStatus, RECONCILED_AT);
    if (same && !refreshed) return;
    rt.lastStatus = status;
    if (rt.lastOp !== undefined && rt.op === undefined) status.operationState = rt.lastOp.state;
    await this.patchStatus(rt, status);
  }

  /** status.resources and status.summary of a comparison (the same comparison is often written again). */
  private statusParts(c: Comparison): { resources: ResourceStatus[]; summary: ApplicationStatus["summary"] } {
    let parts = this.statusPartsMemo.get(c);
    if (parts === undefined) {
      const images = new Set<string>();
      for (const r of c.resources) {
        if (r.live === undefined) continue;
        const mine = imagesOf(r.live, this.imagesMemo);
        for (const i of mine) images.add(i);
      }
      parts = {
        resources: resourceStatuses(c),
        summary: images.size > 0 ? { images: [...images].sort() } : {},
      };
      this.statusPartsMemo.set(c, deepFreeze(parts));
    }
    return parts;
  }

  /**
   * Merge-patch the status with what differs from the status last seen (upstream persistAppStatus
   * sends the two-way merge patch between the informer's copy and the new status); nothing is
   * written when nothing would change.
   */
  private async patchStatus(rt: AppRuntime, status: ApplicationStatus): Promise<void> {
    const delta = mergePatchDelta(status, rt.app?.status, this.sameLists);
    if (delta === undefined) {
      if (rt.app !== undefined) this.opts.onStatus?.(rt.app);
      return;
    }
    try {
      const updated = await this.client.patch<Application>(
        { apiVersion: APP_API_VERSION, kind: APP_KIND, name: rt.name, namespace: this.namespace },
        { status: delta },
        "merge",
        this.statusSubresource ? { subresource: "status" } : {},
      );
      if (rt.app !== undefined) rt.app = { ...rt.app, status: updated.status ?? status };
      this.opts.onStatus?.(rt.app ?? updated);
    } catch (e) {
      this.opts.onError?.(e, `status ${rt.name}`);
    }
  }

  private emit(e: AppEvent): void {
    this.events.emit(e);
  }
}

/**
 * status.history: a frozen copy of the runtime's history, kept while the history holds the same
 * entries (it only grows at the end and drops from the front, so its length and ends tell).
 */
function historyOf(rt: AppRuntime): readonly HistoryEntry[] {
  const h = rt.history;
  const c = rt.historyCopy;
  if (c !== undefined && c.length === h.length && c[0] === h[0] && c[c.length - 1] === h[h.length - 1])
    return c;
  rt.historyCopy = deepFreeze([...h]);
  return rt.historyCopy;
}

/** status.sync.comparedTo, the same frozen object while the source and destination objects are. */
function comparedTo(
  rt: AppRuntime,
  source: ApplicationSource,
  destination: unknown,
): { source: ApplicationSource; destination: unknown } {
  const c = rt.comparedTo;
  if (c !== undefined && c.source === source && c.destination === destination) return c;
  rt.comparedTo = deepFreeze({ source, destination });
  return rt.comparedTo;
}

/** Cache a promise (bounded: the oldest entry goes first); a rejected one is forgotten. */
function remember<T>(cache: Map<string, Promise<T>>, key: string, value: Promise<T>): void {
  cache.set(key, value);
  value.catch(() => {
    if (cache.get(key) === value) cache.delete(key);
  });
  if (cache.size > 5000) cache.delete(cache.keys().next().value as string);
}

/** The distinct kinds a set of objects names. */
function kindsOf(objects: readonly KubeObject[]): Array<{ apiVersion: string; kind: string }> {
  const seen = new Map<string, { apiVersion: string; kind: string }>();
  for (const o of objects) seen.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
  return [...seen.values()];
}

/**
 * The images an object names outside metadata and status, remembered per object and per top-level
 * member: a Rollout whose status changed is a new object holding the same spec.
 */
function imagesOf(live: KubeObject, memo: WeakMap<object, readonly string[]>): readonly string[] {
  let mine = memo.get(live);
  if (mine !== undefined) return mine;
  const found = new Set<string>();
  for (const [k, v] of Object.entries(live)) {
    if (k === "metadata" || k === "status") continue;
    if (typeof v !== "object" || v === null) {
      if (k === "image" && typeof v === "string") found.add(v);
      continue;
    }
    let sub = memo.get(v);
    if (sub === undefined) {
      const inner = new Set<string>();
      collectImages(v, inner);
      sub = [...inner];
      memo.set(v, sub);
    }
    for (const i of sub) found.add(i);
  }
  mine = [...found];
  memo.set(live, mine);
  return mine;
}

function collectImages(obj: unknown, out: Set<string>): void {
  if (Array.isArray(obj)) for (const x of obj) collectImages(x, out);
  else if (typeof obj === "object" && obj !== null) {
    for (const [k, v] of Object.entries(obj)) {
      if (k === "image" && typeof v === "string") out.add(v);
      else if (k !== "metadata" && k !== "status") collectImages(v, out);
    }
  }
}
