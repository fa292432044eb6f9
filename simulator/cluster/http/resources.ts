/**
 * The resource API: /api/v1/... and /apis/{group}/{version}/... for every
 * served type: get/list (optionally as Table), watch (chunked JSON lines),
 * create, replace, patch (four content types), delete, deletecollection,
 * and the /status and /scale subresources.
 */
import { Socket } from "node:net";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DeleteOptions, KubeObject, PatchType, WatchEventType } from "../../../engine/kube/types.ts";
import { KubeApiError } from "../../../engine/kube/types.ts";
import type { ApiServer, RequestContext, WriteParams } from "../api.ts";
import type { ResourceType } from "../registry.ts";
import * as S from "../status.ts";
import { type Stored, storedJson } from "../store.ts";
import { type IncludeObject, toTable } from "./table.ts";

export interface ResourcesOptions {
  api: ApiServer;
  /** The authenticated caller of a request (set by the auth hook). */
  identityOf(req: FastifyRequest): RequestContext;
}

interface Target {
  t: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  sub: "status" | "scale" | undefined;
  watchPath: boolean;
  version: string;
}

/** Marker body for requests in a content type this server does not decode. */
export class UndecodedBody {
  constructor(
    readonly contentType: string,
    readonly bytes: Buffer,
  ) {}
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";

const PATCH_TYPES: Record<string, PatchType> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
  "application/apply-patch+json": "apply",
};

type Query = Record<string, string | undefined>;

function parseTarget(api: ApiServer, group: string, rest: string[]): Target {
  const version = rest[0];
  if (version === undefined) throw S.noResource();
  let segs = rest.slice(1);
  let watchPath = false;
  if (segs[0] === "watch") {
    watchPath = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  if (
    segs[0] === "namespaces" &&
    segs.length >= 3 &&
    !(segs.length === 3 && ["status", "finalize"].includes(segs[2]!))
  ) {
    namespace = segs[1];
    segs = segs.slice(2);
  }
  const [plural, name, sub, ...more] = segs;
  if (plural === undefined || more.length > 0) throw S.noResource();
  const t = api.resource(group, version, plural);
  if (sub !== undefined && sub !== "status" && sub !== "scale") throw S.noResource();
  if ((sub === "status" && !t.status && t.kind !== "Namespace") || (sub === "scale" && t.scale === undefined))
    throw S.noResource();
  if (t.namespaced && name !== undefined && namespace === undefined) throw S.noResource();
  return { t, namespace, name, sub, watchPath, version };
}

function wantsTable(req: FastifyRequest): boolean {
  return (req.headers.accept ?? "").includes("as=Table");
}

function contentType(req: FastifyRequest): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

function writeParams(q: Query, sub: Target["sub"]): WriteParams {
  const p: WriteParams = {};
  if (q.fieldManager !== undefined && q.fieldManager !== "") p.fieldManager = q.fieldManager;
  if (q.dryRun === "All") p.dryRun = true;
  else if (q.dryRun !== undefined && q.dryRun !== "")
    throw S.badRequest(`Invalid dry run value: ${q.dryRun}`);
  if (q.force === "true") p.force = true;
  if (sub !== undefined) p.subresource = sub;
  return p;
}

function bodyObject(body: unknown): KubeObject {
  if (body instanceof UndecodedBody) {
    if (body.contentType === PROTOBUF)
      throw S.unsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml; " +
          "this embedded API server does not decode protobuf (kubectl generator commands send it): " +
          "use `kubectl create ... --dry-run=client -o yaml | kubectl apply -f -` instead",
      );
    throw S.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${body.contentType})`,
    );
  }
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body))
    throw S.badRequest("Object 'Kind' is missing in the request body");
  return body as KubeObject;
}

function includeObject(q: Query): IncludeObject {
  return q.includeObject === "None" || q.includeObject === "Object" ? q.includeObject : "Metadata";
}

/** An object as served at `version` (custom resources may be read through any served version). */
function atVersion(tg: Target, s: Stored): string {
  const gv = tg.t.group === "" ? tg.version : `${tg.t.group}/${tg.version}`;
  if (s.obj.apiVersion === gv || s.obj.kind === "Scale") return storedJson(s);
  return JSON.stringify({ ...s.obj, apiVersion: gv });
}

function sendJson(reply: FastifyReply, code: number, json: string): FastifyReply {
  return reply.code(code).type("application/json").send(json);
}

/** A watch line and the same line as one HTTP/1.1 chunk (size, CRLF, line, CRLF). */
interface WatchLine {
  text: string;
  chunk: Buffer;
}

function watchLine(text: string): WatchLine {
  return { text, chunk: Buffer.from(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`) };
}

/**
 * One event goes to every watcher of its type one after the other (each watch
 * flushes in its own microtask), so the encoded line of the last event is kept
 * and the next watcher of the same event and version writes the same bytes
 * (one JSON line, one UTF-8 encoding and one chunk frame per event, not per
 * watcher).
 */
function sharedWatchLines(): (type: WatchEventType, s: Stored, gv: string, json: () => string) => WatchLine {
  let last: { type: WatchEventType; s: Stored; gv: string; line: WatchLine } | undefined;
  return (type, s, gv, json) => {
    if (last !== undefined && last.s === s && last.type === type && last.gv === gv) return last.line;
    const line = watchLine(`{"type":"${type}","object":${json()}}\n`);
    last = { type, s, gv, line };
    return line;
  };
}

export async function resourcesPlugin(app: FastifyInstance, opts: ResourcesOptions): Promise<void> {
  const { api, identityOf } = opts;
  const open = new Set<{ end(): void }>();
  const sharedLine = sharedWatchLines();
  app.addHook("onClose", async () => {
    for (const w of open) w.end();
    open.clear();
  });

  const handle = (group: string, rest: string[]) => async (req: FastifyRequest, reply: FastifyReply) => {
    const tg = parseTarget(api, group, rest);
    const q = req.query as Query;
    const ctx = identityOf(req);
    const { t, name, sub } = tg;
    const ns = t.namespaced ? tg.namespace : undefined;
    switch (req.method) {
      case "GET": {
        if (tg.watchPath || q.watch === "true" || q.watch === "1") return watch(req, reply, tg, q);
        if (name !== undefined) {
          const s = api.get(t, ns, name, sub === "scale" ? "scale" : undefined);
          if (wantsTable(req))
            return toTable(t, [s.obj], api.clock.now(), {
              include: includeObject(q),
              metadata: { resourceVersion: s.obj.metadata.resourceVersion ?? "" },
            });
          return sendJson(reply, 200, atVersion(tg, s));
        }
        const listParams: Parameters<ApiServer["list"]>[1] = {};
        if (ns !== undefined) listParams.namespace = ns;
        if (q.labelSelector !== undefined) listParams.labelSelector = q.labelSelector;
        if (q.fieldSelector !== undefined) listParams.fieldSelector = q.fieldSelector;
        if (q.limit !== undefined) listParams.limit = Number(q.limit);
        if (q.continue !== undefined) listParams.continue = q.continue;
        const r = api.list(t, listParams);
        const meta: Record<string, unknown> = { resourceVersion: r.resourceVersion };
        if (r.continue !== undefined) meta.continue = r.continue;
        if (r.remainingItemCount !== undefined) meta.remainingItemCount = r.remainingItemCount;
        if (wantsTable(req))
          return toTable(
            t,
            r.items.map((s) => s.obj),
            api.clock.now(),
            { include: includeObject(q), metadata: meta },
          );
        const gv = t.group === "" ? tg.version : `${t.group}/${tg.version}`;
        const items = r.items.map((s) => atVersion(tg, s)).join(",");
        return sendJson(
          reply,
          200,
          `{"kind":${JSON.stringify(t.listKind)},"apiVersion":${JSON.stringify(gv)},"metadata":${JSON.stringify(meta)},"items":[${items}]}`,
        );
      }
      case "POST": {
        if (name !== undefined)
          throw S.methodNotAllowed(`the server does not allow this method on the requested resource`);
        const s = api.create(ctx, t, ns, bodyObject(req.body), writeParams(q, undefined));
        return sendJson(reply, 201, atVersion(tg, s));
      }
      case "PUT": {
        if (name === undefined)
          throw S.methodNotAllowed("the server does not allow this method on the requested resource");
        const s = api.update(ctx, t, ns, name, bodyObject(req.body), writeParams(q, sub));
        return sendJson(reply, 200, atVersion(tg, s));
      }
      case "PATCH": {
        if (name === undefined)
          throw S.methodNotAllowed("the server does not allow this method on the requested resource");
        const ct = contentType(req);
        const type = PATCH_TYPES[ct];
        if (type === undefined)
          throw S.unsupportedMediaType(
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${t.custom ? "" : ", application/strategic-merge-patch+json"}`,
          );
        if (req.body instanceof UndecodedBody || req.body === undefined)
          throw S.badRequest("the request body is empty or undecodable");
        const p = writeParams(q, sub);
        const existed = api.store.get(t, ns, name) !== undefined;
        const s = api.patch(ctx, t, ns, name, req.body, type, p);
        return sendJson(reply, existed ? 200 : 201, atVersion(tg, s));
      }
      case "DELETE": {
        const body =
          req.body instanceof UndecodedBody ? undefined : (req.body as Record<string, unknown> | undefined);
        const d: DeleteOptions = {};
        const prop = (body?.propagationPolicy as string | undefined) ?? q.propagationPolicy;
        if (prop !== undefined) {
          if (prop !== "Foreground" && prop !== "Background" && prop !== "Orphan")
            throw S.badRequest(
              `propagationPolicy: Unsupported value: "${prop}": supported values: "Foreground", "Background", "Orphan"`,
            );
          d.propagationPolicy = prop;
        }
        if (body?.orphanDependents === true || q.orphanDependents === "true") d.propagationPolicy = "Orphan";
        const pre = body?.preconditions as DeleteOptions["preconditions"] | undefined;
        if (pre !== undefined) d.preconditions = pre;
        const dry = Array.isArray(body?.dryRun)
          ? (body.dryRun as string[]).includes("All")
          : q.dryRun === "All";
        if (dry) d.dryRun = true;
        if (name === undefined) {
          const listParams: Parameters<ApiServer["list"]>[1] = {};
          if (ns !== undefined) listParams.namespace = ns;
          if (q.labelSelector !== undefined) listParams.labelSelector = q.labelSelector;
          if (q.fieldSelector !== undefined) listParams.fieldSelector = q.fieldSelector;
          const victims = api.list(t, listParams).items.map((s) => s.obj);
          const out: string[] = [];
          for (const v of victims) {
            const r = api.delete(
              ctx,
              t,
              v.metadata.namespace,
              v.metadata.name ?? "",
              d,
              writeParams(q, undefined),
            );
            out.push(JSON.stringify(r.remaining?.obj ?? r.removed));
          }
          const gv = t.group === "" ? tg.version : `${t.group}/${tg.version}`;
          return sendJson(
            reply,
            200,
            `{"kind":${JSON.stringify(t.listKind)},"apiVersion":${JSON.stringify(gv)},"metadata":{"resourceVersion":"${api.resourceVersion}"},"items":[${out.join(",")}]}`,
          );
        }
        const r = api.delete(ctx, t, ns, name, d, writeParams(q, undefined));
        if (r.remaining !== undefined) return sendJson(reply, 202, atVersion(tg, r.remaining));
        if (t.kind === "Pod" || t.kind === "Namespace")
          return sendJson(reply, 200, JSON.stringify(r.removed));
        return reply.code(200).send(S.successStatus(t, name, r.removed.metadata.uid));
      }
      default:
        throw S.methodNotAllowed("the server does not allow this method on the requested resource");
    }
  };

  function watch(req: FastifyRequest, reply: FastifyReply, tg: Target, q: Query): void {
    const { t } = tg;
    const table = wantsTable(req);
    const include = includeObject(q);
    const rv = q.resourceVersion ?? "";
    const params: Parameters<ApiServer["watch"]>[1] = {
      initialEvents: rv === "" || rv === "0",
      allowWatchBookmarks: q.allowWatchBookmarks === "true",
      resourceVersion: rv,
    };
    const ns = t.namespaced ? tg.namespace : undefined;
    if (ns !== undefined) params.namespace = ns;
    if (q.labelSelector !== undefined) params.labelSelector = q.labelSelector;
    let field = q.fieldSelector;
    if (tg.name !== undefined)
      field =
        field === undefined || field === ""
          ? `metadata.name=${tg.name}`
          : `${field},metadata.name=${tg.name}`;
    if (field !== undefined) params.fieldSelector = field;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "no-cache, private",
      "transfer-encoding": "chunked",
    });
    res.flushHeaders();
    let first = true;
    // lines go to the socket as ready-made chunks, one write each (ServerResponse would frame
    // every line anew in four writes under a cork); it still ends the stream. No socket: app.inject()
    const socket = res.socket instanceof Socket ? res.socket : undefined;
    const send = (l: WatchLine) => (socket === undefined ? res.write(l.text) : socket.write(l.chunk));
    const line = (type: WatchEventType, objJson: string) =>
      send(watchLine(`{"type":"${type}","object":${objJson}}\n`));
    const gv = tg.t.group === "" ? tg.version : `${tg.t.group}/${tg.version}`;
    let handle: { stop(): void } | undefined;
    let timer: ReturnType<typeof api.clock.setTimeout> | undefined;
    const conn = {
      end: () => {
        handle?.stop();
        if (timer !== undefined) api.clock.clearTimeout(timer);
        open.delete(conn);
        if (!res.writableEnded) res.end();
      },
    };
    open.add(conn);
    req.raw.on("close", conn.end);
    try {
      handle = api.watch(t, params, (type, obj, s) => {
        if (res.writableEnded) return;
        if (table && type !== "BOOKMARK") {
          line(
            type,
            JSON.stringify(
              toTable(t, [obj], api.clock.now(), {
                include,
                withColumns: first,
                metadata: { resourceVersion: obj.metadata.resourceVersion ?? "" },
              }),
            ),
          );
          first = false;
        } else if (s === undefined) line(type, JSON.stringify(obj));
        else send(sharedLine(type, s, gv, () => atVersion(tg, s)));
      });
    } catch (e) {
      if (e instanceof KubeApiError) {
        line("ERROR", JSON.stringify(e.status));
        conn.end();
        return;
      }
      conn.end();
      throw e;
    }
    const timeout = Number(q.timeoutSeconds ?? "");
    if (Number.isFinite(timeout) && timeout > 0) timer = api.clock.setTimeout(conn.end, timeout * 1000);
  }

  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
  app.route<{ Params: { "*": string } }>({
    method: [...methods],
    url: "/api/*",
    handler: (req, reply) =>
      handle(
        "",
        req.params["*"].split("/").filter((s) => s !== ""),
      )(req, reply),
  });
  app.route<{ Params: { "*": string } }>({
    method: [...methods],
    url: "/apis/*",
    handler: (req, reply) => {
      const segs = req.params["*"].split("/").filter((s) => s !== "");
      const group = segs[0];
      if (group === undefined) throw S.noResource();
      return handle(group, segs.slice(1))(req, reply);
    },
  });
}
