/**
 * The HTTP KubeClient adapter on @kubernetes/client-node 1.4 (1.4 because
 * 2.x needs undici 8 and Node >= 22.19). client-node supplies the
 * configuration: kubeconfig, TLS material, bearer/exec auth, discovery (kind ->
 * plural) and its discovery cache in KubernetesObjectApi; requests (on shared
 * keep-alive connections) and watches go out on node:https with it (transmit,
 * watchStream: client-node's own fetch layers cost more CPU than the requests). This adapter only
 * keeps objects exactly as the server sent them (client-node's typed model
 * (de)serialization would turn timestamps into Dates and drop fields it does
 * not know, which a GitOps diff cannot afford), adds subresources and the
 * JSON-patch body shape, and maps failures to KubeApiError with the server's
 * Status.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
  STATUS_CODES,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import {
  ApiException,
  createConfiguration,
  FetchError,
  type HttpLibrary,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
} from "@kubernetes/client-node";
import {
  type ApiResourceInfo,
  DEFAULT_FIELD_MANAGER,
  type DeleteOptions,
  type KubeClient,
  type KubeList,
  KubeApiError,
  type KubeObject,
  type KubeStatus,
  type ListOptions,
  type ObjectRef,
  PATCH_CONTENT_TYPES,
  type PatchOptions,
  type PatchType,
  splitApiVersion,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
  type WriteOptions,
} from "./types.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

function isStatus(v: unknown): v is KubeStatus {
  return (
    v !== null &&
    typeof v === "object" &&
    (v as { kind?: unknown }).kind === "Status" &&
    typeof (v as { code?: unknown }).code === "number"
  );
}

function statusFor(code: number, message: string, reason: string): KubeStatus {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
};

/** A KubeApiError for any failure client-node reports (Status body when the server sent one). */
export function toKubeApiError(e: unknown): unknown {
  if (e instanceof KubeApiError) return e;
  if (e instanceof ApiException) {
    let body: unknown = e.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        // not JSON: keep the text as the message below
      }
    }
    if (isStatus(body)) return new KubeApiError(body);
    const code = e.code;
    const text = typeof body === "string" && body !== "" ? body : `HTTP ${code}`;
    return new KubeApiError(statusFor(code, text, REASONS[code] ?? "Unknown"));
  }
  return e;
}

/** The agent options that decide which connections a request may share (TLS identity and trust). */
const AGENT_KEYS = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"] as const;

function sameOption(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameOption(x, b[i]));
  return a === b;
}

/**
 * client-node 1.4 builds a new https.Agent for every request (in
 * KubeConfig.applySecurityAuthentication), so every request opened its own
 * TCP connection and did a full TLS handshake: most of the CPU of an engine
 * talking to a cluster. Requests here go through one keep-alive agent per
 * set of TLS options instead (client-go keeps one transport per config the
 * same way). Proxy agents are left as they are.
 */
export class KeepAliveAgents {
  private current: { options: Record<string, unknown>; agent: HttpAgent } | undefined;

  /** A keep-alive agent with the TLS options of `fresh` (the one client-node made for this request). */
  reuse(fresh: HttpAgent): HttpAgent {
    const https = fresh.constructor === HttpsAgent;
    if (!https && fresh.constructor !== HttpAgent) return fresh;
    const options = (fresh as HttpsAgent).options as Record<string, unknown>;
    const cur = this.current;
    if (
      cur !== undefined &&
      cur.agent instanceof HttpsAgent === https &&
      AGENT_KEYS.every((k) => sameOption(cur.options[k], options[k]))
    )
      return cur.agent;
    // an older agent's idle sockets are unref'd and closed by the server's keep-alive timeout
    const agent = https
      ? new HttpsAgent({ ...options, keepAlive: true })
      : new HttpAgent({ ...options, keepAlive: true });
    this.current = { options, agent };
    return agent;
  }

  /** Close the idle connections (requests in flight finish on theirs). */
  close(): void {
    const agent = this.current?.agent;
    this.current = undefined;
    if (agent === undefined) return;
    for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }
}

/** client-node's fetch transport with the request's agent swapped for a shared keep-alive one. */
function keepAliveHttp(agents: KeepAliveAgents): HttpLibrary {
  const fetchLib = new IsomorphicFetchHttpLibrary();
  return {
    send(ctx) {
      const fresh = ctx.getAgent();
      if (fresh !== undefined) ctx.setAgent(agents.reuse(fresh));
      return fetchLib.send(ctx);
    },
  };
}

interface RawResponse {
  code: number;
  headers: IncomingMessage["headers"];
  text: string;
}

/**
 * One request as node-fetch would send it (same URL, method, headers and
 * body; failures as its FetchError), without node-fetch's Request, Headers
 * and body-stream layers, which cost more CPU than the request itself.
 */
function transmit(ctx: RequestContext, agent: HttpAgent | undefined): Promise<RawResponse> {
  const url = ctx.getUrl();
  const body = ctx.getBody();
  const headers: Record<string, string> = { ...ctx.getHeaders() };
  if (typeof body === "string") headers["Content-Length"] = String(Buffer.byteLength(body));
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const failed = (e: Error) =>
      reject(new FetchError(`request to ${url} failed, reason: ${e.message}`, "system", e));
    const req = send(url, { method: ctx.getHttpMethod(), headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", failed);
      res.on("end", () =>
        resolve({
          code: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", failed);
    req.end(typeof body === "string" ? body : undefined);
  });
}

/**
 * client-node's Watch (same URL, query, auth, one connection per watch with
 * TCP keep-alive, `done` once), reading the event lines straight off the
 * response instead of through a PassThrough and readline. Unlike client-node,
 * a line that is not JSON ends the watch with an error instead of being
 * dropped: a lost event would be missed drift, a closed watch is re-listed.
 * Resolves once the server answered the watch request (as client-node does).
 */
async function watchStream(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  onLine: (type: string, object: unknown) => void,
  done: (err: unknown) => void,
): Promise<{ abort(): void }> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error("No currently active cluster");
  const url = new URL(cluster.server + path);
  url.searchParams.set("watch", "true");
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  let finished = false;
  const finish = (err: unknown) => {
    if (finished) return;
    finished = true;
    req.destroy();
    done(err);
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const req = send(url, { ...opts, method: "GET" });
  const answered = new Promise<void>((resolve) => {
    req.on("error", (e) => {
      resolve();
      finish(e);
    });
    req.on("response", (res) => {
      resolve();
      res.setEncoding("utf8");
      if (res.statusCode !== 200) {
        let text = "";
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          const code = res.statusCode ?? 0;
          let body: unknown;
          try {
            body = JSON.parse(text) as unknown;
          } catch {
            // not a Status: the status line below
          }
          if (isStatus(body)) return finish(new KubeApiError(body));
          const e = new Error(res.statusMessage || STATUS_CODES[code] || "Internal Server Error");
          finish(Object.assign(e, { statusCode: code }));
        });
        return;
      }
      res.socket.setKeepAlive(true, 30_000);
      let buf = "";
      const line = (text: string): boolean => {
        if (text.trim() === "") return true;
        let ev: { type?: unknown; object?: unknown };
        try {
          ev = JSON.parse(text) as { type?: unknown; object?: unknown };
        } catch (e) {
          finish(new Error(`undecodable watch event: ${e instanceof Error ? e.message : String(e)}`));
          return false;
        }
        try {
          onLine(String(ev.type), ev.object);
        } catch (e) {
          finish(e);
        }
        return !finished;
      };
      res.on("data", (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf("\n"); nl >= 0 && !finished; nl = buf.indexOf("\n")) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line(text)) return;
        }
      });
      res.on("end", () => {
        if (line(buf)) finish(null);
      });
      res.on("error", finish);
      res.on("close", () => finish(null));
    });
  });
  req.end();
  await answered;
  return { abort: () => finish(null) };
}

/**
 * KubernetesObjectApi with raw JSON in and out (no typed models) and
 * requests to arbitrary paths of the same server (subresources, discovery).
 */
class RawObjectApi extends KubernetesObjectApi {
  private kc!: KubeConfig;
  private agents!: KeepAliveAgents;

  /** As KubeConfig.makeApiClient, on keep-alive connections. */
  static fromConfig(kc: KubeConfig, agents: KeepAliveAgents): RawObjectApi {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("No active cluster!");
    const api = new RawObjectApi(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: kc },
        httpApi: keepAliveHttp(agents),
      }),
    );
    api.setDefaultNamespace(kc);
    api.kc = kc;
    api.agents = agents;
    return api;
  }

  /** The response body as parsed JSON, exactly as the server sent it. */
  protected override async processResponse<T extends KubernetesObject>(
    response: ResponseContext,
    _type?: string,
  ): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299)
      return (text === "" ? {} : JSON.parse(text)) as T;
    throw new ApiException(response.httpStatusCode, "Unsuccessful HTTP Request", text, response.headers);
  }

  /** The path of an object (or its collection for "create"/"list"), via discovery. */
  path(obj: KubernetesObject, action: "create" | "read" | "list"): Promise<string> {
    return this.specUriPath(obj, action);
  }

  get namespace(): string {
    return this.defaultNamespace;
  }

  /** Send a request through client-node's configured transport (auth, TLS, middleware). */
  async send<T>(
    method: Method,
    path: string,
    query: Record<string, string | undefined> = {},
    body?: unknown,
    contentType = "application/json",
  ): Promise<T> {
    const ctx: RequestContext = this.configuration.baseServer.makeRequestContext(
      path,
      method as Parameters<typeof this.configuration.baseServer.makeRequestContext>[1],
    );
    ctx.setHeaderParam("Accept", "application/json, */*;q=0.8");
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, v);
    if (body !== undefined) {
      ctx.setHeaderParam("Content-Type", contentType);
      ctx.setBody(JSON.stringify(body));
    }
    // authentication as requestPromise applies it (token, exec plugin, client certificate), then the wire
    await this.kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getAgent();
    const res = await transmit(ctx, fresh === undefined ? undefined : this.agents.reuse(fresh));
    if (res.code >= 200 && res.code <= 299) return (res.text === "" ? {} : JSON.parse(res.text)) as T;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    throw new ApiException(res.code, "Unsuccessful HTTP Request", res.text, headers);
  }
}

export interface HttpKubeClientOptions {
  /** A kubeconfig: file path, KubeConfig, or a kubeconfig document (object). */
  kubeconfig: string | KubeConfig | Record<string, unknown>;
  /** Context to use (default: current-context). */
  context?: string;
  /** Identity to report for audit (default: the kubeconfig user name). */
  identity?: string;
}

export function loadKubeConfig(source: HttpKubeClientOptions["kubeconfig"], context?: string): KubeConfig {
  let kc: KubeConfig;
  if (source instanceof KubeConfig) kc = source;
  else {
    kc = new KubeConfig();
    if (typeof source === "string") kc.loadFromFile(source);
    else kc.loadFromString(JSON.stringify(source));
  }
  if (context !== undefined) kc.setCurrentContext(context);
  return kc;
}

function writeQuery(o: WriteOptions | undefined): Record<string, string | undefined> {
  return {
    fieldManager: o?.fieldManager ?? DEFAULT_FIELD_MANAGER,
    dryRun: o?.dryRun === true ? "All" : undefined,
    fieldValidation: o?.fieldValidation,
  };
}

export class HttpKubeClient implements KubeClient {
  readonly identity: string;
  readonly kubeConfig: KubeConfig;
  private readonly api: RawObjectApi;
  private readonly agents = new KeepAliveAgents();

  constructor(opts: HttpKubeClientOptions) {
    this.kubeConfig = loadKubeConfig(opts.kubeconfig, opts.context);
    this.identity = opts.identity ?? this.kubeConfig.getCurrentUser()?.name ?? "unknown";
    this.api = RawObjectApi.fromConfig(this.kubeConfig, this.agents);
  }

  /** Close the idle keep-alive connections (they do not keep the process alive either way). */
  close(): void {
    this.agents.close();
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  private mapError(e: unknown): unknown {
    const m = toKubeApiError(e);
    if (m instanceof Error && !(m instanceof KubeApiError)) {
      const unknownKind =
        /Unrecognized API version and kind: (\S+) (\S+)|Failed to fetch resource metadata for (\S+)\/(\w+): /.exec(
          m.message,
        );
      if (unknownKind !== null) {
        const apiVersion = unknownKind[1] ?? unknownKind[3] ?? "";
        const kind = unknownKind[2] ?? unknownKind[4] ?? "";
        return new KubeApiError(
          statusFor(404, `no matches for kind "${kind}" in version "${apiVersion}"`, "NotFound"),
        );
      }
    }
    return m;
  }

  private header(ref: ObjectRef | KubeObject): KubernetesObject {
    const name = "metadata" in ref ? ref.metadata.name : ref.name;
    const namespace = "metadata" in ref ? ref.metadata.namespace : ref.namespace;
    const metadata: { name?: string; namespace?: string } = {};
    if (name !== undefined) metadata.name = name;
    if (namespace !== undefined && namespace !== "") metadata.namespace = namespace;
    return { apiVersion: ref.apiVersion, kind: ref.kind, metadata };
  }

  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.call(async () => {
      const path = await this.api.path(this.header(ref), "read");
      return this.api.send<T>("GET", path);
    });
  }

  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: ListOptions = {},
  ): Promise<KubeList<T>> {
    return this.call(async () => {
      const list = await this.api.send<KubeList<T>>(
        "GET",
        await this.collection(apiVersion, kind, opts.namespace),
        {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          limit: opts.limit === undefined ? undefined : String(opts.limit),
          continue: opts.continue,
          resourceVersion: opts.resourceVersion,
        },
      );
      for (const item of list.items) {
        item.apiVersion ??= apiVersion;
        item.kind ??= kind;
      }
      return list;
    });
  }

  private collection(apiVersion: string, kind: string, namespace: string | undefined): Promise<string> {
    const metadata: { namespace?: string } = {};
    if (namespace !== undefined && namespace !== "") metadata.namespace = namespace;
    return this.api.path({ apiVersion, kind, metadata }, "list");
  }

  create<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call(async () => {
      const path = await this.api.path(this.header(obj), "create");
      return this.api.send<T>("POST", path, writeQuery(opts), obj);
    });
  }

  replace<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call(async () => {
      const path = await this.api.path(this.header(obj), "read");
      return this.api.send<T>("PUT", path, writeQuery(opts), obj);
    });
  }

  replaceStatus<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call(async () => {
      const path = await this.api.path(this.header(obj), "read");
      return this.api.send<T>("PUT", `${path}/status`, writeQuery(opts), obj);
    });
  }

  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    type: PatchType,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.call(async () => {
      let path = await this.api.path(this.header(ref), "read");
      if (opts.subresource !== undefined) path += `/${opts.subresource}`;
      const query = writeQuery(opts);
      if (opts.force !== undefined) query.force = String(opts.force);
      return this.api.send<T>("PATCH", path, query, patch, PATCH_CONTENT_TYPES[type]);
    });
  }

  apply<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T> {
    return this.call(async () => {
      const path = await this.api.path(this.header(obj), "read");
      const query: Record<string, string | undefined> = {
        fieldManager: opts.fieldManager,
        force: opts.force === undefined ? undefined : String(opts.force),
        dryRun: opts.dryRun === true ? "All" : undefined,
      };
      return this.api.send<T>("PATCH", path, query, obj, PATCH_CONTENT_TYPES.apply);
    });
  }

  delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<KubeObject | undefined> {
    return this.call(async () => {
      const path = await this.api.path(this.header(ref), "read");
      const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
      if (opts.propagationPolicy !== undefined) body.propagationPolicy = opts.propagationPolicy;
      if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
      if (opts.preconditions !== undefined) body.preconditions = opts.preconditions;
      if (opts.dryRun === true) body.dryRun = ["All"];
      const res = await this.api.send<KubeObject | KubeStatus>("DELETE", path, {}, body);
      if (isStatus(res)) return undefined;
      // 202: still there (finalizers pending); 200 with an object: gone (pods return it)
      return res.metadata.deletionTimestamp !== undefined && (res.metadata.finalizers ?? []).length > 0
        ? res
        : undefined;
    });
  }

  async watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onClose?: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const path = await this.call(() => this.collection(apiVersion, kind, opts.namespace));
    let rv = opts.resourceVersion ?? "";
    if (rv === "" || rv === "0") {
      // the port's "start now": no replay of existing objects
      rv = (await this.list(apiVersion, kind, { ...opts, limit: 1 })).metadata.resourceVersion;
    }
    const query: Record<string, string> = { resourceVersion: rv };
    if (opts.labelSelector !== undefined) query.labelSelector = opts.labelSelector;
    if (opts.fieldSelector !== undefined) query.fieldSelector = opts.fieldSelector;
    if (opts.allowWatchBookmarks === true) query.allowWatchBookmarks = "true";
    let stopped = false;
    let closed = false;
    let expired: KubeApiError | undefined;
    const close = (err?: unknown) => {
      if (closed) return;
      closed = true;
      onClose?.(err);
    };
    const controller = await watchStream(
      this.kubeConfig,
      path,
      query,
      (type: string, object: unknown) => {
        if (stopped) return;
        if (type === "ERROR" && isStatus(object)) expired = new KubeApiError(object);
        onEvent({ type: type as WatchEvent["type"], object: object as T });
      },
      (err: unknown) => {
        if (stopped) return close();
        if (expired !== undefined) return close(expired);
        close(err === null || err === undefined ? undefined : this.mapError(err));
      },
    );
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        controller.abort();
        close();
      },
    };
  }

  async resources(): Promise<ApiResourceInfo[]> {
    return this.call(async () => {
      interface Res {
        name: string;
        singularName?: string;
        namespaced: boolean;
        kind: string;
        shortNames?: string[];
      }
      const out: ApiResourceInfo[] = [];
      const add = (gv: string, resources: Res[]) => {
        const { group, version } = splitApiVersion(gv);
        for (const r of resources) {
          if (r.name.includes("/")) continue;
          const subresources = resources
            .filter((s) => s.name.startsWith(`${r.name}/`))
            .map((s) => s.name.slice(r.name.length + 1));
          const info: ApiResourceInfo = {
            group,
            version,
            kind: r.kind,
            plural: r.name,
            singular:
              r.singularName === undefined || r.singularName === "" ? r.kind.toLowerCase() : r.singularName,
            namespaced: r.namespaced,
            subresources,
          };
          if (r.shortNames !== undefined && r.shortNames.length > 0) info.shortNames = r.shortNames;
          out.push(info);
        }
      };
      const core = await this.api.send<{ resources: Res[] }>("GET", "/api/v1");
      add("v1", core.resources);
      const groups = await this.api.send<{ groups: Array<{ versions: Array<{ groupVersion: string }> }> }>(
        "GET",
        "/apis",
      );
      for (const g of groups.groups)
        for (const v of g.versions) {
          const list = await this.api.send<{ resources: Res[] }>("GET", `/apis/${v.groupVersion}`);
          add(v.groupVersion, list.resources);
        }
      return out;
    });
  }
}
