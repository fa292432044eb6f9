/**
 * The synthetic traffic model. It is the simulator's TrafficRouter (the rollout controller sets
 * canary weights through it) and a lazy SeriesProvider for the mock Prometheus: the samples of
 *   http_requests_total{namespace, service, rollouts_pod_template_hash, code}
 *   http_request_duration_seconds_{bucket,sum,count}{namespace, service, rollouts_pod_template_hash[, le]}
 * are generated only for the windows a query asks for (see version.ts for how).
 *
 * Every mutation (weights, versions starting/stopping, behaviours) happens at the clock's now and
 * affects only scrape intervals ending after now, so what an observer saw never changes.
 */
import type { Clock } from "../../engine/core/clock.ts";
import { GtbError } from "../../engine/core/errors.ts";
import { type EventSink, NULL_SINK } from "../../engine/core/events.ts";
import type { TrafficRouter, TrafficTarget, TrafficWeights } from "../../engine/core/traffic-router.ts";
import { stableStringify } from "../../engine/kube/json.ts";
import { hash128 } from "../clock/rng.ts";
import type { LabelMatcher, Labels, SampleBlock, SeriesProvider, SeriesSource } from "../prometheus/types.ts";
import { type LoadRegression, loadStrength, type VersionBehaviour } from "./behaviour.ts";
import type { TrafficEvent } from "./events.ts";
import { ServiceState, type ServiceTrafficSpec } from "./service.ts";
import {
  type Behaviours,
  ChunkCache,
  CODES,
  columns,
  DEFAULT_BUCKETS,
  type Grid,
  VersionSeries,
} from "./version.ts";

export interface TrafficModelOptions {
  clock: Clock;
  /** Seed of every draw; the same seed gives the same samples bit for bit. */
  seed: number | string;
  /** Scrape interval (default 15 s). */
  scrapeIntervalMs?: number;
  /** Histogram upper bounds in seconds, without +Inf (default Prometheus' usual 11 buckets). */
  buckets?: readonly number[];
  events?: EventSink<TrafficEvent>;
  /** Detailed chunks (1 h of one version each, ~33 KB) kept in memory (default 2048, <= 67 MB). */
  chunkCacheSize?: number;
}

/** Requests a version served in a window, and how they were answered. */
export interface ServedCounts {
  requests: number;
  /** 5xx answers. */
  errors: number;
  byCode: Record<string, number>;
}

export interface Exposure extends ServedCounts {
  /** Highest share of the service's traffic (%) the version had in the window. */
  maxWeight: number;
  /** Minutes in which the service's 5xx ratio exceeded the SLO while this version served requests. */
  errorBudgetMinutes: number;
}

export interface WeightChange {
  time: number;
  /** Percent per version hash. */
  weights: Record<string, number>;
}

interface BehaviourSet {
  from: number;
  behaviour: VersionBehaviour;
  /** Equal to the service's default behaviour. */
  baseline: boolean;
  /** The default behaviour plus a load regression and nothing else: it deviates only above its load. */
  loadOnly: LoadRegression | undefined;
}

/** A version of a service: its series, and the behaviours set for it (its series' Behaviours). */
class VersionEntry implements Behaviours {
  /** Behaviours set, by time. */
  readonly behaviours: BehaviourSet[] = [];
  readonly series: VersionSeries;
  sources?: TrafficSeries[];
  /** The same, by metric name. */
  byName?: Map<string, TrafficSeries[]>;

  constructor(
    makeSeries: (behaviours: Behaviours) => VersionSeries,
    /** The service's default behaviour (before any is set). */
    private readonly fallback: VersionBehaviour,
  ) {
    this.series = makeSeries(this);
  }

  /** The behaviour set serving at t. */
  setAt(t: number): BehaviourSet | undefined {
    const bs = this.behaviours;
    for (let i = bs.length - 1; i >= 0; i--) if (bs[i]!.from <= t) return bs[i]!;
    return undefined;
  }

  at(t: number): VersionBehaviour {
    return this.setAt(t)?.behaviour ?? this.fallback;
  }
}

const REQUESTS = "http_requests_total";
const DURATION = "http_request_duration_seconds";

export class TrafficModel implements TrafficRouter, SeriesProvider {
  private readonly clock: Clock;
  private readonly grid: Omit<Grid, "offsetMs">;
  private readonly events: EventSink<TrafficEvent>;
  private readonly cache: ChunkCache;
  private readonly svcs = new Map<string, ServiceState>();
  private readonly versions = new Map<string, Map<string, VersionEntry>>();
  private readonly weights = new Map<string, TrafficWeights>();
  private sortedKeys: string[] = [];
  private readonly regexCache = new Map<string, RegExp>();
  /** Versions of each service in the order select() returns them (by first start, then hash). */
  private readonly ordered = new Map<string, VersionEntry[]>();
  /** Services whose `ordered` may be out of date (rebuilt on use; kept when unchanged). */
  private readonly orderedStale = new Set<string>();
  /** select() of one service, by matcher list (a cached parse hands the same list every time). */
  private readonly selectCache = new WeakMap<
    readonly LabelMatcher[],
    { svc: ServiceState; ordered: VersionEntry[]; out: readonly SeriesSource[] }
  >();
  /** Work done so far (for benchmarks and cost tests). */
  readonly stats = { intervals: 0, chunks: 0 };

  constructor(opts: TrafficModelOptions) {
    this.clock = opts.clock;
    const intervalMs = opts.scrapeIntervalMs ?? 15_000;
    if (!(intervalMs >= 1000)) {
      throw new GtbError("GTB_TRAFFIC_BAD_INTERVAL", `scrape interval ${intervalMs} ms is too short`, {
        hint: "use a scrape interval of at least 1s (Prometheus' default is 1m, common 15s)",
      });
    }
    const buckets = [...(opts.buckets ?? DEFAULT_BUCKETS)]
      .filter((b) => Number.isFinite(b))
      .sort((a, b) => a - b);
    this.grid = { intervalMs, buckets, seedKey: `traffic\u0000${String(opts.seed)}` };
    this.events = opts.events ?? (NULL_SINK as EventSink<TrafficEvent>);
    this.cache = new ChunkCache(opts.chunkCacheSize ?? 2048);
  }

  get scrapeIntervalMs(): number {
    return this.grid.intervalMs;
  }

  get buckets(): readonly number[] {
    return this.grid.buckets;
  }

  // ---- fleet setup ---------------------------------------------------------------------------

  addService(spec: ServiceTrafficSpec): void {
    const key = `${spec.namespace}/${spec.service}`;
    if (this.svcs.has(key)) {
      throw new GtbError("GTB_TRAFFIC_DUPLICATE_SERVICE", `service ${key} is already registered`, {
        hint: "register each namespace/service once",
      });
    }
    if (!(spec.baseRps >= 0)) {
      throw new GtbError(
        "GTB_TRAFFIC_BAD_RATE",
        `service ${key}: baseRps must be >= 0, got ${spec.baseRps}`,
        {
          path: "baseRps",
          hint: "give the mean request rate in requests per second",
        },
      );
    }
    this.svcs.set(key, new ServiceState(spec, this.grid.seedKey));
    this.versions.set(key, new Map());
    this.sortedKeys = [...this.svcs.keys()].sort();
  }

  hasService(target: TrafficTarget): boolean {
    return this.svcs.has(`${target.namespace}/${target.service}`);
  }

  services(): ServiceTrafficSpec[] {
    return this.sortedKeys.map((k) => this.svcs.get(k)!.spec);
  }

  /** Expected requests per second of the whole service at time t (before Poisson noise). */
  expectedRps(target: TrafficTarget | string, t: number): number {
    return this.service(target).curve.rps(t);
  }

  // ---- TrafficRouter -------------------------------------------------------------------------

  setWeight(target: TrafficTarget, canaryHash: string | undefined, stableHash: string, weight: number): void {
    const w = Math.min(100, Math.max(0, Number.isFinite(weight) ? weight : 0));
    const shares: Record<string, number> = { [stableHash]: 100 - w };
    if (canaryHash !== undefined && canaryHash !== stableHash) shares[canaryHash] = w;
    else shares[stableHash] = 100;
    this.applyRouting(target, shares, {
      stableHash,
      canaryHash,
      canaryWeight: canaryHash === undefined ? 0 : w,
    });
  }

  getWeights(target: TrafficTarget): TrafficWeights | undefined {
    return this.weights.get(`${target.namespace}/${target.service}`);
  }

  /** Split requests between versions by weight (normalized), e.g. by replica counts. */
  route(target: TrafficTarget | string, weights: Readonly<Record<string, number>>): void {
    this.applyRouting(target, { ...weights }, undefined);
  }

  /** The weight changes of a service so far, in percent per version. */
  weightHistory(target: TrafficTarget | string): WeightChange[] {
    return this.service(target).routing.map((r) => ({
      time: r.time,
      weights: percentages(r.shares),
    }));
  }

  // ---- versions and behaviours ---------------------------------------------------------------

  /** Pods of `hash` start now: its counters start from zero at its next scrape. */
  startVersion(target: TrafficTarget | string, hash: string): void {
    const svc = this.service(target);
    const now = this.clock.now();
    if (svc.lifetimeAt(hash, now) !== undefined) return;
    const lts = svc.lifetimes.get(hash) ?? [];
    const last = lts[lts.length - 1];
    if (last !== undefined && last.stop === now) last.stop = Number.POSITIVE_INFINITY;
    else lts.push({ start: now, stop: Number.POSITIVE_INFINITY });
    svc.lifetimes.set(hash, lts);
    this.entry(svc, hash);
    this.changed(svc, hash);
    this.events.emit({ type: "traffic.version.started", time: now, ...this.names(svc), hash });
  }

  /** Pods of `hash` are gone now: its series go stale at the next scrape. */
  stopVersion(target: TrafficTarget | string, hash: string): void {
    const svc = this.service(target);
    const now = this.clock.now();
    const lt = svc.lifetimeAt(hash, now);
    if (lt === undefined) return;
    lt.stop = now;
    const lts = svc.lifetimes.get(hash)!;
    if (lt.start === now) lts.splice(lts.indexOf(lt), 1);
    this.changed(svc, hash);
    this.events.emit({ type: "traffic.version.stopped", time: now, ...this.names(svc), hash });
  }

  /** A plain rolling deploy (no canary): `hash` takes all traffic, every other version stops. */
  deploy(target: TrafficTarget | string, hash: string): void {
    const svc = this.service(target);
    this.startVersion(target, hash);
    this.route(target, { [hash]: 100 });
    for (const h of svc.aliveAt(this.clock.now())) if (h !== hash) this.stopVersion(target, h);
  }

  /** Versions of a service running now. */
  runningVersions(target: TrafficTarget | string): string[] {
    return this.service(target).aliveAt(this.clock.now()).sort();
  }

  /**
   * How a version behaves from now on (the fault injector's knob). `service` is a TrafficTarget,
   * "namespace/name", or a name that is unique across namespaces. May be set before the version starts.
   */
  setVersionBehaviour(
    service: TrafficTarget | string,
    versionHash: string,
    behaviour: VersionBehaviour,
  ): void {
    const svc = this.service(service);
    const e = this.entry(svc, versionHash);
    const now = this.clock.now();
    const copy = structuredClone(behaviour);
    while (e.behaviours.length > 0 && e.behaviours[e.behaviours.length - 1]!.from >= now) e.behaviours.pop();
    const fallback = stableStringify(svc.spec.behaviour ?? {});
    const baseline = stableStringify(copy) === fallback;
    const { load, ...rest } = copy;
    const loadOnly = load !== undefined && stableStringify(rest) === fallback ? load : undefined;
    e.behaviours.push({ from: now, behaviour: copy, baseline, loadOnly });
    e.series.invalidateAfter(now);
    this.events.emit({
      type: "traffic.behaviour",
      time: now,
      ...this.names(svc),
      hash: versionHash,
      behaviour: copy,
    });
  }

  /**
   * Did a version behaving otherwise than the service's default (a faulty release, a harmful
   * drift) run at some moment of [fromMs, toMs]? When not, every series of the service in that
   * window is the healthy baseline. A load regression deviates only while the version serves more
   * than its threshold: up to now, that is asked of each scrape of the window (the rate the draws
   * used); after now (routing may still change), it counts as deviating whenever it runs.
   */
  deviatesDuring(target: TrafficTarget | string, fromMs: number, toMs: number): boolean {
    const svc = this.service(target);
    const now = this.clock.now();
    for (const [hash, e] of this.versions.get(svc.key)!) {
      const bs = e.behaviours;
      const lts = svc.lifetimes.get(hash);
      if (lts === undefined) continue;
      for (let i = 0; i < bs.length && bs[i]!.from <= toMs; i++) {
        const b = bs[i]!;
        const until = bs[i + 1]?.from ?? Number.POSITIVE_INFINITY;
        if (b.baseline || until <= fromMs) continue;
        const from = Math.max(fromMs, b.from);
        const to = Math.min(toMs, until);
        for (const lt of lts) {
          if (lt.start > to || lt.stop <= from) continue;
          if (b.loadOnly === undefined || (to > now && lt.stop > now)) return true;
          if (this.overLoad(svc, e, b, from, Math.min(to, now))) return true;
        }
      }
    }
    return false;
  }

  /** Did a scrape in [fromMs, toMs] draw its interval with behaviour set `b` above b's load threshold? */
  private overLoad(
    svc: ServiceState,
    e: VersionEntry,
    b: BehaviourSet,
    fromMs: number,
    toMs: number,
  ): boolean {
    const v = e.series;
    const I = this.grid.intervalMs;
    const load = b.loadOnly!;
    const last = v.firstScrapeAtOrAfter(toMs + 1);
    // a long window is not walked scrape by scrape: it counts as deviating
    if (last - v.firstScrapeAtOrAfter(fromMs) > LOAD_SCAN_LIMIT) return true;
    for (let k = v.firstScrapeAtOrAfter(fromMs); k < last; k++) {
      const t = v.scrapeTime(k);
      const mid = t - I / 2;
      if (e.setAt(mid) !== b || svc.lifetimeAt(v.hash, t) === undefined) continue;
      // the rate the scrape's draws used (version.ts fill: rps at the interval's middle x its share)
      if (loadStrength(load, svc.curve.rps(mid) * svc.shareOver(v.hash, t - I, t)) > 0) return true;
    }
    return false;
  }

  // ---- exposure ------------------------------------------------------------------------------

  /** Requests served by a version in scrape intervals ending in (fromMs, toMs]. */
  served(target: TrafficTarget | string, hash: string, fromMs: number, toMs: number): ServedCounts {
    const svc = this.service(target);
    const e = this.versions.get(svc.key)!.get(hash);
    const byCode = new Float64Array(CODES.length);
    e?.series.forEachDelta(
      fromMs,
      toMs,
      (_t, d) => {
        for (let c = 0; c < CODES.length; c++) byCode[c]! += d[c]!;
      },
      CODES.length,
    );
    return countsOf(byCode);
  }

  /**
   * What a (bad) version cost: requests and failures it served, its highest weight, and the minutes
   * in which the service as a whole was out of its error-rate SLO while this version served traffic.
   */
  exposure(
    target: TrafficTarget | string,
    hash: string,
    fromMs: number,
    toMs: number,
    opts: { errorRatioSlo?: number } = {},
  ): Exposure {
    const svc = this.service(target);
    const slo = opts.errorRatioSlo ?? 0.005;
    const byCode = new Float64Array(CODES.length);
    // per minute of the window (scrapes in (fromMs, toMs]): requests, 5xx, and this version's requests
    const m0 = Math.floor(fromMs / 60_000);
    const minutes = new Float64Array(3 * Math.max(0, Math.floor((toMs - 1) / 60_000) - m0 + 1));
    // one walk over every version's rows (this version's counts taken on the way)
    for (const [h, e] of this.versions.get(svc.key)!) {
      const mine = h === hash;
      // the codes' columns (the first ones) are all it needs
      e.series.forEachDelta(
        fromMs,
        toMs,
        (t, d) => {
          const i = 3 * (Math.floor((t - 1) / 60_000) - m0);
          const req = d[0]! + d[1]! + d[2]! + d[3]!;
          minutes[i]! += req;
          minutes[i + 1]! += d[2]! + d[3]!;
          if (mine) {
            minutes[i + 2]! += req;
            for (let c = 0; c < CODES.length; c++) byCode[c]! += d[c]!;
          }
        },
        CODES.length,
      );
    }
    let bad = 0;
    for (let i = 0; i < minutes.length; i += 3) {
      const req = minutes[i]!;
      if (minutes[i + 2]! > 0 && req > 0 && minutes[i + 1]! / req > slo) bad++;
    }
    return {
      ...countsOf(byCode),
      maxWeight: svc.maxShare(hash, fromMs, toMs) * 100,
      errorBudgetMinutes: bad,
    };
  }

  // ---- SeriesProvider ------------------------------------------------------------------------

  select(matchers: readonly LabelMatcher[]): readonly SeriesSource[] {
    const hit = this.selectCache.get(matchers);
    if (hit !== undefined && this.orderedVersions(hit.svc) === hit.ordered) return hit.out;
    const out: SeriesSource[] = [];
    const name = equalTo(matchers, "__name__");
    if (name !== undefined && !name.startsWith(REQUESTS) && !name.startsWith(DURATION)) return out;
    const ns = equalTo(matchers, "namespace");
    const service = equalTo(matchers, "service");
    const hash = equalTo(matchers, "rollouts_pod_template_hash");
    if (ns !== undefined && service !== undefined) {
      const svc = this.svcs.get(`${ns}/${service}`);
      if (svc === undefined) return out;
      const ordered = this.orderedVersions(svc);
      this.selectVersions(svc, ordered, matchers, name, hash, out);
      this.selectCache.set(matchers, { svc, ordered, out });
      return out;
    }
    for (const key of this.sortedKeys) {
      const svc = this.svcs.get(key)!;
      if (service !== undefined && svc.spec.service !== service) continue;
      if (ns !== undefined && svc.spec.namespace !== ns) continue;
      this.selectVersions(svc, this.orderedVersions(svc), matchers, name, hash, out);
    }
    return out;
  }

  private selectVersions(
    svc: ServiceState,
    ordered: readonly VersionEntry[],
    matchers: readonly LabelMatcher[],
    name: string | undefined,
    hash: string | undefined,
    out: SeriesSource[],
  ): void {
    for (const e of ordered) {
      if (hash !== undefined && e.series.hash !== hash) continue;
      const all = this.sources(svc, e);
      const named = name === undefined ? all : (e.byName?.get(name) ?? NO_SERIES);
      for (const s of named) if (this.matches(s.labels, matchers)) out.push(s);
    }
  }

  labelNames(): readonly string[] {
    return ["__name__", "code", "le", "namespace", "rollouts_pod_template_hash", "service"];
  }

  // ---- internals -----------------------------------------------------------------------------

  private service(target: TrafficTarget | string): ServiceState {
    if (typeof target !== "string") {
      const svc = this.svcs.get(`${target.namespace}/${target.service}`);
      if (svc !== undefined) return svc;
      throw unknownService(`${target.namespace}/${target.service}`);
    }
    const direct = this.svcs.get(target);
    if (direct !== undefined) return direct;
    const found = [...this.svcs.values()].filter((s) => s.spec.service === target);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      throw new GtbError(
        "GTB_TRAFFIC_AMBIGUOUS_SERVICE",
        `service name "${target}" exists in several namespaces`,
        {
          hint: `name it as namespace/name: ${found.map((s) => s.key).join(", ")}`,
        },
      );
    }
    throw unknownService(target);
  }

  private names(svc: ServiceState): { namespace: string; service: string } {
    return { namespace: svc.spec.namespace, service: svc.spec.service };
  }

  private entry(svc: ServiceState, hash: string): VersionEntry {
    const map = this.versions.get(svc.key)!;
    let e = map.get(hash);
    if (e === undefined) {
      const offsetMs = svc.spec.scrapeOffsetMs ?? hash128(svc.key)[0] % this.grid.intervalMs;
      const grid: Grid = {
        ...this.grid,
        offsetMs: ((offsetMs % this.grid.intervalMs) + this.grid.intervalMs) % this.grid.intervalMs,
      };
      e = new VersionEntry(
        (behaviours) =>
          new VersionSeries(`${svc.key}@${hash}`, hash, svc, grid, behaviours, this.cache, this.stats),
        svc.spec.behaviour ?? {},
      );
      map.set(hash, e);
      this.orderedStale.add(svc.key);
    }
    return e;
  }

  private applyRouting(
    target: TrafficTarget | string,
    weights: Record<string, number>,
    port: { stableHash: string; canaryHash: string | undefined; canaryWeight: number } | undefined,
  ): void {
    const svc = this.service(target);
    const now = this.clock.now();
    let total = 0;
    for (const w of Object.values(weights)) if (w > 0) total += w;
    const shares = new Map<string, number>();
    for (const h of Object.keys(weights).sort()) {
      const w = weights[h]!;
      if (total > 0) shares.set(h, w > 0 ? w / total : 0);
      if (w > 0 && svc.lifetimeAt(h, now) === undefined) this.startVersion(target, h);
    }
    while (svc.routing.length > 0 && svc.routing[svc.routing.length - 1]!.time >= now) svc.routing.pop();
    svc.routing.push({ time: now, shares });
    if (port !== undefined) this.weights.set(svc.key, { ...port });
    else this.weights.delete(svc.key);
    this.changed(svc, undefined);
    const pct = percentages(shares);
    this.events.emit({
      type: "traffic.weight",
      time: now,
      ...this.names(svc),
      weights: pct,
      ...(port ?? {}),
    });
  }

  /** The routing changed now, or the lifetimes of version `lifetimesOf`. */
  private changed(svc: ServiceState, lifetimesOf: string | undefined): void {
    const now = this.clock.now();
    svc.invalidate(now);
    if (lifetimesOf !== undefined) this.orderedStale.add(svc.key);
    for (const [hash, e] of this.versions.get(svc.key)!) {
      // a version that stopped before now draws nothing after it (its rows there are the stopped
      // version's zeros whatever the routing): nothing of it depends on a change at now
      if (hash === lifetimesOf || svc.runsFrom(hash, now)) e.series.invalidateAfter(now);
    }
  }

  private orderedVersions(svc: ServiceState): VersionEntry[] {
    const old = this.ordered.get(svc.key);
    if (old !== undefined && !this.orderedStale.has(svc.key)) return old;
    this.orderedStale.delete(svc.key);
    const ordered = this.orderVersions(svc);
    // most changes (weights, a lifetime's end) keep the order: keep the list (and what select() cached)
    if (old !== undefined && old.length === ordered.length && old.every((e, i) => e === ordered[i]))
      return old;
    this.ordered.set(svc.key, ordered);
    return ordered;
  }

  private orderVersions(svc: ServiceState): VersionEntry[] {
    const list: Array<{ e: VersionEntry; first: number }> = [];
    for (const [hash, e] of this.versions.get(svc.key)!) {
      const first = svc.lifetimes.get(hash)?.[0]?.start;
      if (first !== undefined) list.push({ e, first });
    }
    list.sort((a, b) => a.first - b.first || (a.e.series.hash < b.e.series.hash ? -1 : 1));
    return list.map((x) => x.e);
  }

  private sources(svc: ServiceState, e: VersionEntry): TrafficSeries[] {
    if (e.sources !== undefined) return e.sources;
    const base = {
      namespace: svc.spec.namespace,
      service: svc.spec.service,
      rollouts_pod_template_hash: e.series.hash,
    };
    const cols = columns(this.grid as Grid);
    const init = svc.spec.initializeSeries === true;
    const out: TrafficSeries[] = [];
    CODES.forEach((code, c) => {
      out.push(new TrafficSeries({ __name__: REQUESTS, ...base, code }, e.series, c, c, init));
    });
    const les = [...this.grid.buckets.map(formatLe), "+Inf"];
    les.forEach((le, i) => {
      out.push(
        new TrafficSeries(
          { __name__: `${DURATION}_bucket`, ...base, le },
          e.series,
          cols.bucket0 + i,
          cols.count,
          init,
        ),
      );
    });
    out.push(
      new TrafficSeries({ __name__: `${DURATION}_count`, ...base }, e.series, cols.count, cols.count, init),
    );
    out.push(
      new TrafficSeries({ __name__: `${DURATION}_sum`, ...base }, e.series, cols.sum, cols.count, init),
    );
    e.sources = out;
    e.byName = new Map();
    for (const s of out) {
      const n = s.labels.__name__!;
      e.byName.set(n, [...(e.byName.get(n) ?? []), s]);
    }
    return out;
  }

  private matches(labels: Labels, matchers: readonly LabelMatcher[]): boolean {
    for (const m of matchers) {
      const v = labels[m.name] ?? "";
      switch (m.op) {
        case "=":
          if (v !== m.value) return false;
          break;
        case "!=":
          if (v === m.value) return false;
          break;
        case "=~":
          if (!this.regex(m.value).test(v)) return false;
          break;
        case "!~":
          if (this.regex(m.value).test(v)) return false;
          break;
      }
    }
    return true;
  }

  private regex(src: string): RegExp {
    let re = this.regexCache.get(src);
    if (re === undefined) {
      re = new RegExp(`^(?:${src})$`, "s");
      this.regexCache.set(src, re);
    }
    return re;
  }
}

/** One series of one version: samples on demand, staleness marker after the version goes away. */
class TrafficSeries implements SeriesSource {
  constructor(
    readonly labels: Labels,
    private readonly v: VersionSeries,
    private readonly col: number,
    private readonly existCol: number,
    private readonly init: boolean,
  ) {}

  /** Samples of the window, read from the version's rows (drawn once for all its series). */
  samples(startMs: number, endMs: number): SampleBlock {
    const w = this.v.window(startMs, endMs);
    const { n, alive, data } = w;
    if (n <= 1) return EMPTY_BLOCK;
    const col = w.offset + this.col * w.stride;
    const exist = w.offset + this.existCol * w.stride;
    const init = this.init;
    if (w.allAlive && (init || data[exist + 1]! > 0)) {
      // counters never go down within a lifetime: present at the first scrape, present at all
      w.tail ??= w.t.subarray(1, n);
      return { t: w.tail, v: data.subarray(col + 1, col + n) };
    }
    if (w.allAlive && !(alive[0] === 1 && data[exist]! > 0)) {
      // one lifetime and nothing before it: absent until its first count (e.g. no 503 yet), then present
      let e = 2;
      while (e < n && !(data[exist + e]! > 0)) e++;
      return e === n ? EMPTY_BLOCK : { t: w.t.subarray(e, n), v: data.subarray(col + e, col + n) };
    }
    const t = new Float64Array(n - 1);
    const v = new Float64Array(n - 1);
    let stale: Uint8Array | undefined;
    let m = 0;
    let prevPresent = alive[0] === 1 && (init || data[exist]! > 0);
    for (let e = 1; e < n; e++) {
      const here = alive[e] === 1 && (init || data[exist + e]! > 0);
      if (here) {
        t[m] = w.t[e]!;
        v[m] = data[col + e]!;
        m++;
      } else if (prevPresent) {
        stale ??= new Uint8Array(n - 1);
        t[m] = w.t[e]!;
        v[m] = Number.NaN;
        stale[m] = 1;
        m++;
      }
      prevPresent = here;
    }
    const block: { t: Float64Array; v: Float64Array; stale?: Uint8Array } = {
      t: t.subarray(0, m),
      v: v.subarray(0, m),
    };
    if (stale !== undefined) block.stale = stale.subarray(0, m);
    return block;
  }
}

const NO_SERIES: readonly TrafficSeries[] = [];

/** ServedCounts of per-code totals (CODES order). */
function countsOf(byCode: Float64Array): ServedCounts {
  const out: ServedCounts = { requests: 0, errors: 0, byCode: {} };
  for (let c = 0; c < CODES.length; c++) {
    out.byCode[CODES[c]!] = byCode[c]!;
    out.requests += byCode[c]!;
  }
  out.errors = out.byCode["500"]! + out.byCode["503"]!;
  return out;
}

/** Scrapes deviatesDuring() walks for a load regression before it calls the window deviating. */
const LOAD_SCAN_LIMIT = 480;

/** The value of an equality matcher on `name`, if any. */
function equalTo(matchers: readonly LabelMatcher[], name: string): string | undefined {
  for (const m of matchers) if (m.name === name && m.op === "=") return m.value;
  return undefined;
}
const EMPTY_BLOCK: SampleBlock = { t: new Float64Array(0), v: new Float64Array(0) };

function percentages(shares: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...shares].map(([h, s]) => [h, Math.round(s * 100 * 1e9) / 1e9]));
}

function formatLe(b: number): string {
  // Prometheus client libraries print bounds with Go's %g-like shortest form: 0.005, 0.1, 1, 2.5, 10
  return String(b);
}

function unknownService(key: string): GtbError {
  return new GtbError("GTB_TRAFFIC_UNKNOWN_SERVICE", `no traffic is modelled for service ${key}`, {
    hint: "register it first with traffic.addService({namespace, service, baseRps}) (the fleet does this for its services)",
  });
}
