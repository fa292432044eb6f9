/**
 * The MetricsProvider port and its Prometheus implementation.
 *
 * A MetricsProvider takes one resolved metric and a clock time and returns the
 * value to bind as `result`, or an error (which becomes an Error measurement).
 * The Prometheus provider speaks to a `PrometheusApi`: the HTTP adapter below
 * talks to any real Prometheus (`/api/v1/query`); the simulator plugs its mock
 * Prometheus in-process through the same interface (query + time in, the
 * Prometheus data model out), with no HTTP.
 */
import type { Clock } from "../core/clock.ts";
import type { Metric, MetricValue, PrometheusProviderSpec } from "./types.ts";

export type PromSample = [number, string];
export type PromQueryData =
  | { resultType: "scalar"; result: PromSample }
  | { resultType: "string"; result: PromSample }
  | { resultType: "vector"; result: Array<{ metric: Record<string, string>; value: PromSample }> }
  | { resultType: "matrix"; result: Array<{ metric: Record<string, string>; values: PromSample[] }> };

export interface PromQueryResponse {
  data: PromQueryData;
  warnings?: string[];
}

export interface PromQueryOptions {
  timeoutMs: number;
  headers: Record<string, string>;
}

/** An instant-query API: `/api/v1/query` over HTTP, or an in-process mock. Rejects with an Error on failure. */
export interface PrometheusApi {
  query(expr: string, timeMs: number, opts: PromQueryOptions): Promise<PromQueryResponse>;
}

export type MeasureResult =
  | { ok: true; value: MetricValue; warnings?: string[]; metadata?: Record<string, string> }
  | { ok: false; error: string };

export interface MetricsProvider {
  /** Take one measurement of a resolved metric at clock time `timeMs`. Never throws. */
  measure(metric: Metric, timeMs: number): Promise<MeasureResult>;
}

/** Parse a Prometheus sample value string ("NaN", "+Inf", "-Inf" survive). */
export function parsePromValue(s: string): number {
  if (s === "NaN") return Number.NaN;
  if (s === "+Inf" || s === "Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/**
 * Bind a query result as Argo does: scalar -> number; vector -> one number per
 * series; matrix -> every sample flattened; empty vector -> []. A string result
 * is not supported (upstream: "Prometheus metric type not supported").
 */
export function bindPromResult(data: PromQueryData): MetricValue {
  switch (data.resultType) {
    case "scalar":
      return parsePromValue(data.result[1]);
    case "vector":
      return data.result.map((s) => parsePromValue(s.value[1]));
    case "matrix":
      return data.result.flatMap((s) => s.values.map((v) => parsePromValue(v[1])));
    default:
      throw new Error("Prometheus metric type not supported");
  }
}

/** HTTP adapter: GET `<address>/api/v1/query?query=&time=` against any Prometheus HTTP API. */
export class HttpPrometheusApi implements PrometheusApi {
  constructor(
    private readonly address: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async query(expr: string, timeMs: number, opts: PromQueryOptions): Promise<PromQueryResponse> {
    const url = new URL(`${this.address.replace(/\/+$/, "")}/api/v1/query`);
    const body = new URLSearchParams({ query: expr, time: (timeMs / 1000).toFixed(3) });
    if (opts.timeoutMs > 0) body.set("timeout", `${Math.ceil(opts.timeoutMs / 1000)}s`);
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...opts.headers },
        body,
        // a real-I/O deadline for a real socket, not simulated time
        ...(opts.timeoutMs > 0 ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
      });
    } catch (e) {
      const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      throw new Error(`Post "${url.href}": ${cause}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`server error: ${res.status} ${text.slice(0, 200)}`.trim());
    }
    const env = parsed as {
      status?: string;
      errorType?: string;
      error?: string;
      data?: PromQueryData;
      warnings?: string[];
    };
    if (env.status !== "success" || env.data === undefined) {
      throw new Error(`${env.errorType ?? "server_error"}: ${env.error ?? `HTTP ${res.status}`}`);
    }
    return env.warnings === undefined ? { data: env.data } : { data: env.data, warnings: env.warnings };
  }
}

export interface PrometheusProviderOptions {
  /** The API for a metric's `address` (undefined address: a default one, else an error measurement). */
  apiFor(address: string | undefined): PrometheusApi | undefined;
  /**
   * Enforce the metric's `timeout` (default 30 s) on this clock, as upstream's context deadline:
   * a query still unanswered then is an Error measurement. Without a clock the API enforces it.
   */
  clock?: Clock;
}

/** Settle with `p`, or reject with `error()` once `ms` have passed on `clock` (the timer is cleared either way). */
function deadline<T>(clock: Clock, ms: number, p: Promise<T>, error: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(error()), ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Argo's Prometheus provider (metricproviders/prometheus): query at the measurement time, bind `result`. */
export class PrometheusProvider implements MetricsProvider {
  constructor(private readonly opts: PrometheusProviderOptions) {}

  async measure(metric: Metric, timeMs: number): Promise<MeasureResult> {
    const spec: PrometheusProviderSpec | undefined = metric.provider.prometheus;
    if (spec === undefined) return { ok: false, error: "no prometheus provider configured for this metric" };
    if (spec.timeout !== undefined && spec.timeout < 0)
      return { ok: false, error: "prometheus timeout should not be negative" };
    const api = this.opts.apiFor(spec.address);
    if (api === undefined) return { ok: false, error: "prometheus address is not configured" };
    const headers: Record<string, string> = {};
    for (const h of spec.headers ?? []) headers[h.key] = h.value;
    const timeoutMs = (spec.timeout ?? 30) * 1000;
    const clock = this.opts.clock;
    try {
      const query = api.query(spec.query, timeMs, { timeoutMs, headers });
      const res =
        clock === undefined || timeoutMs === 0
          ? await query
          : await deadline(clock, timeoutMs, query, () => {
              // what the Go client reports when the query's context deadline passes
              const url =
                spec.address === undefined ? "" : `Post "${spec.address.replace(/\/+$/, "")}/api/v1/query": `;
              return new Error(`${url}context deadline exceeded`);
            });
      const value = bindPromResult(res.data);
      const metadata: Record<string, string> = { ResolvedPrometheusQuery: spec.query };
      return res.warnings !== undefined && res.warnings.length > 0
        ? { ok: true, value, warnings: res.warnings, metadata }
        : { ok: true, value, metadata };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }
}

/** A provider that answers from a function: for tests and offline what-ifs. */
export class FunctionProvider implements MetricsProvider {
  constructor(private readonly fn: (metric: Metric, timeMs: number) => MetricValue | Promise<MetricValue>) {}
  async measure(metric: Metric, timeMs: number): Promise<MeasureResult> {
    try {
      return { ok: true, value: await this.fn(metric, timeMs) };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }
}

/** Anything that answers instant queries with the HTTP API's data model in-process (e.g. the mock Prometheus). */
export interface InProcessPrometheus {
  query(expr: string, timeMs: number, opts?: { timeoutMs?: number }): Promise<PromQueryData>;
}

/** Plug an in-process Prometheus into the provider without HTTP; errors read like the HTTP API's ("unavailable: ..."). */
export function inProcessPrometheusApi(prom: InProcessPrometheus): PrometheusApi {
  return {
    async query(expr, timeMs, opts) {
      try {
        return { data: await prom.query(expr, timeMs, { timeoutMs: opts.timeoutMs }) };
      } catch (e) {
        const type = (e as { errorType?: unknown }).errorType;
        const msg = e instanceof Error ? e.message : String(e);
        throw new Error(typeof type === "string" ? `${type}: ${msg}` : msg);
      }
    },
  };
}
