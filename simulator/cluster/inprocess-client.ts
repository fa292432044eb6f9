/**
 * The in-process KubeClient: the same ApiServer the HTTP server uses, called
 * directly (no sockets, no serialization). What the caller sends is copied
 * (JSON semantics) so the caller may keep using it; what it reads (get, list
 * items, write results, watch events) is the store's own deep-frozen object,
 * shared by every reader: copy before changing it (`structuredClone`, spread
 * the parts you change), as an attempt to mutate it throws a TypeError.
 */
import {
  type ApiResourceInfo,
  DEFAULT_FIELD_MANAGER,
  type DeleteOptions,
  type KubeClient,
  type KubeList,
  type KubeObject,
  KubeApiError,
  type ListOptions,
  type ObjectRef,
  type PatchOptions,
  type PatchType,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
  type WriteOptions,
} from "../../engine/kube/types.ts";
import type { ApiServer, RequestContext, WriteParams } from "./api.ts";
import type { ResourceType } from "./registry.ts";
import { noResource } from "./status.ts";
import { isPlainData, ownJson } from "./objutil.ts";
import type { Stored } from "./store.ts";

/** A stored object as the caller sees it: the shared, deep-frozen object itself. */
function out<T extends KubeObject>(s: Stored): T {
  return s.obj as T;
}

/**
 * The store's copy of the caller's value (what a JSON request body would
 * carry); frozen parts the caller took from a read are shared, not copied.
 */
function own<T>(v: T): T {
  return ownJson(v);
}

function writeParams(o: WriteOptions | undefined): WriteParams {
  const p: WriteParams = { fieldManager: o?.fieldManager ?? DEFAULT_FIELD_MANAGER };
  if (o?.dryRun === true) p.dryRun = true;
  return p;
}

export class InProcessClient implements KubeClient {
  readonly identity: string;

  constructor(
    private readonly api: ApiServer,
    private readonly ctx: RequestContext,
  ) {
    this.identity = ctx.user;
  }

  private ns(t: ResourceType, namespace: string | undefined): string | undefined {
    return t.namespaced ? (namespace === undefined || namespace === "" ? "default" : namespace) : undefined;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    const t = this.api.type(ref.apiVersion, ref.kind);
    return out<T>(this.api.get(t, this.ns(t, ref.namespace), ref.name));
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: ListOptions = {},
  ): Promise<KubeList<T>> {
    const t = this.api.type(apiVersion, kind);
    const r = this.api.list(t, opts);
    const metadata: KubeList<T>["metadata"] = { resourceVersion: r.resourceVersion };
    if (r.continue !== undefined) metadata.continue = r.continue;
    if (r.remainingItemCount !== undefined) metadata.remainingItemCount = r.remainingItemCount;
    return { apiVersion, kind: t.listKind, metadata, items: r.items.map((s) => out<T>(s)) };
  }

  async create<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    const t = this.api.type(obj.apiVersion, obj.kind);
    const s = this.api.create(this.ctx, t, this.ns(t, obj.metadata?.namespace), own(obj), writeParams(opts));
    return out<T>(s);
  }

  async replace<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    const t = this.api.type(obj.apiVersion, obj.kind);
    const s = this.api.update(
      this.ctx,
      t,
      this.ns(t, obj.metadata.namespace),
      obj.metadata.name ?? "",
      own(obj),
      writeParams(opts),
    );
    return out<T>(s);
  }

  async replaceStatus<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    const t = this.api.type(obj.apiVersion, obj.kind);
    if (!t.status) throw this.noSubresource();
    const s = this.api.update(
      this.ctx,
      t,
      this.ns(t, obj.metadata.namespace),
      obj.metadata.name ?? "",
      own(obj),
      {
        ...writeParams(opts),
        subresource: "status",
      },
    );
    return out<T>(s);
  }

  private noSubresource(): KubeApiError {
    return noResource();
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    type: PatchType,
    opts: PatchOptions = {},
  ): Promise<T> {
    const t = this.api.type(ref.apiVersion, ref.kind);
    if (opts.subresource === "status" && !t.status) throw this.noSubresource();
    const p = writeParams(opts);
    if (opts.subresource !== undefined) p.subresource = opts.subresource;
    if (opts.force !== undefined) p.force = opts.force;
    // a merge patch is merged from the caller's object (copying what it takes over), not copied first
    const s =
      type === "merge" && isPlainData(patch) && !Object.isFrozen(patch)
        ? this.api.patch(this.ctx, t, this.ns(t, ref.namespace), ref.name, patch, type, p, true)
        : this.api.patch(this.ctx, t, this.ns(t, ref.namespace), ref.name, own(patch), type, p);
    return out<T>(s);
  }

  async apply<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T> {
    const t = this.api.type(obj.apiVersion, obj.kind);
    const p: WriteParams = { fieldManager: opts.fieldManager, force: opts.force === true };
    if (opts.dryRun === true) p.dryRun = true;
    const s = this.api.apply(
      this.ctx,
      t,
      this.ns(t, obj.metadata.namespace),
      obj.metadata.name ?? "",
      own(obj),
      p,
    );
    return out<T>(s);
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<KubeObject | undefined> {
    const t = this.api.type(ref.apiVersion, ref.kind);
    const r = this.api.delete(this.ctx, t, this.ns(t, ref.namespace), ref.name, opts);
    return r.remaining === undefined ? undefined : out(r.remaining);
  }

  async watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onClose?: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const t = this.api.type(apiVersion, kind);
    let closed = false;
    const close = (err?: unknown) => {
      if (closed) return;
      closed = true;
      onClose?.(err);
    };
    try {
      const w = this.api.watch(t, { ...opts, initialEvents: false }, (type, obj, stored) =>
        onEvent({
          type,
          object: (stored !== undefined ? out(stored) : Object.isFrozen(obj) ? obj : own(obj)) as T,
        }),
      );
      return {
        stop: () => {
          w.stop();
          close();
        },
      };
    } catch (e) {
      if (!(e instanceof KubeApiError) || e.code !== 410) throw e;
      // like the HTTP API: an in-band ERROR event carrying the Status, then the watch ends
      queueMicrotask(() => {
        onEvent({ type: "ERROR", object: e.status as unknown as T });
        close(e);
      });
      return { stop: () => close() };
    }
  }

  async resources(): Promise<ApiResourceInfo[]> {
    return this.api.registry.info();
  }
}
