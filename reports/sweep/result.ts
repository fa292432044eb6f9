/**
 * sweep.json: the versioned result of a sweep (or of one shard of it). Built from the
 * per-run samples in a fixed order (point index, then repeat), so the same grid gives the
 * same bytes whatever the number of workers or shards.
 */
import type { Tier } from "../../simulator/events.ts";
import { type Recommendation, recommend, type Scope } from "./frontier.ts";
import type { SweepParam } from "./grid.ts";
import {
  METRIC_INFO,
  type RunSample,
  SWEEP_METRICS,
  type SweepMetric,
  TIER_METRICS,
  TIERS,
  type TierMetric,
} from "./sample.ts";
import { type RepeatSummary, summarizeRepeats } from "./stats.ts";

export const SWEEP_SCHEMA = "gitops-testbed.dev/sweep/v1";

/** What identifies a sweep: two outputs can be merged only when these are equal. */
export interface SweepMeta {
  scenario: { name: string; file: string; seed: number; sha256: string };
  world: string;
  /** `--set` overrides applied to every point. */
  baseSets: string[];
  grid: { params: SweepParam[]; points: number; repeats: number };
}

export interface PointResult {
  index: number;
  params: Record<string, string>;
  /** The overrides that make this point's scenario (base sets first). */
  sets: string[];
  /** One sample per repeat, repeat k with seed = scenario seed + k. */
  samples: RunSample[];
  metrics: Record<SweepMetric, RepeatSummary>;
  perTier: Record<Tier, Record<TierMetric, RepeatSummary>>;
}

export interface SweepResult extends SweepMeta {
  schema: typeof SWEEP_SCHEMA;
  /** Present in the output of one shard; absent in a whole or merged sweep. */
  shard?: { index: number; count: number };
  metricInfo: typeof METRIC_INFO;
  points: PointResult[];
  /** Point indexes on the Pareto frontier (all tiers together). */
  frontier: number[];
  recommendations: Record<Scope, Recommendation>;
  rules: string[];
}

/** Every sweep metric is a rate (0 to 1) or a count, time or amount (0 and up). */
function domainOf(m: SweepMetric): readonly [number, number] {
  return METRIC_INFO[m].unit === "ratio" ? [0, 1] : [0, Number.POSITIVE_INFINITY];
}

/** Aggregate one point's samples (given in repeat order). */
export function pointResult(
  index: number,
  params: Record<string, string>,
  sets: string[],
  samples: RunSample[],
): PointResult {
  const metrics = Object.fromEntries(
    SWEEP_METRICS.map((m) => [
      m,
      summarizeRepeats(
        samples.map((s) => s.metrics[m]),
        domainOf(m),
      ),
    ]),
  ) as PointResult["metrics"];
  const perTier = Object.fromEntries(
    TIERS.map((t) => [
      t,
      Object.fromEntries(
        TIER_METRICS.map((m) => [
          m,
          summarizeRepeats(
            samples.map((s) => s.perTier[t][m]),
            domainOf(m),
          ),
        ]),
      ),
    ]),
  ) as PointResult["perTier"];
  return { index, params, sets, samples, metrics, perTier };
}

export const SWEEP_RULES = [
  "Each point runs the scenario once per repeat; repeat k uses seed = scenario seed + k (fleet, plan and traffic all follow the seed).",
  "Per point: mean over the repeats that produced a value, and a 95% confidence interval of that mean (Student's t, n - 1 degrees of freedom); a rate without a denominator in a repeat (e.g. no bad canary judged) is left out of that metric's n.",
  "Detection rate = bad canaries aborted / bad canaries aborted or promoted; false-abort rate = good canaries aborted / good canaries aborted or promoted (canary.verdict events).",
  "Bad traffic = failed requests answered by bad versions (exposure events), per run.",
  "Lead-time cost = median change lead time (commit to production) in hours; CFR and recovery time as in the DORA report (report.json rules).",
  "Per tier: verdicts and exposure attributed to the tier of the deploy (deploy.started events).",
  "Pareto frontier over (maximize detection rate, minimize false-abort rate, minimize bad traffic) on the means; points missing one of the three are not on it.",
];

/** Assemble a sweep result from the points (any order in; sorted by index out). */
export function buildSweepResult(
  meta: SweepMeta,
  points: readonly PointResult[],
  shard?: { index: number; count: number },
): SweepResult {
  const sorted = [...points].sort((a, b) => a.index - b.index);
  const scoped = (scope: Scope) =>
    sorted.map((p) => {
      const src = scope === "all" ? p.metrics : p.perTier[scope];
      return {
        index: p.index,
        params: p.params,
        detection: src.detectionRate,
        falseAbort: src.falseAbortRate,
        badTraffic: src.badTraffic,
      };
    });
  const scopes: Scope[] = ["all", ...TIERS];
  const recommendations = Object.fromEntries(scopes.map((s) => [s, recommend(s, scoped(s))])) as Record<
    Scope,
    Recommendation
  >;
  return {
    schema: SWEEP_SCHEMA,
    scenario: meta.scenario,
    world: meta.world,
    baseSets: meta.baseSets,
    grid: meta.grid,
    ...(shard === undefined ? {} : { shard }),
    metricInfo: METRIC_INFO,
    points: sorted,
    frontier: recommendations.all.frontier,
    recommendations,
    rules: SWEEP_RULES,
  };
}

export function sweepJson(result: SweepResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
