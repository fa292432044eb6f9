/**
 * The API verbs with upstream semantics, shared by the in-process client and
 * the HTTP server: create/get/list/update/patch/delete/watch on any served
 * resource, /status and /scale subresources, optimistic concurrency,
 * generation, finalizers, garbage collection by ownerReferences, namespace
 * lifecycle, CRDs served as soon as they are created, the write policy and
 * the audit trail.
 *
 * Everything here is synchronous and deterministic: time comes from the
 * injected Clock, ids from a seeded counter.
 */
import jsonPatch, { type Operation } from "fast-json-patch";
import { type Clock, rfc3339 } from "../../engine/core/clock.ts";
import type { EventSink } from "../../engine/core/events.ts";
import { deepFreeze } from "../../engine/kube/json.ts";
import {
  DEFAULT_FIELD_MANAGER,
  type DeleteOptions,
  type KubeObject,
  KubeApiError,
  type ManagedFieldsEntry,
  type ObjectMeta,
  type PatchType,
  type WatchEventType,
} from "../../engine/kube/types.ts";
import { DEFAULT_EVENT_TTL_MS, EventExpiry } from "./event-ttl.ts";
import type { AuditWriteEvent, WriteVerb } from "./events.ts";
import { IdGenerator } from "./ids.ts";
import {
  deepEqual,
  getPath,
  isPlainObject,
  mergeForeignPatch,
  mergePatch,
  share,
  shareEqual,
  withPath,
} from "./objutil.ts";
import {
  applyConflictStatus,
  PatchError,
  recordUpdate,
  serverSideApply,
  strategicMergePatch,
} from "./patch/index.ts";
import { type Identity, mayWrite, type WritePolicy } from "./policy.ts";
import { argoCrds, builtinTypes, gvString, Registry, type ResourceType, typeFromCrd } from "./registry.ts";
import { type Predicate, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import * as S from "./status.ts";
import { type HistoryRecord, objectKey, type Stored, Store } from "./store.ts";

/** Who is calling, and how. */
export interface RequestContext extends Identity {
  /** User-Agent, for the default field manager (`kubectl-edit/v1.32 ...` -> `kubectl-edit`). */
  userAgent?: string;
}

export interface WriteParams {
  fieldManager?: string;
  dryRun?: boolean;
  subresource?: "status" | "scale";
  /** Server-side apply only. */
  force?: boolean;
}

export interface ListParams {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: Stored[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchParams {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Resume after this resourceVersion. "" / undefined / "0": start now. */
  resourceVersion?: string;
  /** Replay the current objects as ADDED first (the HTTP API does when no resourceVersion is given). */
  initialEvents?: boolean;
  allowWatchBookmarks?: boolean;
}

/** A watch callback gets the event type and the object (shared: copy before mutating). */
export type WatchSink = (type: WatchEventType, obj: KubeObject, stored: Stored | undefined) => void;

export interface ApiServerOptions {
  clock: Clock;
  /** Seed for uids and generateName suffixes. */
  seed?: string;
  /** Watch history window (events) that watches can resume from. */
  historySize?: number;
  /** Virtual ms between BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs?: number;
  sink?: EventSink;
  policy?: WritePolicy;
  /** Create a namespace on first use instead of answering 404 (upstream answers 404). */
  autoCreateNamespaces?: boolean;
  /** How many audit records to keep in memory (oldest dropped first). */
  auditLimit?: number;
  /**
   * Clock ms after its last write that an Event is deleted (kube-apiserver
   * --event-ttl; default 1h). 0 keeps Events forever.
   */
  eventTtlMs?: number;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SKIP_META = new Set(["metadata"]);
const SKIP_META_STATUS = new Set(["metadata", "status"]);
const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";
const SYSTEM: RequestContext = { user: "system:apiserver", groups: ["system:masters"] };
const RESOLVED = Promise.resolve();

/** Kinds whose upstream strategy maintains metadata.generation. */
function tracksGeneration(t: ResourceType): boolean {
  return t.custom || t.group !== "";
}

/** 400 unless `body` has the shape of an object with metadata. */
function checkBody(body: KubeObject): void {
  if (body === null || typeof body !== "object" || Array.isArray(body) || !isPlainObject(body.metadata))
    throw S.badRequest("Object 'metadata' is missing");
}

function decodeContinue(token: string): { rv: number; after: string } {
  try {
    const d = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      rv?: unknown;
      after?: unknown;
    };
    if (typeof d.rv === "number" && typeof d.after === "string") return { rv: d.rv, after: d.after };
  } catch {
    // fall through to the error below
  }
  throw S.badRequest(`invalid continue token: ${token}`);
}

const byKey = (a: [string, unknown], b: [string, unknown]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

function userAgentManager(ua: string | undefined): string {
  if (ua === undefined || ua === "") return DEFAULT_FIELD_MANAGER;
  return ua.split("/")[0]!.slice(0, 128);
}

export class ApiServer {
  readonly registry: Registry;
  readonly store: Store;
  readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly sink: EventSink | undefined;
  private readonly autoNs: boolean;
  private readonly auditLimit: number;
  private readonly bookmarkMs: number;
  private auditLog: AuditWriteEvent[] = [];
  private auditCount = 0;
  private serviceIp = 0;
  private readonly eventExpiry: EventExpiry | undefined;
  policy: WritePolicy | undefined;

  constructor(opts: ApiServerOptions) {
    this.clock = opts.clock;
    this.ids = new IdGenerator(opts.seed);
    this.sink = opts.sink;
    this.policy = opts.policy;
    this.autoNs = opts.autoCreateNamespaces ?? false;
    this.auditLimit = opts.auditLimit ?? 100_000;
    this.bookmarkMs = opts.bookmarkIntervalMs ?? 60_000;
    this.store = new Store(opts.historySize ?? 10_000);
    this.registry = new Registry(builtinTypes());
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      this.create(SYSTEM, this.type("v1", "Namespace"), undefined, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } },
      });
    }
    const crdType = this.type("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    for (const crd of argoCrds()) this.create(SYSTEM, crdType, undefined, crd);
    const ttl = opts.eventTtlMs ?? DEFAULT_EVENT_TTL_MS;
    if (ttl > 0) {
      const events = this.type("v1", "Event");
      const expiry = new EventExpiry(this.clock, ttl, (ns, name, rv) =>
        this.expireEvent(events, ns, name, rv),
      );
      this.eventExpiry = expiry;
      this.store.subscribe((r) => {
        if (r.type !== "DELETED") expiry.written(r.namespace, r.stored.obj.metadata.name ?? "", r.rv);
      }, events.key);
    }
  }

  /** Stop the server's own timers (Event expiry). */
  stop(): void {
    this.eventExpiry?.stop();
  }

  /** TTL expiry of an Event still at `rv`: gone as etcd drops a key whose lease ran out (no request, no finalizers). */
  private expireEvent(t: ResourceType, namespace: string, name: string, rv: number): void {
    const live = this.store.get(t, namespace, name);
    if (live === undefined || live.rv !== rv) return;
    const next = this.store.nextRv();
    const last: KubeObject = {
      ...live.obj,
      metadata: { ...live.obj.metadata, resourceVersion: String(next) },
    };
    this.store.remove(t, last, next, live);
    this.afterRemove(t, last);
  }

  // ---------------------------------------------------------------- lookup

  /** The served type of an apiVersion + kind; 404 like the API when unknown. */
  type(apiVersion: string, kind: string): ResourceType {
    const t = this.registry.byApiVersionKind(apiVersion, kind);
    if (t === undefined)
      throw new KubeApiError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `no matches for kind "${kind}" in version "${apiVersion}"`,
        reason: "NotFound",
        code: 404,
      });
    return t;
  }

  /** The served type of a group/version/plural; 404 "the server could not find the requested resource". */
  resource(group: string, version: string, plural: string): ResourceType {
    const t = this.registry.byResource(group, version, plural);
    if (t === undefined) throw S.noResource();
    return t;
  }

  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  // ---------------------------------------------------------------- reads

  private scope(t: ResourceType, namespace: string | undefined): string | undefined {
    return t.namespaced ? namespace : undefined;
  }

  get(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    subresource?: "status" | "scale",
  ): Stored {
    const s = this.store.get(t, this.scope(t, namespace), name);
    if (s === undefined) throw S.notFound(t, name);
    if (subresource === "scale") return { obj: this.scaleOf(t, s.obj), rv: s.rv };
    return s;
  }

  list(t: ResourceType, p: ListParams): ListResult {
    const label = parseLabelSelector(p.labelSelector);
    const field = parseFieldSelector(p.fieldSelector, t.kind);
    const ns = t.namespaced && p.namespace !== undefined && p.namespace !== "" ? p.namespace : undefined;
    let listRv = this.store.resourceVersion;
    let after: string | undefined;
    if (p.continue !== undefined && p.continue !== "") {
      const c = decodeContinue(p.continue);
      listRv = c.rv;
      after = c.after;
    }
    const found: Array<[string, Stored]> = [];
    const objects = ns === undefined ? this.store.bucket(t) : this.store.inNamespace(t, ns);
    for (const entry of objects) {
      const [k, s] = entry;
      if (after !== undefined && k <= after) continue;
      if (label !== undefined && !label(s.obj)) continue;
      if (field !== undefined && !field(s.obj)) continue;
      found.push(entry);
    }
    if (found.length > 1) found.sort(byKey);
    const limit = p.limit !== undefined && p.limit > 0 ? p.limit : undefined;
    const take = limit === undefined || found.length <= limit ? found : found.slice(0, limit);
    const out: ListResult = { items: take.map((e) => e[1]), resourceVersion: String(listRv) };
    if (limit !== undefined && found.length > limit) {
      out.continue = Buffer.from(JSON.stringify({ rv: listRv, after: take[take.length - 1]![0] })).toString(
        "base64url",
      );
      out.remainingItemCount = found.length - limit;
    }
    return out;
  }

  // ---------------------------------------------------------------- policy + audit

  private fieldManager(ctx: RequestContext, p: WriteParams): string {
    return p.fieldManager !== undefined && p.fieldManager !== ""
      ? p.fieldManager
      : userAgentManager(ctx.userAgent);
  }

  private authorize(
    ctx: RequestContext,
    verb: WriteVerb,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    p: WriteParams,
  ): void {
    const ns = t.namespaced ? namespace : undefined;
    if (mayWrite(this.policy, ctx, ns)) return;
    this.audit(ctx, verb, t, ns, name, p, "", 403);
    const resource = p.subresource === undefined ? t.plural : `${t.plural}/${p.subresource}`;
    throw S.forbidden(ctx.user, verb, { group: t.group, plural: resource }, name, ns);
  }

  private audit(
    ctx: RequestContext,
    verb: WriteVerb,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    p: WriteParams,
    resourceVersion: string,
    code: number,
  ): void {
    if (ctx.groups.includes("system:masters") && ctx.user === SYSTEM.user) return;
    // members set one by one in a fixed order (optional ones only when present), no spread temporaries
    const e: { -readonly [K in keyof AuditWriteEvent]: AuditWriteEvent[K] } = {
      type: "audit.write",
      time: this.clock.now(),
      identity: ctx.user,
      verb,
      apiVersion: gvString(t.group, t.version),
      kind: t.kind,
    } as AuditWriteEvent;
    if (namespace !== undefined) e.namespace = namespace;
    e.name = name;
    if (p.subresource !== undefined) e.subresource = p.subresource;
    e.resourceVersion = resourceVersion;
    e.fieldManager = this.fieldManager(ctx, p);
    e.code = code;
    if (p.dryRun === true) e.dryRun = true;
    this.auditCount++;
    this.auditLog.push(e);
    // drop the oldest in bulk once the log holds twice the limit: amortized O(1) per write
    if (this.auditLog.length >= 2 * this.auditLimit) this.trimAudit();
    this.sink?.emit(e);
  }

  private trimAudit(): void {
    if (this.auditLog.length > this.auditLimit)
      this.auditLog = this.auditLog.slice(this.auditLog.length - this.auditLimit);
  }

  /** Audit records of writes, oldest first (the last `auditLimit` of them). */
  auditRecords(): readonly AuditWriteEvent[] {
    this.trimAudit();
    return this.auditLog;
  }

  /** How many audit records were ever written (including those dropped from the log). */
  get auditTotal(): number {
    return this.auditCount;
  }

  // ---------------------------------------------------------------- writes

  /** RFC 3339 time of the clock (rfc3339 formats each second once: many writes fall in one). */
  private now(): string {
    return rfc3339(this.clock.now());
  }

  private checkNamespace(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    creating: boolean,
  ): void {
    if (!t.namespaced) return;
    if (namespace === undefined || namespace === "")
      throw S.badRequest("the server could not find the requested resource");
    const nsType = this.registry.get("/namespaces")!;
    const ns = this.store.get(nsType, undefined, namespace);
    if (ns === undefined) {
      if (creating && this.autoNs) {
        this.create(ctx, nsType, undefined, {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: namespace },
        });
        return;
      }
      throw S.notFound({ group: "", plural: "namespaces" }, namespace);
    }
    if (creating && ns.obj.metadata.deletionTimestamp !== undefined)
      throw new KubeApiError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `${S.qualified(t.plural, t.group)} "${""}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        reason: "Forbidden",
        details: {
          group: t.group,
          kind: t.plural,
          causes: [
            {
              type: "NamespaceTerminating",
              message: `namespace ${namespace} is being terminated`,
              field: "metadata.namespace",
            },
          ],
        },
        code: 403,
      });
  }

  private validateMeta(t: ResourceType, obj: KubeObject): void {
    const name = obj.metadata.name ?? "";
    const causes: S.Cause[] = [];
    if (name === "") {
      causes.push({
        type: "FieldValueRequired",
        message: "Required value: name or generateName is required",
        field: "metadata.name",
      });
    } else if (
      t.kind === "Namespace"
        ? !LABEL_RE.test(name) || name.length > 63
        : !NAME_RE.test(name) || name.length > 253
    ) {
      causes.push({
        type: "FieldValueInvalid",
        message:
          t.kind === "Namespace"
            ? `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`
            : `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
        field: "metadata.name",
      });
    }
    if (t.key === "apiextensions.k8s.io/customresourcedefinitions" && causes.length === 0) {
      const spec = (obj.spec ?? {}) as { group?: string; names?: { plural?: string; kind?: string } };
      const expected = `${spec.names?.plural ?? ""}.${spec.group ?? ""}`;
      if (name !== expected)
        causes.push({
          type: "FieldValueInvalid",
          message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`,
          field: "metadata.name",
        });
      if (spec.names?.kind === undefined || spec.names.kind === "")
        causes.push({ type: "FieldValueRequired", message: "Required value", field: "spec.names.kind" });
    }
    if (causes.length > 0) throw S.invalid(t.kind, t.group, name, causes);
  }

  /** Server-side defaults of a new object (the few a GitOps diff sees). */
  private defaults(t: ResourceType, obj: KubeObject): void {
    // a copy when the caller's spec is shared with a stored (frozen) object
    let spec = isPlainObject(obj.spec) ? obj.spec : undefined;
    if (spec !== undefined && Object.isFrozen(spec)) {
      spec = { ...spec };
      obj.spec = spec;
    }
    switch (t.key) {
      case "/namespaces":
        obj.spec = { finalizers: ["kubernetes"] };
        obj.status = { phase: "Active" };
        obj.metadata.labels = {
          ...obj.metadata.labels,
          "kubernetes.io/metadata.name": obj.metadata.name ?? "",
        };
        break;
      case "/secrets":
        if (obj.type === undefined) obj.type = "Opaque";
        if (isPlainObject(obj.stringData)) {
          const data: Record<string, unknown> = isPlainObject(obj.data) ? { ...obj.data } : {};
          for (const [k, v] of Object.entries(obj.stringData))
            data[k] = Buffer.from(String(v)).toString("base64");
          obj.data = data;
          delete obj.stringData;
        }
        break;
      case "/services":
        if (spec !== undefined) {
          if (spec.type === undefined) spec.type = "ClusterIP";
          if (spec.clusterIP === undefined && spec.type !== "ExternalName") {
            const n = ++this.serviceIp;
            spec.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`;
            spec.clusterIPs = [spec.clusterIP];
          }
          if (spec.sessionAffinity === undefined) spec.sessionAffinity = "None";
        }
        obj.status = { loadBalancer: {} };
        break;
      case "/pods":
        if (!isPlainObject(obj.status) || obj.status.phase === undefined)
          obj.status = { phase: "Pending", qosClass: "BestEffort" };
        break;
      case "apps/deployments":
        if (spec !== undefined) {
          if (spec.replicas === undefined) spec.replicas = 1;
          if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
          if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
          if (spec.strategy === undefined)
            spec.strategy = {
              type: "RollingUpdate",
              rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
            };
        }
        break;
      case "apps/replicasets":
      case "apps/statefulsets":
        if (spec !== undefined && spec.replicas === undefined) spec.replicas = 1;
        break;
      default:
        break;
    }
  }

  /** POST: store a new object. Takes ownership of `obj` (the caller must not use it afterwards). */
  create(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    obj: KubeObject,
    p: WriteParams = {},
  ): Stored {
    return this.insert(ctx, t, namespace, obj, p, undefined);
  }

  private insert(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    obj: KubeObject,
    p: WriteParams,
    managedFields: ManagedFieldsEntry[] | undefined,
  ): Stored {
    checkBody(obj);
    const ns = t.namespaced ? (namespace ?? obj.metadata.namespace) : undefined;
    if (
      t.namespaced &&
      obj.metadata.namespace !== undefined &&
      obj.metadata.namespace !== "" &&
      obj.metadata.namespace !== ns
    )
      throw S.badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    // the caller's metadata is ours to fill in unless it is a stored (frozen) one
    const meta = Object.isFrozen(obj.metadata) ? { ...obj.metadata } : obj.metadata;
    if (
      (meta.name === undefined || meta.name === "") &&
      meta.generateName !== undefined &&
      meta.generateName !== ""
    )
      meta.name = `${meta.generateName}${this.ids.suffix()}`;
    const name = meta.name ?? "";
    this.authorize(ctx, "create", t, ns, name, p);
    if (ns === undefined) delete meta.namespace;
    else meta.namespace = ns;
    obj.metadata = meta;
    this.validateMeta(t, obj);
    this.checkNamespace(ctx, t, ns, true);
    if (this.store.get(t, ns, name) !== undefined) throw S.alreadyExists(t, name);
    obj.apiVersion = obj.apiVersion ?? gvString(t.group, t.version);
    obj.kind = t.kind;
    meta.uid = this.ids.uid();
    meta.creationTimestamp = this.now();
    // (deleting a member that is not there still costs a runtime call: only those that are)
    if (meta.deletionTimestamp !== undefined) delete meta.deletionTimestamp;
    if (meta.deletionGracePeriodSeconds !== undefined) delete meta.deletionGracePeriodSeconds;
    if (meta.resourceVersion !== undefined) delete meta.resourceVersion;
    if (tracksGeneration(t)) meta.generation = 1;
    else if (meta.generation !== undefined) delete meta.generation;
    if (t.status) {
      if (t.custom) {
        if (obj.status !== undefined) delete obj.status;
      } else obj.status = {};
    }
    this.defaults(t, obj);
    if (managedFields !== undefined) meta.managedFields = managedFields;
    else {
      if (meta.managedFields !== undefined) delete meta.managedFields;
      meta.managedFields = recordUpdate(undefined, obj, {
        manager: this.fieldManager(ctx, p),
        time: meta.creationTimestamp,
        operation: "Update",
      });
    }
    if (p.dryRun === true) return { obj, rv: this.store.resourceVersion };
    const rv = this.store.nextRv();
    meta.resourceVersion = String(rv);
    const s = this.store.put(t, obj, rv, undefined);
    this.audit(ctx, "create", t, ns, name, p, meta.resourceVersion, 201);
    this.afterWrite(t, s.obj, undefined);
    return s;
  }

  /**
   * Commit a new version of a live object: carries server-owned metadata over,
   * applies status-subresource rules, bumps generation when anything outside
   * metadata (and status) changed, records managedFields, and removes the
   * object when it is being deleted and its last finalizer is gone.
   * A write that changes nothing returns the live object (no new resourceVersion).
   */
  private commit(
    ctx: RequestContext,
    verb: WriteVerb,
    t: ResourceType,
    live: Stored,
    next: KubeObject,
    p: WriteParams,
    managedFields?: ManagedFieldsEntry[],
  ): Stored {
    const old = live.obj;
    const name = old.metadata.name ?? "";
    const ns = old.metadata.namespace;
    if (next.metadata.name !== undefined && next.metadata.name !== name)
      throw S.badRequest(
        "the name of the object (" +
          next.metadata.name +
          ") does not match the name on the URL (" +
          name +
          ")",
      );
    let obj: KubeObject;
    if (p.subresource === "status") {
      // only the status (and the managedFields an apply computed) change: the rest stays the stored version's
      obj = { ...old, metadata: { ...old.metadata } };
      // (only the status can differ from the stored version's members: share that alone)
      if (next.status === undefined) delete obj.status;
      else obj.status = share(old.status, next.status);
      if (managedFields !== undefined) obj.metadata.managedFields = managedFields;
    } else {
      // the request's metadata is ours to fill in unless it is the stored (frozen) one
      const meta = Object.isFrozen(next.metadata) ? { ...next.metadata } : next.metadata;
      meta.name = name;
      if (ns === undefined) {
        if (meta.namespace !== undefined) delete meta.namespace;
      } else meta.namespace = ns;
      meta.uid = old.metadata.uid!;
      meta.creationTimestamp = old.metadata.creationTimestamp!;
      if (old.metadata.deletionTimestamp !== undefined) {
        meta.deletionTimestamp = old.metadata.deletionTimestamp;
        if (old.metadata.deletionGracePeriodSeconds !== undefined)
          meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      } else {
        // (deleting a member that is not there still costs a runtime call: only those that are)
        if (meta.deletionTimestamp !== undefined) delete meta.deletionTimestamp;
        if (meta.deletionGracePeriodSeconds !== undefined) delete meta.deletionGracePeriodSeconds;
      }
      if (old.metadata.generation !== undefined) meta.generation = old.metadata.generation;
      else if (meta.generation !== undefined) delete meta.generation;
      if (managedFields !== undefined) meta.managedFields = managedFields;
      else if (!Array.isArray(meta.managedFields) || meta.managedFields.length === 0) {
        if (old.metadata.managedFields !== undefined) meta.managedFields = old.metadata.managedFields;
        else if (meta.managedFields !== undefined) delete meta.managedFields;
      }
      meta.resourceVersion = old.metadata.resourceVersion!;
      // (the request's object is the server's own - a patch result or a copied body - unless frozen)
      if (Object.isFrozen(next))
        obj = { ...next, apiVersion: old.apiVersion, kind: old.kind, metadata: meta };
      else {
        obj = next;
        obj.apiVersion = old.apiVersion;
        obj.kind = old.kind;
        obj.metadata = meta;
      }
      if (t.status) {
        if (old.status !== undefined) obj.status = old.status;
        else if (obj.status !== undefined) delete obj.status;
      }
    }
    if (t.kind === "Namespace") obj.spec = old.spec;
    if (t.key === "/secrets" && isPlainObject(obj.stringData)) this.defaults(t, obj);
    // what the write left as it was becomes the stored version's own (frozen) subtrees again, and
    // whether anything changed is then known from the sharing (no second walk comparing the two)
    const metaSame = shareEqual(
      old.metadata as Record<string, unknown>,
      obj.metadata as Record<string, unknown>,
    );
    let bodySame: boolean;
    if (p.subresource === "status") {
      // (the rest is the stored version's own members: only the status can differ)
      const st = obj.status;
      bodySame = st === old.status || (typeof st === "object" && st !== null && deepEqual(st, old.status));
    } else {
      // (with a status subresource, the status is the stored one's: compared by the skip)
      bodySame = shareEqual(old, obj, t.status ? SKIP_META_STATUS : SKIP_META);
    }
    if (metaSame && bodySame) return live;
    // (a /status write changes the status alone: never the generation)
    if (p.subresource !== "status" && tracksGeneration(t) && !bodySame)
      obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (managedFields === undefined) {
      const opts: Parameters<typeof recordUpdate>[2] = {
        manager: this.fieldManager(ctx, p),
        time: this.now(),
        operation: "Update",
      };
      if (p.subresource !== undefined) opts.subresource = p.subresource;
      obj.metadata.managedFields = recordUpdate(old, obj, opts);
    }
    if (p.dryRun === true) return { obj, rv: live.rv };
    const rv = this.store.nextRv();
    obj.metadata.resourceVersion = String(rv);
    if (obj.metadata.deletionTimestamp !== undefined && (obj.metadata.finalizers ?? []).length === 0) {
      this.store.remove(t, obj, rv, live);
      this.audit(ctx, verb, t, ns, name, p, String(rv), 200);
      this.afterRemove(t, obj);
      return { obj, rv };
    }
    const s = this.store.put(t, obj, rv, live);
    this.audit(ctx, verb, t, ns, name, p, String(rv), 200);
    this.afterWrite(t, s.obj, old);
    return s;
  }

  private live(t: ResourceType, namespace: string | undefined, name: string): Stored {
    const s = this.store.get(t, this.scope(t, namespace), name);
    if (s === undefined) throw S.notFound(t, name);
    return s;
  }

  /**
   * PUT (main resource, /status or /scale): optimistic concurrency on
   * metadata.resourceVersion. Takes ownership of `body` unless it is frozen.
   */
  update(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    p: WriteParams = {},
  ): Stored {
    checkBody(body);
    this.authorize(ctx, "update", t, namespace, name, p);
    const live = this.live(t, namespace, name);
    const rv = body.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== live.obj.metadata.resourceVersion)
      throw S.conflict(t, name, S.STALE_MESSAGE);
    if (p.subresource === "scale") return this.writeScale(ctx, "update", t, live, body, p);
    if (
      t.namespaced &&
      body.metadata.namespace !== undefined &&
      body.metadata.namespace !== live.obj.metadata.namespace
    )
      throw S.badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    return this.commit(ctx, "update", t, live, body, p);
  }

  private applyPatchBody(
    t: ResourceType,
    target: KubeObject,
    patch: unknown,
    type: PatchType,
    foreign = false,
  ): KubeObject {
    switch (type) {
      case "json": {
        if (!Array.isArray(patch)) throw S.badRequest("json patch must be a list of operations");
        try {
          return jsonPatch.applyPatch(structuredClone(target), patch as Operation[], true, false).newDocument;
        } catch (e) {
          throw new KubeApiError({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: e instanceof Error ? e.message.split("\n")[0]! : String(e),
            reason: "Invalid",
            code: 422,
          });
        }
      }
      case "merge":
        if (!isPlainObject(patch)) throw S.badRequest("merge patch must be a JSON object");
        return (foreign ? mergeForeignPatch(target, patch) : mergePatch(target, patch)) as KubeObject;
      case "strategic": {
        if (t.custom)
          throw S.unsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
          );
        try {
          return strategicMergePatch(target, patch);
        } catch (e) {
          if (e instanceof PatchError) throw S.badRequest(e.message);
          throw e;
        }
      }
      case "apply":
        throw S.badRequest("apply patches go through apply()");
    }
  }

  /**
   * PATCH with any of the four patch types, on the main resource or a
   * subresource. Takes ownership of `patch`, except a merge patch marked
   * `foreign` (the caller keeps it: what the merge takes over is copied).
   */
  patch(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    p: WriteParams = {},
    foreign = false,
  ): Stored {
    if (type === "apply") {
      if (!isPlainObject(patch)) throw S.badRequest("apply patch must be an object");
      return this.apply(ctx, t, namespace, name, patch as KubeObject, p);
    }
    this.authorize(ctx, "patch", t, namespace, name, p);
    const live = this.live(t, namespace, name);
    if (p.subresource === "scale") {
      const scale = this.applyPatchBody(
        t,
        this.scaleOf(t, live.obj),
        patch,
        type === "strategic" ? "merge" : type,
        foreign,
      );
      return this.writeScale(ctx, "patch", t, live, scale, p);
    }
    const next = this.applyPatchBody(t, live.obj, patch, type, foreign);
    if (!isPlainObject(next) || !isPlainObject(next.metadata))
      throw S.badRequest("patched object has no metadata");
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== live.obj.metadata.resourceVersion)
      throw S.conflict(t, name, S.STALE_MESSAGE);
    return this.commit(ctx, "patch", t, live, next, p);
  }

  /** Server-side apply: creates when missing; 409 with FieldManagerConflict causes unless force. */
  apply(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    applied: KubeObject,
    p: WriteParams,
  ): Stored {
    if (p.fieldManager === undefined || p.fieldManager === "")
      throw S.badRequest(
        "PATCH request is missing a field manager: fieldManager is required for apply requests",
      );
    if (!isPlainObject(applied.metadata)) throw S.badRequest("Object 'metadata' is missing");
    if (applied.metadata.name !== undefined && applied.metadata.name !== name)
      throw S.badRequest(
        `the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`,
      );
    const ns = t.namespaced ? namespace : undefined;
    this.authorize(ctx, "patch", t, ns, name, p);
    const live = this.store.get(t, ns, name);
    const body: KubeObject = { ...applied, metadata: { ...applied.metadata, name } };
    if (ns !== undefined) body.metadata.namespace = ns;
    const res = serverSideApply(live?.obj, body, {
      manager: p.fieldManager,
      force: p.force === true,
      time: this.now(),
    });
    if (res.conflicts.length > 0 && p.force !== true) {
      const st = applyConflictStatus(res.conflicts);
      st.details = { name, group: t.group, kind: t.plural, ...st.details };
      throw new KubeApiError(st);
    }
    const managed = res.object.metadata.managedFields ?? [];
    if (live === undefined) {
      return this.insert(ctx, t, ns, { ...res.object, metadata: { ...res.object.metadata } }, p, managed);
    }
    if (p.subresource === "scale")
      throw S.badRequest("server-side apply to the scale subresource is not supported");
    return this.commit(ctx, "patch", t, live, res.object, p, managed);
  }

  // ---------------------------------------------------------------- scale

  /** The autoscaling/v1 Scale of an object with a scale subresource. */
  private scaleOf(t: ResourceType, obj: KubeObject): KubeObject {
    const sc = t.scale;
    if (sc === undefined)
      throw S.notFound({ group: t.group, plural: `${t.plural}/scale` }, obj.metadata.name ?? "");
    const status: Record<string, unknown> = { replicas: Number(getPath(obj, sc.statusReplicasPath) ?? 0) };
    const sel = sc.labelSelectorPath === undefined ? undefined : getPath(obj, sc.labelSelectorPath);
    if (typeof sel === "string" && sel !== "") status.selector = sel;
    else if (!t.custom) {
      const match = (obj.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)
        ?.selector?.matchLabels;
      if (match !== undefined)
        status.selector = Object.entries(match)
          .map(([k, v]) => `${k}=${v}`)
          .join(",");
    }
    const meta: Record<string, unknown> = {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    };
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: meta,
      spec: { replicas: Number(getPath(obj, sc.specReplicasPath) ?? 0) },
      status,
    };
  }

  private writeScale(
    ctx: RequestContext,
    verb: WriteVerb,
    t: ResourceType,
    live: Stored,
    scale: KubeObject,
    p: WriteParams,
  ): Stored {
    const sc = t.scale;
    if (sc === undefined)
      throw S.notFound({ group: t.group, plural: `${t.plural}/scale` }, live.obj.metadata.name ?? "");
    const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)
      throw S.invalid("Scale", "autoscaling", live.obj.metadata.name ?? "", [
        {
          type: "FieldValueInvalid",
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          field: "spec.replicas",
        },
      ]);
    const next = withPath(live.obj, sc.specReplicasPath, replicas);
    const s = this.commit(ctx, verb, t, live, next, { ...p, subresource: "scale" });
    return { obj: this.scaleOf(t, s.obj), rv: s.rv };
  }

  // ---------------------------------------------------------------- delete + GC

  /**
   * DELETE. Returns the object when it still exists (finalizers pending:
   * deletionTimestamp set), or undefined when it is gone.
   */
  delete(
    ctx: RequestContext,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
    p: WriteParams = {},
  ): { removed: KubeObject; remaining?: Stored } {
    const ns = t.namespaced ? namespace : undefined;
    this.authorize(ctx, "delete", t, ns, name, p);
    const live = this.live(t, ns, name);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== live.obj.metadata.uid)
      throw S.conflict(
        t,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.obj.metadata.uid}`,
      );
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== live.obj.metadata.resourceVersion)
      throw S.conflict(
        t,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.obj.metadata.resourceVersion}`,
      );
    if (opts.dryRun === true || p.dryRun === true) return { removed: live.obj };
    return this.deleteLive(ctx, t, live, opts.propagationPolicy ?? "Background", p);
  }

  private deleteLive(
    ctx: RequestContext,
    t: ResourceType,
    live: Stored,
    propagation: "Foreground" | "Background" | "Orphan",
    p: WriteParams,
  ): { removed: KubeObject; remaining?: Stored } {
    const obj = live.obj;
    const uid = obj.metadata.uid!;
    const dependents = this.store.dependentsOf(uid);
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    if (propagation === "Orphan" && dependents.length > 0 && !finalizers.includes(ORPHAN))
      finalizers.push(ORPHAN);
    if (propagation === "Foreground" && dependents.length > 0 && !finalizers.includes(FOREGROUND))
      finalizers.push(FOREGROUND);
    if (t.kind === "Namespace") {
      const next: KubeObject = {
        ...obj,
        metadata: { ...obj.metadata, deletionTimestamp: obj.metadata.deletionTimestamp ?? this.now() },
        status: { phase: "Terminating" },
      };
      const s = this.putInternal(t, next, live);
      this.audit(
        ctx,
        "delete",
        t,
        undefined,
        obj.metadata.name ?? "",
        p,
        s.obj.metadata.resourceVersion!,
        200,
      );
      this.drainNamespace(obj.metadata.name ?? "");
      const left = this.store.get(t, undefined, obj.metadata.name ?? "");
      return left === undefined ? { removed: s.obj } : { removed: s.obj, remaining: left };
    }
    if (finalizers.length > 0) {
      const already = obj.metadata.deletionTimestamp !== undefined;
      const next: KubeObject = {
        ...obj,
        metadata: {
          ...obj.metadata,
          finalizers,
          deletionTimestamp: obj.metadata.deletionTimestamp ?? this.now(),
          deletionGracePeriodSeconds: obj.metadata.deletionGracePeriodSeconds ?? 0,
        },
      };
      let s = live;
      if (!already || finalizers.length !== (obj.metadata.finalizers ?? []).length)
        s = this.putInternal(t, next, live);
      this.audit(
        ctx,
        "delete",
        t,
        obj.metadata.namespace,
        obj.metadata.name ?? "",
        p,
        s.obj.metadata.resourceVersion!,
        200,
      );
      if (finalizers.includes(ORPHAN)) this.orphanDependents(uid);
      if (finalizers.includes(FOREGROUND)) for (const d of dependents) this.deleteDependent(d, "Foreground");
      const left = this.store.get(t, obj.metadata.namespace, obj.metadata.name ?? "");
      return left === undefined ? { removed: s.obj } : { removed: s.obj, remaining: left };
    }
    const rv = this.store.nextRv();
    const last: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    this.store.remove(t, last, rv, live);
    this.audit(ctx, "delete", t, obj.metadata.namespace, obj.metadata.name ?? "", p, String(rv), 200);
    this.afterRemove(t, last);
    return { removed: last };
  }

  /** Store a system-made change (no policy, no managedFields) and run the write hooks. */
  private putInternal(t: ResourceType, next: KubeObject, live: Stored): Stored {
    const rv = this.store.nextRv();
    const obj: KubeObject = { ...next, metadata: { ...next.metadata, resourceVersion: String(rv) } };
    if (
      obj.metadata.deletionTimestamp !== undefined &&
      (obj.metadata.finalizers ?? []).length === 0 &&
      t.kind !== "Namespace"
    ) {
      this.store.remove(t, obj, rv, live);
      this.afterRemove(t, obj);
      return { obj, rv };
    }
    const s = this.store.put(t, obj, rv, live);
    this.afterWrite(t, s.obj, live.obj);
    return s;
  }

  private splitDependent(ref: string): { t: ResourceType; s: Stored } | undefined {
    const bar = ref.indexOf("|");
    const t = this.registry.get(ref.slice(0, bar));
    if (t === undefined) return undefined;
    const key = ref.slice(bar + 1);
    const slash = key.indexOf("/");
    const s = t.namespaced
      ? this.store.get(t, key.slice(0, slash), key.slice(slash + 1))
      : this.store.get(t, undefined, key);
    return s === undefined ? undefined : { t, s };
  }

  private deleteDependent(ref: string, propagation: "Foreground" | "Background"): void {
    const d = this.splitDependent(ref);
    if (d === undefined || d.s.obj.metadata.deletionTimestamp !== undefined) return;
    this.deleteLive(SYSTEM, d.t, d.s, propagation, {});
  }

  private orphanDependents(uid: string): void {
    for (const ref of this.store.dependentsOf(uid)) {
      const d = this.splitDependent(ref);
      if (d === undefined) continue;
      const owners = (d.s.obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
      const meta: ObjectMeta = { ...d.s.obj.metadata, ownerReferences: owners };
      if (owners.length === 0) delete meta.ownerReferences;
      this.putInternal(d.t, { ...d.s.obj, metadata: meta }, d.s);
    }
    this.dropFinalizer(uid, ORPHAN);
  }

  /** Remove `finalizer` from the object with `uid` (found through its dependents' owner refs or a scan). */
  private dropFinalizer(uid: string, finalizer: string, hint?: { t: ResourceType; s: Stored }): void {
    const found = hint ?? this.findByUid(uid);
    if (found === undefined) return;
    const fin = (found.s.obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (fin.length === (found.s.obj.metadata.finalizers ?? []).length) return;
    const meta: ObjectMeta = { ...found.s.obj.metadata, finalizers: fin };
    if (fin.length === 0) delete meta.finalizers;
    this.putInternal(found.t, { ...found.s.obj, metadata: meta }, found.s);
  }

  private findByUid(
    uid: string,
    within?: { apiVersion: string; kind: string; name: string; namespace?: string },
  ): { t: ResourceType; s: Stored } | undefined {
    if (within !== undefined) {
      const t = this.registry.byApiVersionKind(within.apiVersion, within.kind);
      if (t === undefined) return undefined;
      const s = this.store.get(t, t.namespaced ? within.namespace : undefined, within.name);
      return s !== undefined && s.obj.metadata.uid === uid ? { t, s } : undefined;
    }
    for (const t of this.registry.all()) {
      for (const s of this.store.bucket(t).values()) if (s.obj.metadata.uid === uid) return { t, s };
    }
    return undefined;
  }

  /** Hooks after an object was stored (CRDs register their types). */
  private afterWrite(t: ResourceType, obj: KubeObject, _old: KubeObject | undefined): void {
    if (
      t.key === "apiextensions.k8s.io/customresourcedefinitions" &&
      obj.metadata.deletionTimestamp === undefined
    ) {
      const ct = typeFromCrd(obj);
      if (ct !== undefined) {
        const prev = this.registry.get(ct.key);
        this.registry.add(ct);
        if (prev === undefined || !isPlainObject(obj.status) || obj.status.acceptedNames === undefined)
          this.establish(t, obj);
      }
    }
  }

  private establish(t: ResourceType, crd: KubeObject): void {
    const live = this.store.get(t, undefined, crd.metadata.name ?? "");
    if (live === undefined) return;
    const names = (crd.spec as { names?: unknown }).names;
    const time = this.now();
    const cond = (type: string, reason: string, message: string) => ({
      type,
      status: "True",
      lastTransitionTime: time,
      reason,
      message,
    });
    this.putInternal(
      t,
      {
        ...live.obj,
        status: {
          conditions: [
            cond("NamesAccepted", "NoConflicts", "no conflicts found"),
            cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
          ],
          acceptedNames: names,
          storedVersions: [typeFromCrd(crd)?.version ?? ""],
        },
      },
      live,
    );
  }

  /** Hooks after an object is gone for good: GC of dependents, foreground owners, namespaces, CRDs. */
  private afterRemove(t: ResourceType, obj: KubeObject): void {
    const uid = obj.metadata.uid!;
    // background garbage collection: dependents whose owners are all gone are deleted
    for (const ref of this.store.dependentsOf(uid)) {
      const d = this.splitDependent(ref);
      if (d === undefined) continue;
      const owners = d.s.obj.metadata.ownerReferences ?? [];
      const alive = owners.filter(
        (o) =>
          o.uid !== uid &&
          this.findByUid(o.uid, { ...o, namespace: d.s.obj.metadata.namespace }) !== undefined,
      );
      if (alive.length === 0) {
        if (d.s.obj.metadata.deletionTimestamp === undefined)
          this.deleteLive(SYSTEM, d.t, d.s, "Background", {});
      } else {
        this.putInternal(d.t, { ...d.s.obj, metadata: { ...d.s.obj.metadata, ownerReferences: alive } }, d.s);
      }
    }
    // foreground owners waiting for this dependent
    for (const o of obj.metadata.ownerReferences ?? []) {
      const owner = this.findByUid(o.uid, { ...o, namespace: obj.metadata.namespace });
      if (owner === undefined || !(owner.s.obj.metadata.finalizers ?? []).includes(FOREGROUND)) continue;
      if (this.store.dependentsOf(o.uid).length === 0) this.dropFinalizer(o.uid, FOREGROUND, owner);
    }
    if (t.key === "apiextensions.k8s.io/customresourcedefinitions") {
      const ct = typeFromCrd(obj);
      if (ct !== undefined) {
        const served = this.registry.get(ct.key);
        if (served !== undefined) {
          for (const s of [...this.store.bucket(served).values()]) {
            const rv = this.store.nextRv();
            this.store.remove(
              served,
              { ...s.obj, metadata: { ...s.obj.metadata, resourceVersion: String(rv) } },
              rv,
              s,
            );
          }
          this.store.dropBucket(served);
          this.registry.remove(ct.key);
        }
      }
    }
    const ns = obj.metadata.namespace;
    if (ns !== undefined && t.namespaced) {
      const nsType = this.registry.get("/namespaces")!;
      const nsLive = this.store.get(nsType, undefined, ns);
      if (nsLive !== undefined && nsLive.obj.metadata.deletionTimestamp !== undefined)
        this.finishNamespace(nsLive);
    }
  }

  private drainNamespace(ns: string): void {
    for (const t of this.registry.all()) {
      if (!t.namespaced) continue;
      for (const s of [...this.store.inNamespace(t, ns).values()]) {
        if (s.obj.metadata.deletionTimestamp !== undefined) continue;
        const cur = this.store.get(t, ns, s.obj.metadata.name ?? "");
        if (cur !== undefined && cur.obj.metadata.deletionTimestamp === undefined)
          this.deleteLive(SYSTEM, t, cur, "Background", {});
      }
    }
    const nsType = this.registry.get("/namespaces")!;
    const nsLive = this.store.get(nsType, undefined, ns);
    if (nsLive !== undefined) this.finishNamespace(nsLive);
  }

  private finishNamespace(nsLive: Stored): void {
    const ns = nsLive.obj.metadata.name ?? "";
    for (const t of this.registry.all()) if (t.namespaced && this.store.inNamespace(t, ns).size > 0) return;
    const nsType = this.registry.get("/namespaces")!;
    const rv = this.store.nextRv();
    const last: KubeObject = {
      ...nsLive.obj,
      metadata: { ...nsLive.obj.metadata, resourceVersion: String(rv) },
      spec: { finalizers: [] },
    };
    this.store.remove(nsType, last, rv, nsLive);
  }

  // ---------------------------------------------------------------- watch

  /** Watches with events to deliver at the next microtask, in the order they got their first one. */
  private deliveries: Array<() => void> = [];
  private deliveriesQueued = false;

  /**
   * Run `flush` at a following microtask: the watches that get events between
   * two turns share one promise reaction (no microtask and no async-hooks
   * wrapper per watch). Watches are served in the order they were scheduled,
   * and each watch's events in commit order. Watches scheduled while a batch
   * is delivered go to the next batch, whose reaction is queued when the
   * first of them is scheduled: a later one joins it and so may run before a
   * microtask some consumer queued in between, where one microtask per watch
   * would have run after it (an API server orders nothing across watches;
   * runs stay deterministic). A consumer's exception is rethrown on its own
   * microtask (as from queueMicrotask); the other watches are still served.
   */
  private deliverSoon(flush: () => void): void {
    this.deliveries.push(flush);
    if (this.deliveriesQueued) return;
    this.deliveriesQueued = true;
    void RESOLVED.then(this.deliverBatch);
  }

  private readonly deliverBatch = (): void => {
    this.deliveriesQueued = false;
    const batch = this.deliveries;
    this.deliveries = [];
    for (const flush of batch) {
      try {
        flush();
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };

  /**
   * Watch one resource type. Throws 410 Expired when `resourceVersion` is
   * older than the history window. Events go to `send` in commit order,
   * asynchronously (a microtask after the write), never re-entrantly.
   */
  watch(t: ResourceType, p: WatchParams, send: WatchSink): { stop(): void } {
    const label = parseLabelSelector(p.labelSelector);
    const field = parseFieldSelector(p.fieldSelector, t.kind);
    const ns = t.namespaced && p.namespace !== undefined && p.namespace !== "" ? p.namespace : undefined;
    const match: Predicate = (o) => (label === undefined || label(o)) && (field === undefined || field(o));
    const rvText = p.resourceVersion ?? "";
    let backlog: HistoryRecord[] = [];
    if (rvText !== "" && rvText !== "0") {
      const rv = Number(rvText);
      if (!Number.isInteger(rv) || rv < 0) throw S.badRequest(`invalid resource version: ${rvText}`);
      // a watch that sends bookmarks sees every record (others' writes move its resourceVersion on)
      const since = this.store.since(rv, p.allowWatchBookmarks === true ? undefined : t.key);
      if (since === undefined)
        throw S.expired(`too old resource version: ${rv} (${this.store.oldestResumable + 1})`);
      backlog = since;
    }
    let stopped = false;
    // the events waiting for the next microtask, three slots each (type, object, stored): no tuple per event
    let queue: Array<WatchEventType | KubeObject | Stored | undefined> = [];
    let scheduled = false;
    let lastSentRv = this.store.resourceVersion;
    let bookmarkArmed: BookmarkGroup | undefined;
    const flush = () => {
      scheduled = false;
      const q = queue;
      queue = [];
      for (let i = 0; i < q.length; i += 3) {
        if (stopped) return;
        send(q[i] as WatchEventType, q[i + 1] as KubeObject, q[i + 2] as Stored | undefined);
      }
    };
    const push = (type: WatchEventType, obj: KubeObject, s: Stored | undefined) => {
      queue.push(type, obj, s);
      if (!scheduled) {
        scheduled = true;
        this.deliverSoon(flush);
      }
    };
    const armBookmark = (during: number) => {
      if (p.allowWatchBookmarks !== true || bookmarkArmed !== undefined || stopped) return;
      bookmarkArmed = this.armBookmarkTimer(during, () => {
        bookmarkArmed = undefined;
        if (stopped || this.store.resourceVersion === lastSentRv) return;
        lastSentRv = this.store.resourceVersion;
        // frozen like a stored object: an in-process watcher gets it as it is, not a copy
        push(
          "BOOKMARK",
          deepFreeze({
            apiVersion: gvString(t.group, t.version),
            kind: t.kind,
            metadata: { resourceVersion: String(lastSentRv) },
          }),
          undefined,
        );
      });
    };
    // (records replayed from the backlog arm a timer of their own: -1 is no record's resourceVersion)
    let replaying = true;
    const onRecord = (r: HistoryRecord) => {
      const during = replaying ? -1 : r.rv;
      if (r.key !== t.key || (ns !== undefined && r.namespace !== ns)) {
        armBookmark(during);
        return;
      }
      const now = match(r.stored.obj);
      let type: WatchEventType | undefined;
      if (r.type === "MODIFIED" && r.prev !== undefined) {
        const before = match(r.prev);
        type = now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : undefined;
      } else if (now) type = r.type;
      if (type === undefined) {
        armBookmark(during);
        return;
      }
      lastSentRv = r.rv;
      push(type, r.stored.obj, r.stored);
      armBookmark(during);
    };
    if (p.initialEvents === true && (rvText === "" || rvText === "0")) {
      for (const s of this.list(t, { ...(ns === undefined ? {} : { namespace: ns }) }).items)
        if (match(s.obj)) push("ADDED", s.obj, s);
    }
    for (const r of backlog) onRecord(r);
    replaying = false;
    const unsubscribe = this.store.subscribe(onRecord, p.allowWatchBookmarks === true ? undefined : t.key);
    return {
      stop: () => {
        stopped = true;
        unsubscribe();
        if (bookmarkArmed !== undefined) this.disarmBookmark(bookmarkArmed);
        bookmarkArmed = undefined;
      },
    };
  }

  /** The bookmark timers the watches armed while one record was handed out (its number), if still open. */
  private bookmarkGroup: BookmarkGroup | undefined;

  /**
   * Arm a watch's bookmark timer (`fire` runs bookmarkMs from now). The
   * watches that arm theirs while one record is handed to its listeners
   * (`during`: its resourceVersion, unique per record; -1 for none) share one clock timer that calls them
   * in the order they armed: the timers each would have had were due at one
   * instant and made one after another with nothing in between, so they fired
   * back to back in that order anyway (one timer per record instead of one per
   * watch that allows bookmarks).
   */
  private armBookmarkTimer(during: number, fire: () => void): BookmarkGroup {
    const open = this.bookmarkGroup;
    if (open !== undefined && during >= 0 && open.record === during && open.at === this.clock.now()) {
      open.fns.push(fire);
      open.live++;
      return open;
    }
    const g: BookmarkGroup = {
      record: during,
      at: this.clock.now(),
      fns: [fire],
      live: 1,
      handle: undefined,
    };
    g.handle = this.clock.setTimeout(() => {
      if (this.bookmarkGroup === g) this.bookmarkGroup = undefined;
      let error: { e: unknown } | undefined;
      for (const f of g.fns) {
        try {
          f();
        } catch (e) {
          error ??= { e };
        }
      }
      if (error !== undefined) throw error.e;
    }, this.bookmarkMs);
    this.bookmarkGroup = g;
    return g;
  }

  /** A stopped watch leaves its group; the group's timer goes when no watch is left in it. */
  private disarmBookmark(g: BookmarkGroup): void {
    if (--g.live > 0 || g.handle === undefined) return;
    this.clock.clearTimeout(g.handle);
    if (this.bookmarkGroup === g) this.bookmarkGroup = undefined;
  }
}

/** Bookmark timers armed during one record's hand-out: one clock timer for all of them. */
interface BookmarkGroup {
  readonly record: number;
  readonly at: number;
  readonly fns: Array<() => void>;
  live: number;
  handle: ReturnType<Clock["setTimeout"]> | undefined;
}

export { objectKey };
