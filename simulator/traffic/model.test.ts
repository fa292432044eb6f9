import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.ts";
import { MockPrometheus } from "../prometheus/mock.ts";
import type { QueryValue } from "../prometheus/engine.ts";
import type { LabelMatcher } from "../prometheus/types.ts";
import { components, latencyCdf, type VersionBehaviour } from "./behaviour.ts";
import { TrafficModel } from "./model.ts";

const T0 = Date.UTC(2026, 0, 5);
const svc = { namespace: "shop", service: "checkout-api" };

function setup(opts: { seed?: number; rps?: number; noise?: boolean } = {}) {
  const clock = new VirtualClock(T0);
  const traffic = new TrafficModel({ clock, seed: opts.seed ?? 1 });
  const flat = opts.noise === true ? {} : { diurnalAmplitude: 0, noiseSd: 0, weekendFactor: 1 };
  traffic.addService({ ...svc, baseRps: opts.rps ?? 1000, ...flat });
  const prom = new MockPrometheus({ clock });
  prom.addProvider(traffic);
  return { clock, traffic, prom };
}

function sel(hash: string, extra = ""): string {
  return `namespace="shop",service="checkout-api",rollouts_pod_template_hash="${hash}"${extra}`;
}

function errorRatio(hash: string, window = "5m"): string {
  return `sum(rate(http_requests_total{${sel(hash, ',code=~"5.."')}}[${window}])) / sum(rate(http_requests_total{${sel(hash)}}[${window}]))`;
}

function p99(hash: string): string {
  return `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel(hash)}}[5m])))`;
}

/** Values of an instant vector result ([] for an empty vector). */
function values(v: QueryValue): number[] {
  if (v.type !== "vector") throw new Error(`expected a vector, got ${v.type}`);
  return v.samples.map((s) => s.v);
}

/** What histogram_quantile returns for the exact bucket probabilities (its interpolation bias included). */
function expectedHistogramQuantile(q: number, b: VersionBehaviour, bounds: readonly number[]): number {
  const comps = components(b.latency);
  let prevBound = 0;
  let prevCdf = 0;
  for (const ub of bounds) {
    const c = latencyCdf(comps, 1, ub);
    if (c >= q) return prevBound + ((ub - prevBound) * (q - prevCdf)) / (c - prevCdf);
    prevBound = ub;
    prevCdf = c;
  }
  return bounds[bounds.length - 2]!;
}

describe("traffic model through PromQL", () => {
  it("error ratio and P99 match the configured values at 1,000 rps", async () => {
    const { clock, traffic, prom } = setup();
    const bad: VersionBehaviour = { errorRatio: 0.02, latency: { p50Ms: 60, p99Ms: 450 } };
    traffic.setVersionBehaviour(svc, "aaa111", bad);
    traffic.setWeight(svc, undefined, "aaa111", 0);
    const expectedP99 = expectedHistogramQuantile(0.99, bad, traffic.buckets);
    for (let i = 1; i <= 6; i++) {
      await clock.runFor(10 * 60_000);
      const [ratio] = values(prom.evaluate(errorRatio("aaa111"), clock.now()));
      expect(ratio).toBeGreaterThan(0.02 - 0.002);
      expect(ratio).toBeLessThan(0.02 + 0.002);
      const [q] = values(prom.evaluate(p99("aaa111"), clock.now()));
      expect(Math.abs(q! - expectedP99) / expectedP99).toBeLessThan(0.03);
      // the true P99 (450 ms) lies in the bucket histogram_quantile interpolates in
      expect(q).toBeGreaterThan(0.25);
      expect(q).toBeLessThanOrEqual(0.5);
    }
  });

  it("splits by the canary weight and judges canary and stable separately", async () => {
    const { clock, traffic, prom } = setup();
    traffic.setVersionBehaviour(svc, "stable1", { errorRatio: 0.001 });
    traffic.setVersionBehaviour(svc, "canary1", { errorRatio: 0.05 });
    traffic.setWeight(svc, undefined, "stable1", 0);
    await clock.runFor(10 * 60_000);
    traffic.setWeight(svc, "canary1", "stable1", 25);
    expect(traffic.getWeights(svc)).toEqual({
      stableHash: "stable1",
      canaryHash: "canary1",
      canaryWeight: 25,
    });
    await clock.runFor(10 * 60_000);
    const t = clock.now();
    const rate = (h: string) => values(prom.evaluate(`sum(rate(http_requests_total{${sel(h)}}[5m]))`, t))[0]!;
    expect(rate("canary1") / (rate("canary1") + rate("stable1"))).toBeCloseTo(0.25, 1);
    expect(values(prom.evaluate(errorRatio("canary1"), t))[0]).toBeCloseTo(0.05, 2);
    expect(values(prom.evaluate(errorRatio("stable1"), t))[0]).toBeLessThan(0.003);
  });

  it("a 5% canary of a 2 rps service: empty before its series exist, NaN with no requests in the window", async () => {
    const { clock, traffic, prom } = setup({ rps: 2, seed: 3 });
    traffic.setWeight(svc, undefined, "stable1", 0);
    await clock.runFor(30 * 60_000);
    traffic.setVersionBehaviour(svc, "canary1", { errorRatio: 0.005 });
    traffic.setWeight(svc, "canary1", "stable1", 5);
    // nothing scraped yet for the canary: the selector matches no samples -> empty vector
    expect(values(prom.evaluate(errorRatio("canary1"), clock.now()))).toEqual([]);
    const outcomes = { empty: 0, nan: 0, number: 0 };
    for (let i = 0; i < 240; i++) {
      await clock.runFor(60_000);
      const v = values(prom.evaluate(errorRatio("canary1", "1m"), clock.now()));
      if (v.length === 0) outcomes.empty++;
      else if (Number.isNaN(v[0])) outcomes.nan++;
      else outcomes.number++;
    }
    // 0.1 rps into the canary: no 5xx series exists until the first 5xx (~30 minutes in; empty numerator
    // -> empty result), then a 1m window holds ~6 requests: now and then none at all (0/0 = NaN)
    expect(outcomes.empty).toBeGreaterThan(0);
    expect(outcomes.nan).toBeGreaterThan(0);
    expect(outcomes.number).toBeGreaterThan(outcomes.nan);
    // weight 0: counters stay flat, so the ratio is 0/0 = NaN once the canary has had a 5xx
    traffic.setVersionBehaviour(svc, "canary1", { errorRatio: 0.5 });
    await clock.runFor(30 * 60_000);
    traffic.setWeight(svc, "canary1", "stable1", 0);
    await clock.runFor(10 * 60_000);
    const flat = values(prom.evaluate(errorRatio("canary1"), clock.now()));
    expect(flat).toHaveLength(1);
    expect(Number.isNaN(flat[0])).toBe(true);
  });

  it("load regression shows only above its request rate; growth regression grows with age", async () => {
    const { clock, traffic, prom } = setup();
    traffic.setVersionBehaviour(svc, "leaky", { errorRatio: 0.001, growth: { errorRatioPerHour: 0.01 } });
    traffic.setVersionBehaviour(svc, "heavy", {
      errorRatio: 0.001,
      load: { aboveRps: 200, errorRatio: 0.03 },
    });
    traffic.setWeight(svc, "heavy", "leaky", 5);
    await clock.runFor(30 * 60_000);
    const early = values(prom.evaluate(errorRatio("leaky"), clock.now()))[0]!;
    expect(values(prom.evaluate(errorRatio("heavy"), clock.now()))[0]).toBeLessThan(0.004); // 50 rps < 200
    traffic.setWeight(svc, "heavy", "leaky", 50);
    await clock.runFor(150 * 60_000);
    expect(values(prom.evaluate(errorRatio("heavy"), clock.now()))[0]).toBeGreaterThan(0.025); // 500 rps > 200
    const late = values(prom.evaluate(errorRatio("leaky"), clock.now()))[0]!;
    expect(late).toBeGreaterThan(early + 0.015);
  });

  it("intermittent errors: the share of bad minutes follows the configured probability", async () => {
    const { clock, traffic, prom } = setup();
    traffic.setVersionBehaviour(svc, "flaky", {
      errorRatio: 0.001,
      intermittent: { probability: 0.3, errorRatio: 0.006, windowMs: 60_000 },
    });
    traffic.deploy(svc, "flaky");
    let bad = 0;
    const n = 300;
    for (let i = 0; i < n; i++) {
      await clock.runFor(60_000);
      const r = values(prom.evaluate(errorRatio("flaky", "1m"), clock.now()))[0]!;
      if (r > 0.004) bad++;
    }
    expect(bad / n).toBeGreaterThan(0.15);
    expect(bad / n).toBeLessThan(0.45);
  });

  it("a stopped version's series go stale", async () => {
    const { clock, traffic, prom } = setup();
    traffic.deploy(svc, "v1");
    await clock.runFor(10 * 60_000);
    traffic.deploy(svc, "v2");
    expect(traffic.runningVersions(svc)).toEqual(["v2"]);
    await clock.runFor(60_000);
    const [s] = traffic.select([
      { name: "__name__", op: "=", value: "http_requests_total" },
      { name: "rollouts_pod_template_hash", op: "=", value: "v1" },
      { name: "code", op: "=", value: "200" },
    ]);
    const b = s!.samples(clock.now() - 120_000, clock.now());
    expect(b.stale).toBeDefined();
    expect(Array.from(b.stale!).filter((x) => x === 1)).toHaveLength(1);
    expect(values(prom.evaluate(`http_requests_total{${sel("v1", ',code="200"')}}`, clock.now()))).toEqual(
      [],
    );
    expect(
      values(prom.evaluate(`http_requests_total{${sel("v2", ',code="200"')}}`, clock.now())),
    ).toHaveLength(1);
  });
});

describe("determinism and cost", () => {
  const matchers: LabelMatcher[] = [{ name: "service", op: "=", value: "checkout-api" }];

  async function dump(seed: number, extraService: boolean): Promise<string> {
    const clock = new VirtualClock(T0);
    const traffic = new TrafficModel({ clock, seed });
    if (extraService) traffic.addService({ namespace: "aaa", service: "added-first", baseRps: 50 });
    traffic.addService({ ...svc, baseRps: 300 });
    if (extraService) traffic.deploy("added-first", "x");
    traffic.setVersionBehaviour(svc, "v1", { errorRatio: 0.01 });
    traffic.setWeight(svc, undefined, "v1", 0);
    await clock.runFor(3_600_000);
    traffic.setWeight(svc, "v2", "v1", 5);
    await clock.runFor(3_600_000);
    return traffic
      .select(matchers)
      .map((s) => {
        const b = s.samples(T0, clock.now());
        return `${JSON.stringify(s.labels)} ${Array.from(b.t).join(",")} ${Array.from(b.v).join(",")}`;
      })
      .join("\n");
  }

  it("same seed gives the same samples bit for bit; another seed differs; adding a service changes nothing", async () => {
    const a = await dump(7, false);
    expect(a.length).toBeGreaterThan(1000);
    expect(await dump(7, false)).toBe(a);
    expect(await dump(8, false)).not.toBe(a);
    expect(await dump(7, true)).toBe(a);
  });

  it("what an observer saw never changes when weights change later", async () => {
    const { clock, traffic } = setup();
    traffic.setWeight(svc, "c", "s", 10);
    await clock.runFor(20 * 60_000);
    const [series] = traffic.select([{ name: "rollouts_pod_template_hash", op: "=", value: "c" }]);
    const before = Array.from(series!.samples(T0, clock.now()).v);
    traffic.setWeight(svc, "c", "s", 50);
    traffic.setVersionBehaviour(svc, "c", { errorRatio: 0.3 });
    await clock.runFor(20 * 60_000);
    const after = Array.from(series!.samples(T0, clock.now()).v);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBeGreaterThan(before.length);
  });

  it("idle services cost nothing; a query at week 9 draws the history in aggregate and reuses it", async () => {
    const { clock, traffic, prom } = setup();
    for (let i = 0; i < 50; i++) {
      traffic.addService({ namespace: "idle", service: `svc-${i}`, baseRps: 100 });
      traffic.deploy(`idle/svc-${i}`, "h");
    }
    traffic.deploy(svc, "v1");
    await clock.runFor(9 * 7 * 86_400_000);
    expect(traffic.stats.intervals).toBe(0);
    const q = `sum(rate(http_requests_total{${sel("v1")}}[5m]))`;
    expect(values(prom.evaluate(q, clock.now()))[0]).toBeGreaterThan(500);
    const first = traffic.stats.intervals;
    // nine weeks of history as chunk totals: at most the two chunks the window touches in detail
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(2 * 240);
    await clock.runFor(60_000);
    values(prom.evaluate(q, clock.now()));
    expect(traffic.stats.intervals - first).toBeLessThanOrEqual(240);
  });

  it("a change at now leaves drawn scrapes alone: each interval is drawn once under a rollout's churn", async () => {
    const { clock, traffic, prom } = setup();
    traffic.setWeight(svc, undefined, "s", 0);
    await clock.runFor(60_000);
    traffic.setWeight(svc, "c", "s", 5);
    const seen: number[] = [];
    for (let minute = 0; minute < 60; minute++) {
      // replicas moving every 10 s, as a rolling update's do, and one query a minute
      for (let i = 0; i < 6; i++) {
        await clock.runFor(10_000);
        traffic.setWeight(svc, "c", "s", 5 + ((minute * 6 + i) % 20));
      }
      seen.push(values(prom.evaluate(`sum(rate(http_requests_total{${sel("c")}}[5m]))`, clock.now()))[0]!);
    }
    // two versions x at most ~61 minutes of 15 s scrapes (a redraw per change would be ~60x that)
    expect(traffic.stats.intervals).toBeLessThanOrEqual(2 * 4 * 62);
    expect(seen.every((v) => v > 0)).toBe(true);
  });

  it("deviatesDuring: a version with a behaviour other than the default ran in the window", async () => {
    const { clock, traffic } = setup();
    traffic.setWeight(svc, undefined, "s", 0);
    await clock.runFor(10 * 60_000);
    const t0 = clock.now();
    expect(traffic.deviatesDuring(svc, t0 - 60_000, t0)).toBe(false);
    traffic.setVersionBehaviour(svc, "bad", { errorRatio: 0.2 });
    traffic.setWeight(svc, "bad", "s", 10);
    await clock.runFor(10 * 60_000);
    expect(traffic.deviatesDuring(svc, clock.now() - 60_000, clock.now())).toBe(true);
    traffic.setWeight(svc, undefined, "s", 0);
    traffic.stopVersion(svc, "bad");
    const stopped = clock.now();
    await clock.runFor(10 * 60_000);
    expect(traffic.deviatesDuring(svc, stopped - 60_000, stopped)).toBe(true);
    expect(traffic.deviatesDuring(svc, stopped + 1, clock.now())).toBe(false);
    // a behaviour set back to the service's default is no deviation
    traffic.setVersionBehaviour(svc, "s", { errorRatio: 0.05 });
    await clock.runFor(60_000);
    traffic.setVersionBehaviour(svc, "s", {});
    const healed = clock.now();
    await clock.runFor(10 * 60_000);
    expect(traffic.deviatesDuring(svc, healed - 30_000, healed)).toBe(true);
    expect(traffic.deviatesDuring(svc, healed, clock.now())).toBe(false);
  });

  it("deviatesDuring: a load regression deviates only at scrapes where the version served above its load", async () => {
    const clock = new VirtualClock(T0);
    const traffic = new TrafficModel({ clock, seed: 1 });
    const behaviour = { errorRatio: 0.002, latency: { p50Ms: 30, p99Ms: 200 } };
    traffic.addService({
      ...svc,
      baseRps: 100,
      diurnalAmplitude: 0,
      noiseSd: 0,
      weekendFactor: 1,
      behaviour,
    });
    traffic.setWeight(svc, undefined, "s", 0);
    await clock.runFor(10 * 60_000);
    // written in another key order than the service's default: still the default plus a load regression
    traffic.setVersionBehaviour(svc, "slow", {
      load: { aboveRps: 60, errorRatio: 0.3 },
      latency: { p99Ms: 200, p50Ms: 30 },
      errorRatio: 0.002,
    });
    traffic.setWeight(svc, "slow", "s", 50);
    await clock.runFor(10 * 60_000);
    const half = clock.now();
    // 50 rps served, below 60: the baseline's traffic; after now it may still change, so it counts
    expect(traffic.deviatesDuring(svc, half - 6 * 60_000, half)).toBe(false);
    expect(traffic.deviatesDuring(svc, half, Number.POSITIVE_INFINITY)).toBe(true);
    traffic.setWeight(svc, "slow", "s", 80);
    await clock.runFor(30_000);
    const above = clock.now();
    expect(traffic.deviatesDuring(svc, above - 6 * 60_000, above)).toBe(true);
    // the scrapes before the weight change stay below
    expect(traffic.deviatesDuring(svc, half - 6 * 60_000, half)).toBe(false);
    // any other fault deviates whatever the load
    traffic.setVersionBehaviour(svc, "slow", {
      ...behaviour,
      load: { aboveRps: 60, errorRatio: 0.3 },
      errorRatio: 0.01,
    });
    traffic.setWeight(svc, "slow", "s", 10);
    await clock.runFor(10 * 60_000);
    expect(traffic.deviatesDuring(svc, clock.now() - 60_000, clock.now())).toBe(true);
  });

  it("history drawn in aggregate, looked at later in detail: counters never go back, rates stay true", async () => {
    const { clock, traffic, prom } = setup();
    traffic.deploy(svc, "v1");
    traffic.setVersionBehaviour(svc, "v1", { errorRatio: 0.02 });
    await clock.runFor(3 * 86_400_000);
    // the first look is at day 3: days 0-3 are drawn as chunk totals
    expect(
      values(prom.evaluate(`sum(rate(http_requests_total{${sel("v1")}}[5m]))`, clock.now()))[0],
    ).toBeGreaterThan(900);
    // now the detail of day 1 (split from those totals), sample by sample
    const [series] = traffic.select([
      { name: "__name__", op: "=", value: "http_requests_total" },
      { name: "code", op: "=", value: "500" },
    ]);
    const day1 = series!.samples(T0 + 86_400_000, T0 + 2 * 86_400_000);
    expect(day1.v.length).toBeGreaterThan(5000);
    for (let i = 1; i < day1.v.length; i++) expect(day1.v[i]!).toBeGreaterThanOrEqual(day1.v[i - 1]!);
    const at = (h: number) => T0 + 86_400_000 + h * 3_600_000;
    for (const h of [1, 6.5, 12, 23]) {
      // 5-minute windows inside the detail and across chunk boundaries (whole hours)
      const rate = values(prom.evaluate(`sum(rate(http_requests_total{${sel("v1")}}[5m]))`, at(h)))[0]!;
      expect(rate).toBeGreaterThan(900);
      expect(rate).toBeLessThan(1100);
      const err = values(prom.evaluate(errorRatio("v1", "1h"), at(h)))[0]!;
      expect(err).toBeGreaterThan(0.015);
      expect(err).toBeLessThan(0.025);
    }
    // the histogram agrees with the counters
    const count = `sum(increase(http_request_duration_seconds_count{${sel("v1")}}[1h]))`;
    const total = `sum(increase(http_requests_total{${sel("v1")}}[1h]))`;
    expect(values(prom.evaluate(count, at(12)))[0]).toBeCloseTo(values(prom.evaluate(total, at(12)))[0]!, 6);
  });
});

describe("exposure and routing history", () => {
  it("counts what a version served, its highest weight and the minutes out of SLO", async () => {
    const { clock, traffic, prom } = setup();
    traffic.setVersionBehaviour(svc, "bad", { errorRatio: 0.2 });
    traffic.setWeight(svc, undefined, "good", 0);
    await clock.runFor(10 * 60_000);
    const start = clock.now();
    traffic.setWeight(svc, "bad", "good", 5);
    await clock.runFor(10 * 60_000);
    traffic.setWeight(svc, "bad", "good", 0);
    traffic.stopVersion(svc, "bad");
    await clock.runFor(10 * 60_000);
    const ex = traffic.exposure(svc, "bad", start, clock.now());
    expect(ex.maxWeight).toBe(5);
    expect(ex.requests).toBeGreaterThan(0.9 * 50 * 600);
    expect(ex.requests).toBeLessThan(1.1 * 50 * 600);
    expect(ex.errors / ex.requests).toBeCloseTo(0.2, 1);
    // 5% x 20% = 1% service-wide 5xx ratio > 0.5% in each of the 10 minutes
    expect(ex.errorBudgetMinutes).toBeGreaterThanOrEqual(9);
    expect(ex.errorBudgetMinutes).toBeLessThanOrEqual(11);
    // the counters say the same as the exposure
    const inc = values(
      prom.evaluate(`sum(increase(http_requests_total{${sel("bad")}}[25m]))`, start + 20 * 60_000),
    );
    expect(Math.abs(inc[0]! - ex.requests) / ex.requests).toBeLessThan(0.1);
    expect(traffic.weightHistory(svc).map((w) => w.weights)).toEqual([
      { good: 100 },
      { bad: 5, good: 95 },
      { bad: 0, good: 100 },
    ]);
  });

  it("rejects unknown services with a coded error", () => {
    const { traffic } = setup();
    expect(() => traffic.setWeight({ namespace: "x", service: "nope" }, undefined, "h", 0)).toThrow(
      expect.objectContaining({ code: "GTB_TRAFFIC_UNKNOWN_SERVICE" }),
    );
    expect(traffic.getWeights({ namespace: "x", service: "nope" })).toBeUndefined();
  });
});
