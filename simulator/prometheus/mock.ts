/**
 * MockPrometheus: the in-process Prometheus. A materialized MemoryStore (series files, appends)
 * plus pluggable lazy SeriesProviders (the traffic model), a cached PromQL parser, the 2.42
 * evaluator, the HTTP API's data model, and fault injection for analysis tests.
 */
import type { Clock } from "../../engine/core/clock.ts";
import type { VectorSel } from "./ast.ts";
import type { QueryValue } from "./engine.ts";
import { Evaluator } from "./engine.ts";
import { ParseCache, PromQLError } from "./parser.ts";
import type { SeriesFile } from "./series-file.ts";
import { MemoryStore } from "./store.ts";
import type { Labels, SampleBlock, SeriesProvider, SeriesSource } from "./types.ts";
import { formatValue, keyOf } from "./values.ts";

export type FaultKind = "unavailable" | "slow" | "empty" | "nan";

export interface Fault {
  kind: FaultKind;
  /** For "slow": how long each query takes, in the injected clock's ms. */
  delayMs?: number;
}

export interface MockPrometheusOptions {
  /** Used for "now" (queries without a time), slow faults and the retention window. */
  clock?: Clock;
  /** Queries cannot see samples older than now - retentionMs (default: unlimited). */
  retentionMs?: number;
  /** Lookback for instant selectors (default 5m). */
  lookbackMs?: number;
  /** Subquery default step (default 1m, Prometheus' default evaluation_interval). */
  defaultStepMs?: number;
}

export interface QueryOptions {
  timeoutMs?: number;
}

export type SamplePair = [number, string];

export type QueryData =
  | { resultType: "vector"; result: { metric: Labels; value: SamplePair }[] }
  | { resultType: "matrix"; result: { metric: Labels; values: SamplePair[] }[] }
  | { resultType: "scalar"; result: SamplePair }
  | { resultType: "string"; result: SamplePair };

/** Prometheus' per-series resolution limit for range queries. */
export const MAX_POINTS = 11_000;

function pair(t: number, v: number): SamplePair {
  return [t / 1000, formatValue(v)];
}

class RetainedSource implements SeriesSource {
  constructor(
    private readonly inner: SeriesSource,
    private readonly minT: number,
  ) {}
  get labels(): Labels {
    return this.inner.labels;
  }
  samples(startMs: number, endMs: number): SampleBlock {
    return this.inner.samples(Math.max(startMs, this.minT), endMs);
  }
}

export class MockPrometheus {
  /** The materialized store behind loadSeries()/append(). */
  readonly store: MemoryStore;
  private readonly providers: SeriesProvider[];
  private readonly clock: Clock | undefined;
  private readonly retentionMs: number;
  private readonly parser = new ParseCache();
  private readonly evaluator: Evaluator;
  private fault: Fault | undefined;

  constructor(opts: MockPrometheusOptions = {}) {
    this.clock = opts.clock;
    this.retentionMs = opts.retentionMs ?? Number.POSITIVE_INFINITY;
    this.store = new MemoryStore({ retentionMs: opts.retentionMs });
    this.providers = [this.store];
    this.evaluator = new Evaluator(
      { select: (vs) => this.select(vs) },
      { lookbackMs: opts.lookbackMs, defaultStepMs: opts.defaultStepMs },
    );
  }

  addProvider(p: SeriesProvider): void {
    this.providers.push(p);
  }

  /** Load a series file (promtool notation); sample i lands at startMs + i * interval. */
  loadSeries(file: SeriesFile, startMs = 0): void {
    this.store.loadSeries(file, startMs);
  }

  /** Append one sample to the materialized store. */
  append(labels: Labels, timeMs: number, value: number, stale = false): void {
    this.store.append(labels, timeMs, value, stale);
  }

  setFault(fault: Fault): void {
    this.fault = { ...fault };
  }

  clearFault(): void {
    this.fault = undefined;
  }

  /** The active fault's kind, if any. */
  faultKind(): FaultKind | undefined {
    return this.fault?.kind;
  }

  /** Current time of the injected clock (0 without one). */
  now(): number {
    return this.clock?.now() ?? 0;
  }

  /** Every series matching the selector, over all providers, in label order. */
  select(vs: Pick<VectorSel, "matchers">): readonly SeriesSource[] {
    let out: readonly SeriesSource[];
    if (this.providers.length === 1) {
      out = this.providers[0]!.select(vs.matchers);
    } else {
      // one provider with series (the store is empty in a simulated world): its own list, not a copy
      let first: readonly SeriesSource[] = [];
      let all: SeriesSource[] | undefined;
      for (const p of this.providers) {
        const got = p.select(vs.matchers);
        if (got.length === 0) continue;
        if (first.length === 0) first = got;
        else {
          all ??= [...first];
          for (const s of got) all.push(s);
        }
      }
      if (all !== undefined) all.sort((a, b) => compareKeys(keyOf(a.labels), keyOf(b.labels)));
      out = all ?? first;
    }
    if (Number.isFinite(this.retentionMs) && this.clock !== undefined) {
      const minT = this.clock.now() - this.retentionMs;
      return out.map((s) => new RetainedSource(s, minT));
    }
    return out;
  }

  /** Synchronous instant evaluation without faults (the simulator's hot path). Throws PromQLError. */
  evaluate(expr: string, timeMs: number): QueryValue {
    return this.evaluator.instant(this.parser.parse(expr), timeMs);
  }

  /** Instant query with the HTTP API's data model; honours faults. Rejects with PromQLError. */
  async query(expr: string, timeMs?: number, opts: QueryOptions = {}): Promise<QueryData> {
    await this.applyFault(opts);
    const t = timeMs ?? this.now();
    const v = this.evaluate(expr, t);
    return this.shape(toData(v));
  }

  /** Range query (start/end/step in ms) with the HTTP API's data model; honours faults. */
  async queryRange(
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    opts: QueryOptions = {},
  ): Promise<QueryData> {
    validateRange(startMs, endMs, stepMs);
    await this.applyFault(opts);
    const series = this.evaluator.range(this.parser.parse(expr), startMs, endMs, stepMs);
    return this.shape({
      resultType: "matrix",
      result: series.map((s) => ({ metric: s.labels, values: s.t.map((t, i) => pair(t, s.v[i]!)) })),
    });
  }

  /** Series (label sets) matching any of the selectors. */
  series(matchers: readonly string[]): Labels[] {
    const seen = new Map<string, Labels>();
    for (const m of matchers) {
      const e = this.parser.parse(m);
      if (e.kind !== "vector")
        throw new PromQLError(
          "bad_data",
          `invalid parameter "match[]": expected a vector selector, got ${m}`,
        );
      for (const s of this.select(e)) seen.set(keyOf(s.labels), s.labels);
    }
    return [...seen.entries()].sort((a, b) => compareKeys(a[0], b[0])).map((e) => e[1]);
  }

  /** All label names (optionally only of series matching the selectors). */
  labelNames(matchers: readonly string[] = []): string[] {
    const names = new Set<string>();
    if (matchers.length > 0) {
      for (const l of this.series(matchers)) for (const n of Object.keys(l)) names.add(n);
    } else {
      for (const p of this.providers) {
        if (p.labelNames !== undefined) for (const n of p.labelNames()) names.add(n);
        else
          for (const s of p.select([{ name: "__name__", op: "=~", value: ".+" }]))
            for (const n of Object.keys(s.labels)) names.add(n);
      }
    }
    return [...names].sort();
  }

  /** Values of one label (optionally only of series matching the selectors). */
  labelValues(name: string, matchers: readonly string[] = []): string[] {
    const sel = matchers.length > 0 ? matchers : ['{__name__=~".+"}'];
    const values = new Set<string>();
    for (const l of this.series(sel)) {
      const v = l[name];
      if (v !== undefined) values.add(v);
    }
    return [...values].sort();
  }

  private async applyFault(opts: QueryOptions): Promise<void> {
    const f = this.fault;
    if (f === undefined) return;
    if (f.kind === "unavailable")
      throw new PromQLError("unavailable", "Service Unavailable (injected fault)");
    if (f.kind === "slow") {
      const delay = f.delayMs ?? 0;
      if (this.clock === undefined) throw new PromQLError("internal", "a slow fault needs a clock");
      if (opts.timeoutMs !== undefined && delay >= opts.timeoutMs) {
        await this.clock.sleep(opts.timeoutMs);
        throw new PromQLError("timeout", "query timed out in expression evaluation");
      }
      await this.clock.sleep(delay);
    }
  }

  private shape(d: QueryData): QueryData {
    const f = this.fault;
    if (f === undefined) return d;
    if (f.kind === "empty") {
      if (d.resultType === "vector" || d.resultType === "matrix") return { ...d, result: [] } as QueryData;
      return d;
    }
    if (f.kind === "nan") {
      switch (d.resultType) {
        case "vector":
          return {
            resultType: "vector",
            result: d.result.map((r) => ({ metric: r.metric, value: [r.value[0], "NaN"] })),
          };
        case "matrix":
          return {
            resultType: "matrix",
            result: d.result.map((r) => ({
              metric: r.metric,
              values: r.values.map((p) => [p[0], "NaN"] as SamplePair),
            })),
          };
        case "scalar":
          return { resultType: "scalar", result: [d.result[0], "NaN"] };
        default:
          return d;
      }
    }
    return d;
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function validateRange(startMs: number, endMs: number, stepMs: number): void {
  if (endMs < startMs)
    throw new PromQLError("bad_data", 'invalid parameter "end": end timestamp must not be before start time');
  if (!(stepMs > 0)) {
    throw new PromQLError(
      "bad_data",
      'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  }
  if ((endMs - startMs) / stepMs > MAX_POINTS) {
    throw new PromQLError(
      "bad_data",
      "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
  }
}

/** Convert an evaluated value to the API data model. */
export function toData(v: QueryValue): QueryData {
  switch (v.type) {
    case "scalar":
      return { resultType: "scalar", result: pair(v.t, v.v) };
    case "string":
      return { resultType: "string", result: [v.t / 1000, v.s] };
    case "vector":
      return {
        resultType: "vector",
        result: v.samples.map((s) => ({ metric: s.labels, value: pair(v.t, s.v) })),
      };
    case "matrix":
      return {
        resultType: "matrix",
        result: v.series.map((s) => ({ metric: s.labels, values: s.t.map((t, i) => pair(t, s.v[i]!)) })),
      };
  }
}
