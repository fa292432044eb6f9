/**
 * Live mode: the traffic model served as a real Prometheus scrape target. GET /metrics answers
 * with prom-client's exposition of the model's counters and histograms at the clock's now (the
 * values of the latest scrape interval), so a real Prometheus can scrape the same numbers the mock
 * Prometheus sees. Optional ?namespace=&service= narrow the exposition to one service.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, type Metric, Registry } from "prom-client";
import type { Clock } from "../../engine/core/clock.ts";
import type { LabelMatcher, Labels } from "../prometheus/types.ts";
import type { TrafficModel } from "./model.ts";

export interface LiveMetricsOptions {
  clock: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
}

const REQ_LABELS = ["namespace", "service", "rollouts_pod_template_hash", "code"] as const;
const HIST = "http_request_duration_seconds";

interface Value {
  labels: Labels;
  value: number;
}

/** The latest (non-stale) value of every series matching `matchers`, at time t. */
export function currentValues(model: TrafficModel, matchers: readonly LabelMatcher[], t: number): Value[] {
  const out: Value[] = [];
  for (const s of model.select(matchers)) {
    const b = s.samples(t - model.scrapeIntervalMs, t);
    const i = b.t.length - 1;
    if (i < 0 || b.stale?.[i] === 1) continue;
    out.push({ labels: s.labels, value: b.v[i]! });
  }
  return out;
}

function without(labels: Labels, drop: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== drop && k !== "__name__") out[k] = v;
  return out;
}

export class LiveMetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly model: TrafficModel,
    private readonly opts: LiveMetricsOptions,
  ) {}

  /** The exposition text for the current time (what GET /metrics returns). */
  async metrics(filter: readonly LabelMatcher[] = []): Promise<{ contentType: string; body: string }> {
    const registry = new Registry();
    const now = () => this.opts.clock.now();
    const model = this.model;
    const only = [...filter];
    new Counter({
      name: "http_requests_total",
      help: "HTTP requests served, by response code.",
      labelNames: REQ_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        const vals = currentValues(
          model,
          [...only, { name: "__name__", op: "=", value: "http_requests_total" }],
          now(),
        );
        for (const { labels, value } of vals) this.inc(without(labels, "__name__"), value);
      },
    });
    const histogram = {
      name: HIST,
      help: "HTTP request latency in seconds.",
      type: "histogram",
      aggregator: "sum",
      reset() {},
      async get() {
        const vals = currentValues(
          model,
          [...only, { name: "__name__", op: "=~", value: `${HIST}_.*` }],
          now(),
        );
        return {
          name: HIST,
          help: histogram.help,
          type: "histogram",
          aggregator: "sum",
          values: vals.map(({ labels, value }) => ({
            metricName: labels.__name__,
            labels: without(labels, "__name__"),
            value,
          })),
        };
      },
    };
    registry.registerMetric(histogram as unknown as Metric);
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  /** Start listening; resolves to the base URL (e.g. http://127.0.0.1:40123). */
  listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        res.statusCode = 500;
        res.end(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", () => {
        const a = server.address() as AddressInfo;
        resolve(`http://${a.address}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => s.close((e) => (e ? reject(e) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (url.pathname === "/-/healthy" || url.pathname === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (url.pathname !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
      return;
    }
    const filter: LabelMatcher[] = [];
    for (const name of ["namespace", "service", "rollouts_pod_template_hash"]) {
      const v = url.searchParams.get(name);
      if (v !== null) filter.push({ name, op: "=", value: v });
    }
    const { contentType, body } = await this.metrics(filter);
    res.writeHead(200, { "content-type": contentType });
    res.end(req.method === "HEAD" ? undefined : body);
  }
}
