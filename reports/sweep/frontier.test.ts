import { describe, expect, it } from "vitest";
import { dominates, paretoFrontier, recommend, type ScopedPoint } from "./frontier.ts";

const P = (
  index: number,
  detection: number | null,
  falseAbort: number | null,
  badTraffic: number | null,
) => ({
  index,
  detection,
  falseAbort,
  badTraffic,
});

describe("Pareto frontier (max detection, min false aborts, min bad traffic)", () => {
  it.each([
    { name: "one point", points: [P(0, 0.5, 0.1, 100)], want: [0] },
    { name: "strictly better on all three", points: [P(0, 0.5, 0.1, 100), P(1, 0.9, 0.05, 50)], want: [1] },
    { name: "better on one, equal on two", points: [P(0, 0.9, 0.1, 100), P(1, 0.9, 0.1, 99)], want: [1] },
    { name: "equal points both stay", points: [P(0, 0.9, 0.1, 100), P(1, 0.9, 0.1, 100)], want: [0, 1] },
    {
      name: "trade-offs all stay",
      points: [P(0, 0.99, 0.2, 10), P(1, 0.8, 0.01, 500), P(2, 0.9, 0.05, 100)],
      want: [0, 1, 2],
    },
    {
      name: "dominated in the middle",
      points: [P(0, 0.99, 0.2, 10), P(1, 0.8, 0.01, 500), P(2, 0.85, 0.1, 600), P(3, 0.9, 0.05, 100)],
      want: [0, 1, 3],
    },
    {
      name: "bad traffic alone keeps a point",
      points: [P(0, 0.9, 0.05, 100), P(1, 0.8, 0.1, 50)],
      want: [0, 1],
    },
    {
      name: "points missing an objective are left out",
      points: [P(0, null, 0.1, 10), P(1, 0.2, 0.5, 900)],
      want: [1],
    },
    { name: "none complete", points: [P(0, null, null, 1)], want: [] },
  ])("$name", ({ points, want }) => {
    expect(paretoFrontier(points)).toEqual(want);
  });

  it("dominance is not symmetric and not reflexive", () => {
    const a = { index: 0, detection: 0.9, falseAbort: 0.05, badTraffic: 10 };
    const b = { index: 1, detection: 0.8, falseAbort: 0.05, badTraffic: 10 };
    expect(dominates(a, b)).toBe(true);
    expect(dominates(b, a)).toBe(false);
    expect(dominates(a, a)).toBe(false);
  });
});

const S = (mean: number | null) => ({ n: mean === null ? 0 : 3, mean, ci95: null });
const point = (index: number, det: number | null, fa: number | null, bad: number | null): ScopedPoint => ({
  index,
  params: { "analysis.errorRate": String(index) },
  detection: S(det),
  falseAbort: S(fa),
  badTraffic: S(bad),
});

describe("recommendation per tier", () => {
  const points = [
    point(0, 0.99, 0.2, 10), // most sensitive: false aborts above every budget
    point(1, 0.95, 0.08, 40), // within tier-1's 10%
    point(2, 0.9, 0.04, 60), // within 5%
    point(3, 0.7, 0.01, 300), // within 2%
    point(4, 0.6, 0.04, 400), // dominated by 2
  ];

  it.each([
    { scope: "tier-1", want: 1 },
    { scope: "tier-2", want: 2 },
    { scope: "all", want: 2 },
    { scope: "internal", want: 3 },
  ] as const)("$scope -> point $want", ({ scope, want }) => {
    const r = recommend(scope, points);
    expect(r.index).toBe(want);
    expect(r.frontier).toEqual([0, 1, 2, 3]);
    expect(r.reason).toContain(`analysis.errorRate=${want}`);
    expect(r.reason).toContain("budget");
  });

  it("no point within budget: the fewest false aborts on the frontier, said so", () => {
    const r = recommend("internal", [point(0, 0.9, 0.3, 10), point(1, 0.5, 0.1, 20)]);
    expect(r.index).toBe(1);
    expect(r.reason).toContain("no frontier point keeps false aborts within the 2.0% budget");
  });

  it("ties on detection go to less bad traffic", () => {
    const r = recommend("all", [point(0, 0.9, 0.04, 100), point(1, 0.9, 0.03, 200)]);
    expect(r.frontier).toEqual([0, 1]);
    expect(r.index).toBe(0);
  });

  it("no canary verdicts: no recommendation, with the reason", () => {
    const r = recommend("tier-2", [point(0, null, null, 0)]);
    expect(r.index).toBeNull();
    expect(r.reason).toMatch(/no recommendation for tier-2/);
  });
});
