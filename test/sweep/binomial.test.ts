/**
 * The simulator against statistics: repeated canary judgements of a good and of a bad
 * version agree with the binomial model of canary detection.
 *
 * Built on the lowest level that is still real: the traffic model (Poisson requests, binomial
 * 5xx per scrape interval) scraped by the mock Prometheus, the error-rate query of an Argo
 * AnalysisTemplate evaluated by its PromQL engine, the result bound and judged by the analysis
 * code (bindPromResult + evaluateResult with `result[0] <= threshold`). Each judgement looks at
 * its own 5-minute window of one long-running canary; windows do not overlap, and the traffic
 * model draws every scrape interval independently (keyed by seed, series and interval), so the
 * K judgements are independent Bernoulli trials.
 *
 * Model: a judgement fails when Binomial(n, p) / n > threshold, with n = request rate x canary
 * weight x the span the query counts. With 15 s scrapes a [5m] range holds 20 samples, i.e. 19
 * scrape intervals = 285 s of requests (rate() extrapolates numerator and denominator by the same
 * factor, so the ratio is the ratio of counted requests); n = 16.67 rps x 10% x 285 s = 475.
 * The naive window (300 s, n = 500) is measurably wrong for the bad version: asserted below.
 * Requests are Poisson, so n varies by about +-22 around 475; threshold x n stays within
 * (2, 3) over that range, so "more than threshold x n errors" means "3 or more" for every
 * plausible n and the fixed-n model is the right comparison.
 *
 * Which interval: the model's value must lie in the 99% Wilson score interval of the empirical
 * rate. The model value is exact (no sampling error); the empirical rate carries the binomial
 * sampling error of K trials, so the confidence interval belongs to it. The Wilson interval is
 * the inversion of the score test, so "model in Wilson(empirical)" is the same statement as
 * "empirical in the 99% score-test acceptance region around the model": the two formulations
 * of the brief coincide for Wilson, unlike Wald intervals, which also fail near 0 and 1.
 * 99% keeps the false-failure rate of this test at 1% per assertion for a fixed seed, and the
 * seed is fixed, so the test is deterministic.
 */
import { describe, expect, it } from "vitest";
import { evaluateResult } from "../../engine/analysis/assess.ts";
import { bindPromResult, type PromQueryData } from "../../engine/analysis/provider.ts";
import { exceedProbability, wilsonInterval } from "../../reports/sweep/stats.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { MockPrometheus } from "../../simulator/prometheus/mock.ts";
import { TrafficModel } from "../../simulator/traffic/model.ts";

const T0 = Date.UTC(2026, 0, 5);
const WINDOW_MS = 300_000;
const SCRAPE_MS = 15_000;
const SERVICE_RPS = 100 / 6;
const WEIGHT = 10;
const THRESHOLD = 0.005;
const K = 3000;
const target = { namespace: "shop", service: "cart" };
const sel = `namespace="shop", service="cart", rollouts_pod_template_hash="canary"`;
const QUERY = `sum(rate(http_requests_total{${sel}, code=~"5.."}[5m])) / sum(rate(http_requests_total{${sel}}[5m]))`;

const runs = new Map<string, Promise<{ failed: number; other: number }>>();
/** K independent judgements of a canary with per-request error probability p (memoized per seed). */
function judge(p: number, seed: string, k = K): Promise<{ failed: number; other: number }> {
  const key = `${seed}/${p}/${k}`;
  let r = runs.get(key);
  if (r === undefined) {
    r = judgeOnce(p, seed, k);
    runs.set(key, r);
  }
  return r;
}

async function judgeOnce(p: number, seed: string, k: number): Promise<{ failed: number; other: number }> {
  const clock = new VirtualClock(T0);
  const traffic = new TrafficModel({ clock, seed, scrapeIntervalMs: SCRAPE_MS });
  traffic.addService({
    ...target,
    baseRps: SERVICE_RPS,
    diurnalAmplitude: 0,
    weekendFactor: 1,
    noiseSd: 0,
    initializeSeries: true,
  });
  const prom = new MockPrometheus({ clock });
  prom.addProvider(traffic);
  traffic.startVersion(target, "stable");
  traffic.startVersion(target, "canary");
  traffic.setVersionBehaviour(target, "canary", { errorRatio: p });
  traffic.setWeight(target, "canary", "stable", WEIGHT);
  const first = T0 + 10 * 60_000;
  await clock.runUntil(first + k * WINDOW_MS);
  let failed = 0;
  let other = 0;
  for (let i = 1; i <= k; i++) {
    const data = (await prom.query(QUERY, first + i * WINDOW_MS)) as PromQueryData;
    const v = evaluateResult({ successCondition: `result[0] <= ${THRESHOLD}` }, bindPromResult(data));
    if (v.phase === "Failed") failed++;
    else if (v.phase !== "Successful") other++;
  }
  return { failed, other };
}

const countedSeconds = (WINDOW_MS - SCRAPE_MS) / 1000;
const n = Math.round(SERVICE_RPS * (WEIGHT / 100) * countedSeconds);
const naiveN = Math.round(SERVICE_RPS * (WEIGHT / 100) * (WINDOW_MS / 1000));

describe("canary judgements agree with the binomial model", () => {
  it("uses n = 475 counted requests per window, threshold x n strictly between 2 and 3", () => {
    expect(n).toBe(475);
    expect(naiveN).toBe(500);
    for (const nn of [n - 3 * Math.sqrt(n), n + 3 * Math.sqrt(n)]) {
      expect(THRESHOLD * nn).toBeGreaterThan(2);
      expect(THRESHOLD * nn).toBeLessThan(3);
    }
  });

  it.each([
    { version: "good (false aborts)", p: 0.003, seed: "binomial/good" },
    { version: "bad (detections)", p: 0.008, seed: "binomial/bad" },
  ])("$version: p = $p, threshold 0.5%", async ({ p, seed }) => {
    const { failed, other } = await judge(p, seed);
    expect(other).toBe(0);
    const model = exceedProbability(n, p, THRESHOLD);
    const [lo, hi] = wilsonInterval(failed, K, 0.99);
    expect({ model, empirical: failed / K, lo, hi }).toSatisfy(
      (x: { model: number; lo: number; hi: number }) => x.model >= x.lo && x.model <= x.hi,
    );
    // the test has power: the other version's rate is far outside this interval
    const otherP = p === 0.003 ? 0.008 : 0.003;
    const wrong = exceedProbability(n, otherP, THRESHOLD);
    expect(wrong < lo || wrong > hi).toBe(true);
  });

  it("the naive n (whole window, 500 requests) misses the bad version's detection rate", async () => {
    // 0.763 (naive) vs 0.732 (counted span): 12,000 judgements make the 99% interval +-0.010 wide
    const big = 12_000;
    const { failed } = await judge(0.008, "binomial/naive", big);
    const [lo, hi] = wilsonInterval(failed, big, 0.99);
    const model = exceedProbability(n, 0.008, THRESHOLD);
    const naive = exceedProbability(naiveN, 0.008, THRESHOLD);
    expect(model >= lo && model <= hi).toBe(true);
    expect(naive < lo || naive > hi).toBe(true);
  });
});
