/**
 * Attribution: what each GitOps mechanism contributed. The gitops worlds of a run are re-run with
 * one mechanism turned off at a time (reports/attribution-run.ts) on the same seed, fleet and plan,
 * so each variant faces the same changes, drift and requests as the baseline; the difference in
 * outcome is the mechanism's contribution.
 *
 * The variants' figures travel in the event log as one `attribution.computed` event (just before
 * `run.finished`); the baseline is the world's own metrics in the same log. So `buildReport(events)`
 * and `gitops-testbed report EVENTS.jsonl` render the attribution of a saved run without re-running
 * anything. Everything here is pure.
 */
import type { EventBase } from "../engine/core/events.ts";
import { type WorldMetrics, worldMetrics } from "./dora.ts";
import { round } from "./stats.ts";

export type MechanismId = "canary-analysis" | "self-heal" | "webhook";

export interface Mechanism {
  id: MechanismId;
  /** The mechanism, as a platform engineer names it. */
  name: string;
  /** The variant: what the re-run turns off. */
  off: string;
  /** Figures that tell this mechanism's story first (the rest follow in row order). */
  headline: Array<keyof AttributionFigures>;
}

export const MECHANISMS: readonly Mechanism[] = [
  {
    id: "canary-analysis",
    name: "Canary analysis",
    off: "canary analysis off (canaries step through to 100%, nothing judges them)",
    headline: ["badVersionRequests", "changeFailureRateTruth", "changeFailureRate", "trueAborts"],
  },
  {
    id: "self-heal",
    name: "Self-heal",
    off: "self-heal off (drift is reported, never reverted)",
    headline: ["driftHealed", "driftUndetected", "driftDetected"],
  },
  {
    id: "webhook",
    name: "Push webhook",
    off: "polling only (no push webhook: the next poll finds each commit)",
    headline: ["leadTimeHoursMedian", "recoveryMinutesMedian", "recoveryMinutesP90"],
  },
];

/** The figures attribution compares (units as in the report's comparison table). */
export interface AttributionFigures {
  /** % of production deployments (observed, DevLake rule). */
  changeFailureRate: number | null;
  /** % of production deployments whose version was bad. */
  changeFailureRateTruth: number | null;
  recoveryMinutesMedian: number | null;
  recoveryMinutesP90: number | null;
  leadTimeHoursMedian: number | null;
  driftDetected: number;
  driftHealed: number;
  driftUndetected: number;
  /** Requests served by bad versions (canary and production). */
  badVersionRequests: number;
  /** Bad versions stopped by a canary abort. */
  trueAborts: number;
  /** Good versions aborted. */
  falseAborts: number;
}

export interface AttributionRowSpec {
  key: keyof AttributionFigures;
  label: string;
  unit: string;
  lowerIsBetter: boolean;
}

export const ATTRIBUTION_ROWS: readonly AttributionRowSpec[] = [
  { key: "changeFailureRate", label: "Change failure rate (observed)", unit: "%", lowerIsBetter: true },
  {
    key: "changeFailureRateTruth",
    label: "Change failure rate (ground truth)",
    unit: "%",
    lowerIsBetter: true,
  },
  { key: "recoveryMinutesMedian", label: "Recovery time (median)", unit: "min", lowerIsBetter: true },
  { key: "recoveryMinutesP90", label: "Recovery time (p90)", unit: "min", lowerIsBetter: true },
  { key: "leadTimeHoursMedian", label: "Change lead time (median)", unit: "h", lowerIsBetter: true },
  { key: "driftDetected", label: "Drift detected", unit: "", lowerIsBetter: false },
  { key: "driftHealed", label: "Drift auto-corrected", unit: "", lowerIsBetter: false },
  { key: "driftUndetected", label: "Drift never detected", unit: "", lowerIsBetter: true },
  { key: "badVersionRequests", label: "Requests served by bad versions", unit: "", lowerIsBetter: true },
  { key: "trueAborts", label: "Bad versions stopped by canary", unit: "", lowerIsBetter: false },
  { key: "falseAborts", label: "Good versions aborted", unit: "", lowerIsBetter: true },
];

const pct = (x: number | null) => (x === null ? null : round(x * 100, 2));

export function attributionFigures(m: WorldMetrics): AttributionFigures {
  return {
    changeFailureRate: pct(m.dora.changeFailureRate),
    changeFailureRateTruth: pct(m.dora.changeFailureRateTruth),
    recoveryMinutesMedian: m.dora.recoveryTimeMinutes.median,
    recoveryMinutesP90: m.dora.recoveryTimeMinutes.p90,
    leadTimeHoursMedian: m.dora.leadTimeHours.median,
    driftDetected: m.drift.detected,
    driftHealed: m.drift.healed,
    driftUndetected: m.drift.undetected,
    badVersionRequests: m.exposure.badVersionRequests,
    trueAborts: m.canary.trueAborts,
    falseAborts: m.canary.falseAborts,
  };
}

export interface AttributionRow extends AttributionRowSpec {
  /** The world as it ran. */
  baseline: number | null;
  /** The same world with the mechanism off. */
  without: number | null;
  /** without - baseline (percentage points for %); null when either side has no data. */
  delta: number | null;
  /** Turning the mechanism off made this figure worse (a positive contribution of the mechanism). */
  worse: boolean | null;
}

/** Per figure: the baseline, the variant, and the delta (variant - baseline). */
export function attributionDeltas(
  baseline: AttributionFigures,
  without: AttributionFigures,
): AttributionRow[] {
  return ATTRIBUTION_ROWS.map((spec) => {
    const a = baseline[spec.key];
    const b = without[spec.key];
    const delta = a === null || b === null ? null : round(b - a, 4);
    return {
      ...spec,
      baseline: a,
      without: b,
      delta,
      worse: delta === null || delta === 0 ? null : spec.lowerIsBetter ? delta > 0 : delta < 0,
    };
  });
}

/** One variant of one gitops world, as stored in the event log. */
export interface AttributionVariant {
  mechanism: MechanismId;
  world: string;
  /** The variant's figures; absent when it was not run. */
  figures?: AttributionFigures;
  /** Why the variant was not run (e.g. the mechanism is already off in this world). */
  skipped?: string;
}

export interface AttributionComputedEvent extends EventBase {
  type: "attribution.computed";
  /** The seed the variants ran with (the run's). */
  seed: number;
  variants: AttributionVariant[];
}

export function isAttributionEvent(e: EventBase): e is AttributionComputedEvent {
  return e.type === "attribution.computed";
}

/** The event log with the attribution event placed just before `run.finished` (or at the end). */
export function withAttribution(
  events: readonly EventBase[],
  attribution: AttributionComputedEvent,
): EventBase[] {
  const out = events.filter((e) => !isAttributionEvent(e));
  const i = out.findIndex((e) => e.type === "run.finished");
  out.splice(i < 0 ? out.length : i, 0, attribution);
  return out;
}

/** report.json `attribution`: one entry per gitops world and mechanism. */
export interface AttributionSection {
  rule: string;
  entries: Array<{
    mechanism: MechanismId;
    name: string;
    off: string;
    world: string;
    skipped?: string;
    /** Empty when skipped. */
    rows: AttributionRow[];
  }>;
}

export const ATTRIBUTION_RULE =
  "each gitops world re-run with one mechanism off (canary analysis, self-heal, push webhook), same seed, " +
  "fleet, changes, drift and traffic; delta = variant - baseline (percentage points for rates); a " +
  "mechanism's contribution is what the world loses without it";

/** The attribution section of a log that carries an `attribution.computed` event; undefined otherwise. */
export function attributionSection(events: readonly EventBase[]): AttributionSection | undefined {
  const ev = events.find(isAttributionEvent);
  if (ev === undefined) return undefined;
  const baselines = new Map<string, AttributionFigures>();
  const baselineOf = (world: string) => {
    let f = baselines.get(world);
    if (f === undefined) {
      f = attributionFigures(worldMetrics(events, world));
      baselines.set(world, f);
    }
    return f;
  };
  const order = (id: MechanismId) => MECHANISMS.findIndex((m) => m.id === id);
  const entries = [...ev.variants]
    .sort((a, b) => a.world.localeCompare(b.world) || order(a.mechanism) - order(b.mechanism))
    .map((v) => {
      const m = MECHANISMS[order(v.mechanism)];
      return {
        mechanism: v.mechanism,
        name: m?.name ?? v.mechanism,
        off: m?.off ?? v.mechanism,
        world: v.world,
        ...(v.skipped === undefined ? {} : { skipped: v.skipped }),
        rows: v.figures === undefined ? [] : attributionDeltas(baselineOf(v.world), v.figures),
      };
    });
  return { rule: ATTRIBUTION_RULE, entries };
}

/**
 * The rows that tell what turning the mechanism off changed, most telling first: the mechanism's
 * headline figures, then the others; only rows whose value moved.
 */
export function changedRows(mechanism: MechanismId, rows: readonly AttributionRow[]): AttributionRow[] {
  const headline = MECHANISMS.find((m) => m.id === mechanism)?.headline ?? [];
  const rank = (r: AttributionRow) => {
    const h = headline.indexOf(r.key);
    return h >= 0 ? h : headline.length + ATTRIBUTION_ROWS.findIndex((s) => s.key === r.key);
  };
  return rows
    .filter((r) => (r.delta !== null ? r.delta !== 0 : r.baseline !== r.without))
    .sort((a, b) => rank(a) - rank(b));
}
