/**
 * The Prometheus HTTP API of the mock, as an encapsulated fastify plugin (testable with
 * app.inject()): /api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels,
 * /api/v1/label/<name>/values, /-/ready, /-/healthy. Envelopes, error types, status codes and
 * parameter parsing follow Prometheus 2.42's web/api/v1.
 */
import Fastify from "fastify";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { parsePromDuration, PromQLError } from "./parser.ts";
import type { ErrorType } from "./parser.ts";
import type { MockPrometheus } from "./mock.ts";

const STATUS: Record<ErrorType | "not_found", number> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
};

/** Prometheus' parseTime: unix seconds (decimals allowed, ms precision) or RFC 3339. */
export function parseApiTime(s: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s.trim())) {
    const f = Number(s);
    const sec = Math.trunc(f);
    const frac = Math.round((f - sec) * 1000) / 1000;
    return sec * 1000 + Math.round(frac * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** Prometheus' parseDuration for step/timeout: float seconds or a Prometheus duration. */
export function parseApiDuration(s: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s.trim())) return Number(s) * 1000;
  return parsePromDuration(s);
}

function badParam(name: string, msg: string): PromQLError {
  return new PromQLError("bad_data", `invalid parameter "${name}": ${msg}`);
}

type Params = URLSearchParams;

/** Query string and (for POST) form body, merged like Go's r.Form (body first). */
function params(req: FastifyRequest): Params {
  const url = req.raw.url ?? "";
  const q = url.indexOf("?");
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  if (!(req.body instanceof URLSearchParams)) return query;
  const out = new URLSearchParams(req.body);
  for (const [k, v] of query) out.append(k, v);
  return out;
}

function time(p: Params, name: string, dflt: number): number {
  const raw = p.get(name);
  if (raw === null || raw === "") return dflt;
  const t = parseApiTime(raw);
  if (t === undefined) throw badParam(name, `cannot parse "${raw}" to a valid timestamp`);
  return t;
}

function duration(p: Params, name: string): number | undefined {
  const raw = p.get(name);
  if (raw === null || raw === "") return undefined;
  const d = parseApiDuration(raw);
  if (d === undefined) throw badParam(name, `cannot parse "${raw}" to a valid duration`);
  return d;
}

function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof PromQLError) {
    return reply
      .code(STATUS[e.errorType])
      .send({ status: "error", errorType: e.errorType, error: e.message });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return reply.code(500).send({ status: "error", errorType: "internal", error: msg });
}

/** Parse errors of the query parameter are reported as `invalid parameter "query": ...`. */
function wrapQueryError(e: unknown): unknown {
  if (e instanceof PromQLError && e.errorType === "bad_data" && /parse error/.test(e.message)) {
    return badParam("query", e.message);
  }
  return e;
}

export interface PrometheusApiOptions {
  prom: MockPrometheus;
}

/** The API routes; register on any fastify instance (encapsulated: parsers stay inside). */
export const prometheusApi: FastifyPluginAsync<PrometheusApiOptions> = async (app, { prom }) => {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    done(null, new URLSearchParams(String(body)));
  });

  const route = (path: string, handler: (p: Params, req: FastifyRequest) => Promise<unknown> | unknown) => {
    const h = async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        const data = await handler(params(req), req);
        return reply.send({ status: "success", data });
      } catch (e) {
        return sendError(reply, e);
      }
    };
    app.get(path, h);
    app.post(path, h);
  };

  route("/api/v1/query", async (p) => {
    const t = time(p, "time", prom.now());
    const timeoutMs = duration(p, "timeout");
    try {
      return await prom.query(p.get("query") ?? "", t, { timeoutMs });
    } catch (e) {
      throw wrapQueryError(e);
    }
  });

  route("/api/v1/query_range", async (p) => {
    const start = time(p, "start", Number.NaN);
    const end = time(p, "end", Number.NaN);
    if (Number.isNaN(start)) throw badParam("start", 'cannot parse "" to a valid timestamp');
    if (Number.isNaN(end)) throw badParam("end", 'cannot parse "" to a valid timestamp');
    const step = duration(p, "step");
    if (step === undefined) throw badParam("step", 'cannot parse "" to a valid duration');
    const timeoutMs = duration(p, "timeout");
    try {
      return await prom.queryRange(p.get("query") ?? "", start, end, step, { timeoutMs });
    } catch (e) {
      throw wrapQueryError(e);
    }
  });

  route("/api/v1/series", (p) => {
    const m = p.getAll("match[]");
    if (m.length === 0) throw new PromQLError("bad_data", "no match[] parameter provided");
    return prom.series(m);
  });

  route("/api/v1/labels", (p) => prom.labelNames(p.getAll("match[]")));

  route("/api/v1/label/:name/values", (p, req) => {
    const name = (req.params as { name: string }).name;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) {
      throw new PromQLError("bad_data", `invalid label name: "${name}"`);
    }
    return prom.labelValues(name, p.getAll("match[]"));
  });

  const probe = (text: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
    if (prom.faultKind() === "unavailable")
      return reply.code(503).type("text/plain").send("Service Unavailable");
    return reply.type("text/plain; charset=utf-8").send(text);
  };
  app.get("/-/ready", probe("Prometheus Server is Ready.\n"));
  app.get("/-/healthy", probe("Prometheus Server is Healthy.\n"));
};

export interface PrometheusServer {
  app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:9090 */
  url: string;
  close(): Promise<void>;
}

/** Build a fastify app serving the API (not listening; use app.inject() or startPrometheusServer). */
export async function buildPrometheusApp(prom: MockPrometheus): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(prometheusApi, { prom });
  return app;
}

/** Listen on 127.0.0.1:`port` (0 = any free port). */
export async function startPrometheusServer(prom: MockPrometheus, port = 0): Promise<PrometheusServer> {
  const app = await buildPrometheusApp(prom);
  await app.listen({ host: "127.0.0.1", port });
  const addr = app.server.address();
  const actual = typeof addr === "object" && addr !== null ? addr.port : port;
  return { app, url: `http://127.0.0.1:${actual}`, close: () => app.close() };
}
