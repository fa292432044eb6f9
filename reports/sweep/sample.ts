/**
 * What one simulated run contributes to a sweep point: the canary and DORA figures of
 * one world, overall and per tier (tiers read from deploy.started events). Pure.
 */
import type { EventBase } from "../../engine/core/events.ts";
import type {
  CanaryVerdictEvent,
  DeployStartedEvent,
  ExposureEvent,
  Tier,
  WorldName,
} from "../../simulator/events.ts";
import { worldMetrics } from "../dora.ts";
import { ratio } from "../stats.ts";

export const TIERS: readonly Tier[] = ["tier-1", "tier-2", "internal"];

/** Metrics reported per point (mean and 95% CI over repeats). */
export const SWEEP_METRICS = [
  "detectionRate",
  "falseAbortRate",
  "badTraffic",
  "leadTimeHours",
  "changeFailureRate",
  "changeFailureRateTruth",
  "recoveryMinutes",
] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

/** Metrics reported per tier. */
export const TIER_METRICS = ["detectionRate", "falseAbortRate", "badTraffic"] as const;
export type TierMetric = (typeof TIER_METRICS)[number];

export const METRIC_INFO: Record<SweepMetric, { label: string; unit: string; better: "higher" | "lower" }> = {
  detectionRate: {
    label: "detection rate (bad canaries aborted / bad canaries judged)",
    unit: "ratio",
    better: "higher",
  },
  falseAbortRate: {
    label: "false-abort rate (good canaries aborted / good canaries judged)",
    unit: "ratio",
    better: "lower",
  },
  badTraffic: {
    label: "bad traffic served (failed requests answered by bad versions)",
    unit: "requests",
    better: "lower",
  },
  leadTimeHours: { label: "lead-time cost (median change lead time)", unit: "hours", better: "lower" },
  changeFailureRate: { label: "change fail rate, observed", unit: "ratio", better: "lower" },
  changeFailureRateTruth: { label: "change fail rate, ground truth", unit: "ratio", better: "lower" },
  recoveryMinutes: { label: "median failed deployment recovery time", unit: "minutes", better: "lower" },
};

export interface RunSample {
  seed: number;
  metrics: Record<SweepMetric, number | null>;
  perTier: Record<Tier, Record<TierMetric, number | null>>;
}

interface Counts {
  trueAborts: number;
  escaped: number;
  falseAborts: number;
  correct: number;
  badFailed: number;
}

/** The sample of `world` in a run's event log. */
export function runSample(events: readonly EventBase[], world: WorldName, seed: number): RunSample {
  const m = worldMetrics(events, world);
  const tierOf = new Map<string, Tier>();
  const counts = new Map<Tier, Counts>(
    TIERS.map((t) => [t, { trueAborts: 0, escaped: 0, falseAborts: 0, correct: 0, badFailed: 0 }]),
  );
  for (const e of events) {
    if ((e as { world?: string }).world !== world) continue;
    if (e.type === "deploy.started") {
      const d = e as DeployStartedEvent;
      tierOf.set(d.deployId, d.tier);
    } else if (e.type === "canary.verdict") {
      const v = e as CanaryVerdictEvent;
      const c = counts.get(tierOf.get(v.deployId) as Tier);
      if (c === undefined) continue;
      if (v.verdict === "aborted") v.bad ? c.trueAborts++ : c.falseAborts++;
      else if (v.verdict === "promoted") v.bad ? c.escaped++ : c.correct++;
    } else if (e.type === "exposure") {
      const x = e as ExposureEvent;
      const c = counts.get(tierOf.get(x.deployId) as Tier);
      if (c !== undefined) c.badFailed += x.failedRequests;
    }
  }
  const perTier = Object.fromEntries(
    TIERS.map((t) => {
      const c = counts.get(t)!;
      return [
        t,
        {
          detectionRate: ratio(c.trueAborts, c.trueAborts + c.escaped),
          falseAbortRate: ratio(c.falseAborts, c.falseAborts + c.correct),
          badTraffic: Math.round(c.badFailed),
        },
      ];
    }),
  ) as RunSample["perTier"];
  return {
    seed,
    metrics: {
      detectionRate: m.canary.detectionRate,
      falseAbortRate: m.canary.falseAbortRate,
      badTraffic: m.exposure.badVersionFailedRequests,
      leadTimeHours: m.dora.leadTimeHours.median,
      changeFailureRate: m.dora.changeFailureRate,
      changeFailureRateTruth: m.dora.changeFailureRateTruth,
      recoveryMinutes: m.dora.recoveryTimeMinutes.median,
    },
    perTier,
  };
}
