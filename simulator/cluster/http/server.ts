/**
 * The HTTPS front of the embedded API server: a fastify app with body
 * parsers for every content type kubectl and client-node send, bearer-token
 * authentication, Status errors for everything that fails, and one
 * encapsulated plugin per API surface (discovery, OpenAPI, resources).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import { parse as parseYaml } from "yaml";
import { KubeApiError, type KubeStatus } from "../../../engine/kube/types.ts";
import type { ApiServer, RequestContext } from "../api.ts";
import type { ClusterUser } from "../policy.ts";
import * as S from "../status.ts";
import { discoveryPlugin } from "./discovery.ts";
import { openApiPlugin } from "./openapi.ts";
import { resourcesPlugin, UndecodedBody } from "./resources.ts";

export interface ServerOptions {
  api: ApiServer;
  /** Current users (read on every request, so users can be added at run time: replace or append). */
  users: () => readonly ClusterUser[];
  /** HTTPS material; omitted: plain HTTP (tests through app.inject()). */
  https?: { key: string; cert: string };
  /** Paths anyone may read without a token (as upstream's system:public-info-viewer). */
  publicPaths?: string[];
}

const PUBLIC = ["/version", "/healthz", "/livez", "/readyz"];
const JSON_TYPES = [
  "application/json",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+json",
];
const YAML_TYPES = ["application/yaml", "application/apply-patch+yaml"];

function statusOf(code: number, reason: string, message: string): KubeStatus {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

function decodeJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw S.badRequest(`error decoding request body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeYaml(text: string): unknown {
  if (text.trim() === "") return undefined;
  // JSON is YAML: client-node and client-go send apply patches as JSON under the YAML type, and
  // JSON.parse reads them some 20 times faster (the API server checks for JSON first as well)
  if (text.trimStart().startsWith("{"))
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON after all (a YAML flow mapping): the YAML parser below decides
    }
  try {
    return parseYaml(text) as unknown;
  } catch (e) {
    throw S.badRequest(`error decoding YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

export function buildServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: 3 * 1024 * 1024,
    forceCloseConnections: true,
    keepAliveTimeout: 60_000,
    ...(opts.https === undefined ? {} : { https: { key: opts.https.key, cert: opts.https.cert } }),
  }) as unknown as FastifyInstance;
  const identities = new WeakMap<FastifyRequest, RequestContext>();
  const publicPaths = new Set(opts.publicPaths ?? PUBLIC);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, decodeJson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser(YAML_TYPES, { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, decodeYaml(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser("*", { parseAs: "buffer" }, (req, body, done) => {
    const ct = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    done(null, new UndecodedBody(ct, body as Buffer));
  });

  // token -> identity, rebuilt whenever the users list is replaced (addUser makes a new array) or grows
  let usersSeen: readonly ClusterUser[] | undefined;
  let usersCount = 0;
  let byToken = new Map<string, { user: string; groups: string[] }>();
  const identityFor = (token: string) => {
    const users = opts.users();
    if (users !== usersSeen || users.length !== usersCount) {
      usersSeen = users;
      usersCount = users.length;
      byToken = new Map();
      for (const u of users)
        if (!byToken.has(u.token))
          byToken.set(u.token, { user: u.name, groups: [...(u.groups ?? []), "system:authenticated"] });
    }
    return byToken.get(token);
  };

  // a callback hook, not an async one: no promise per request
  app.addHook("onRequest", (req, reply, done) => {
    const token = bearer(req);
    const id = token === undefined ? undefined : identityFor(token);
    if (id !== undefined) {
      const ctx: RequestContext = { user: id.user, groups: [...id.groups] };
      const ua = req.headers["user-agent"];
      if (ua !== undefined) ctx.userAgent = ua;
      identities.set(req, ctx);
      return done();
    }
    const q = req.url.indexOf("?");
    if (publicPaths.has(q === -1 ? req.url : req.url.slice(0, q))) return done();
    reply.code(401).type("application/json").send(S.unauthorized().status);
  });

  app.setErrorHandler((err: FastifyError | KubeApiError, _req, reply) => {
    if (err instanceof KubeApiError) return reply.code(err.code).type("application/json").send(err.status);
    const code = typeof err.statusCode === "number" ? err.statusCode : 500;
    if (code === 415) return reply.code(415).send(statusOf(415, "UnsupportedMediaType", err.message));
    if (code === 413) return reply.code(413).send(statusOf(413, "RequestEntityTooLarge", err.message));
    if (code >= 400 && code < 500) return reply.code(code).send(statusOf(code, "BadRequest", err.message));
    return reply.code(500).send(S.internalError(err.message).status);
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(S.noResource().status));

  const identityOf = (req: FastifyRequest): RequestContext => {
    const id = identities.get(req);
    if (id === undefined) throw S.unauthorized();
    return id;
  };
  app.register(discoveryPlugin, { api: opts.api });
  app.register(openApiPlugin, { api: opts.api });
  app.register(resourcesPlugin, { api: opts.api, identityOf });
  return app;
}
