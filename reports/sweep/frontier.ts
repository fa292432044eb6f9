/**
 * The Pareto frontier of sweep points over (maximize detection rate, minimize false-abort
 * rate, minimize bad traffic), and a recommended point per tier with the reason in words. Pure.
 */
import type { Tier } from "../../simulator/events.ts";
import type { RepeatSummary } from "./stats.ts";

export interface Objectives {
  index: number;
  detection: number | null;
  falseAbort: number | null;
  badTraffic: number | null;
}

type Complete = { index: number; detection: number; falseAbort: number; badTraffic: number };

function complete(p: Objectives): p is Objectives & Complete {
  return p.detection !== null && p.falseAbort !== null && p.badTraffic !== null;
}

/** q dominates p: at least as good on every objective and better on one. */
export function dominates(q: Complete, p: Complete): boolean {
  const noWorse = q.detection >= p.detection && q.falseAbort <= p.falseAbort && q.badTraffic <= p.badTraffic;
  const better = q.detection > p.detection || q.falseAbort < p.falseAbort || q.badTraffic < p.badTraffic;
  return noWorse && better;
}

/**
 * Indexes (ascending) of the points no other point dominates. Points missing an objective
 * (e.g. no bad canary was judged, so no detection rate) are not on the frontier.
 */
export function paretoFrontier(points: readonly Objectives[]): number[] {
  const done = points.filter(complete);
  return done
    .filter((p) => !done.some((q) => q !== p && dominates(q, p)))
    .map((p) => p.index)
    .sort((a, b) => a - b);
}

export type Scope = "all" | Tier;

/** How much false-abort rate each scope accepts to buy detection, and why. */
export const TIER_POLICY: Record<Scope, { maxFalseAbort: number; why: string }> = {
  all: {
    maxFalseAbort: 0.05,
    why: "fleet-wide: one good change in twenty aborted is the usual tolerance for a canary gate",
  },
  "tier-1": {
    maxFalseAbort: 0.1,
    why: "tier-1 serves customers: a missed bad version costs more than a good change delayed by a retry",
  },
  "tier-2": { maxFalseAbort: 0.05, why: "tier-2: balanced, the fleet-wide tolerance" },
  internal: {
    maxFalseAbort: 0.02,
    why: "internal services hurt few users when bad, but every false abort costs engineers a retry",
  },
};

export interface ScopedPoint {
  index: number;
  params: Record<string, string>;
  detection: RepeatSummary;
  falseAbort: RepeatSummary;
  badTraffic: RepeatSummary;
}

export interface Recommendation {
  scope: Scope;
  /** The recommended point, or null when no point has the three objectives. */
  index: number | null;
  params: Record<string, string> | null;
  /** Frontier of this scope's metrics (point indexes). */
  frontier: number[];
  reason: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ci = (s: RepeatSummary, f: (x: number) => string) =>
  s.ci95 === null ? "" : ` (95% CI ${f(s.ci95[0])} to ${f(s.ci95[1])})`;
const describe = (p: Record<string, string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ") || "the base scenario";

/**
 * Recommend one point for a scope: among its frontier points whose false-abort rate is within
 * the scope's budget, the one with the highest detection rate (ties: less bad traffic, then the
 * lower index); when none is within budget, the frontier point with the lowest false-abort rate.
 */
export function recommend(scope: Scope, points: readonly ScopedPoint[]): Recommendation {
  const objectives = points.map((p) => ({
    index: p.index,
    detection: p.detection.mean,
    falseAbort: p.falseAbort.mean,
    badTraffic: p.badTraffic.mean,
  }));
  const frontier = paretoFrontier(objectives);
  const policy = TIER_POLICY[scope];
  const label = scope === "all" ? "the whole fleet" : scope;
  if (frontier.length === 0) {
    return {
      scope,
      index: null,
      params: null,
      frontier,
      reason: `no recommendation for ${label}: no point has a detection rate, a false-abort rate and bad traffic (the world judged no bad and good canaries of ${label} in any repeat)`,
    };
  }
  const byIndex = new Map(points.map((p) => [p.index, p]));
  const front = frontier.map((i) => byIndex.get(i)!);
  const within = front.filter((p) => p.falseAbort.mean! <= policy.maxFalseAbort);
  const better = (a: ScopedPoint, b: ScopedPoint) =>
    a.detection.mean! - b.detection.mean! || b.badTraffic.mean! - a.badTraffic.mean! || b.index - a.index;
  const fewerFalse = (a: ScopedPoint, b: ScopedPoint) =>
    b.falseAbort.mean! - a.falseAbort.mean! || a.detection.mean! - b.detection.mean! || b.index - a.index;
  const pick =
    within.length > 0
      ? within.reduce((a, b) => (better(b, a) > 0 ? b : a))
      : front.reduce((a, b) => (fewerFalse(b, a) > 0 ? b : a));
  const figures =
    `detection ${pct(pick.detection.mean!)}${ci(pick.detection, pct)}, ` +
    `false aborts ${pct(pick.falseAbort.mean!)}${ci(pick.falseAbort, pct)}, ` +
    `bad traffic ${Math.round(pick.badTraffic.mean!)} failed requests per run`;
  const reason =
    within.length > 0
      ? `${label}: ${describe(pick.params)} has the highest detection rate of the ${within.length} frontier point(s) (of ${front.length}) whose false-abort rate is within the ${pct(policy.maxFalseAbort)} budget (${policy.why}); ${figures}.`
      : `${label}: no frontier point keeps false aborts within the ${pct(policy.maxFalseAbort)} budget (${policy.why}); ${describe(pick.params)} has the fewest false aborts on the frontier; ${figures}.`;
  return { scope, index: pick.index, params: pick.params, frontier, reason };
}
