import { describe, expect, it } from "vitest";
import {
  binomialUpperTail,
  exceedProbability,
  logGamma,
  summarizeRepeats,
  t975,
  wilsonInterval,
  zFor,
} from "./stats.ts";

describe("sweep statistics", () => {
  it.each([
    { x: 1, want: 0 },
    { x: 5, want: Math.log(24) },
    { x: 0.5, want: Math.log(Math.sqrt(Math.PI)) },
    { x: 101, want: 363.73937555556347 },
  ])("logGamma($x)", ({ x, want }) => {
    expect(logGamma(x)).toBeCloseTo(want, 10);
  });

  it.each([
    { k: 5, n: 10, p: 0.5, want: 386 / 1024 },
    { k: 0, n: 3, p: 0.1, want: 1 - 0.9 ** 3 },
    { k: -1, n: 3, p: 0.1, want: 1 },
    { k: 3, n: 3, p: 0.1, want: 0 },
    { k: 2, n: 475, p: 0, want: 0 },
    // P[Binomial(1000, 0.01) > 20], summed exactly with rationals (Python fractions + math.comb)
    { k: 20, n: 1000, p: 0.01, want: 0.0014964815477092432 },
  ])("P[Binomial($n, $p) > $k]", ({ k, n, p, want }) => {
    expect(binomialUpperTail(k, n, p)).toBeCloseTo(want, 7);
  });

  it("exceedProbability counts strictly more than threshold x n failures", () => {
    // threshold x n = 5 exactly: a ratio of 5/1000 is not above 0.005
    expect(exceedProbability(1000, 0.005, 0.005)).toBeCloseTo(binomialUpperTail(5, 1000, 0.005), 12);
    expect(exceedProbability(475, 0.003, 0.005)).toBeCloseTo(binomialUpperTail(2, 475, 0.003), 12);
  });

  it("z and t quantiles", () => {
    expect(zFor(0.95)).toBeCloseTo(1.959964, 4);
    expect(zFor(0.99)).toBeCloseTo(2.575829, 4);
    expect(t975(1)).toBe(12.706);
    expect(t975(9)).toBe(2.262);
    expect(t975(60)).toBeCloseTo(2.0, 2);
  });

  it.each([
    { s: 0, n: 10, level: 0.95, want: [0, 0.2775] },
    { s: 5, n: 10, level: 0.95, want: [0.2366, 0.7634] },
    { s: 82, n: 100, level: 0.99, want: [0.702211, 0.897968] },
  ])("Wilson interval $s/$n at $level", ({ s, n, level, want }) => {
    const [lo, hi] = wilsonInterval(s, n, level);
    expect(lo).toBeCloseTo(want[0]!, 3);
    expect(hi).toBeCloseTo(want[1]!, 3);
  });

  it.each([
    { values: [], want: { n: 0, mean: null, ci95: null } },
    { values: [null, 0.5], want: { n: 1, mean: 0.5, ci95: null } },
    { values: [1, 2, 3], want: { n: 3, mean: 2, ci95: [-0.484338, 4.484338] } },
    { values: [0.2, 0.4, null, 0.6, 0.8], want: { n: 4, mean: 0.5, ci95: [0.089206, 0.910794] } },
  ])("summarizeRepeats($values)", ({ values, want }) => {
    expect(summarizeRepeats(values)).toEqual(want);
  });

  it.each([
    // a rate near 0 over ten repeats: t's interval reaches below 0, the rate's domain cuts it there
    { values: [0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.07], domain: [0, 1], want: [0, 0.04313] },
    { values: [1, 1, 0.9], domain: [0, 1], want: [0.823233, 1] },
    { values: [1, 2, 3], domain: [0, Number.POSITIVE_INFINITY], want: [0, 4.484338] },
  ] as const)("summarizeRepeats($values) within $domain", ({ values, domain, want }) => {
    expect(summarizeRepeats(values, domain).ci95).toEqual(want);
  });
});
