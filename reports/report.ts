/**
 * The report: a pure function of the event log. `buildReport(events)` gives the
 * versioned JSON document (report.json); renderers turn it into Markdown, HTML and
 * a terminal table. A saved events.jsonl can be re-reported at any time.
 */
import type { EventBase } from "../engine/core/events.ts";
import type {
  DriftInjectedEvent,
  DriftResolvedEvent,
  IncidentOpenedEvent,
  IncidentResolvedEvent,
  RunStartedEvent,
} from "../simulator/events.ts";
import { type AttributionSection, attributionSection } from "./attribution.ts";
import { type WorldMetrics, worldMetrics, worldsIn } from "./dora.ts";
import { caseStudyReference, type ReferenceComparison } from "./reference.ts";
import { round } from "./stats.ts";

export const REPORT_SCHEMA = "gitops-testbed.dev/report/v1";

export interface AssertionResult {
  name: string;
  world?: string;
  passed: boolean;
  message: string;
  path?: string;
}

export interface ComparisonRow {
  key: string;
  label: string;
  unit: string;
  /** Value per world, in world order; null = no data. */
  values: Array<number | null>;
  /** Lower is better (for the "change" column). */
  lowerIsBetter: boolean;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  scenario: {
    name: string;
    seed: number | null;
    start: string | null;
    end: string | null;
    services: number | null;
  };
  worlds: Record<string, WorldMetrics>;
  worldOrder: string[];
  comparison: ComparisonRow[];
  series: Record<
    string,
    {
      recoveryMinutes: number[];
      driftByDay: Array<{
        day: number;
        detected: number;
        healed: number;
        undetected: number;
        denied: number;
      }>;
      badExposure: Array<{
        deployId: string;
        service: string;
        maxWeight: number;
        requests: number;
        failedRequests: number;
      }>;
    }
  >;
  rules: Record<string, string>;
  /** The published case study beside the outcome (scenario "case-study" only). */
  reference?: ReferenceComparison;
  /**
   * What each mechanism of the gitops worlds contributed (`run --attribution` or
   * `spec.report.attribution`; absent otherwise): per world and mechanism, every figure with the
   * mechanism off beside the baseline, and the delta (reports/attribution.ts). Optional, so v1
   * readers are unaffected.
   */
  attribution?: AttributionSection;
  assertions: AssertionResult[];
  notes: string[];
}

const DAY = 86_400_000;

const ROWS: Array<Omit<ComparisonRow, "values"> & { get: (m: WorldMetrics) => number | null }> = [
  {
    key: "dora.changeFailureRate",
    label: "Change failure rate (observed)",
    unit: "%",
    lowerIsBetter: true,
    get: (m) => pct(m.dora.changeFailureRate),
  },
  {
    key: "dora.changeFailureRateTruth",
    label: "Change failure rate (ground truth)",
    unit: "%",
    lowerIsBetter: true,
    get: (m) => pct(m.dora.changeFailureRateTruth),
  },
  {
    key: "dora.recoveryTimeMinutes.median",
    label: "Recovery time on a bad deploy (median)",
    unit: "min",
    lowerIsBetter: true,
    get: (m) => m.dora.recoveryTimeMinutes.median,
  },
  {
    key: "dora.recoveryTimeMinutes.p90",
    label: "Recovery time on a bad deploy (p90)",
    unit: "min",
    lowerIsBetter: true,
    get: (m) => m.dora.recoveryTimeMinutes.p90,
  },
  {
    key: "dora.leadTimeHours.median",
    label: "Change lead time (median)",
    unit: "h",
    lowerIsBetter: true,
    get: (m) => m.dora.leadTimeHours.median,
  },
  {
    key: "dora.deploymentsPerDay",
    label: "Production deployments per day",
    unit: "/day",
    lowerIsBetter: false,
    get: (m) => m.dora.deploymentsPerDay,
  },
  {
    key: "dora.reworkRate",
    label: "Deployment rework rate",
    unit: "%",
    lowerIsBetter: true,
    get: (m) => pct(m.dora.reworkRate),
  },
  {
    key: "drift.injected",
    label: "Config drift (changes made outside Git)",
    unit: "",
    lowerIsBetter: true,
    get: (m) => m.drift.injected,
  },
  {
    key: "drift.detected",
    label: "Drift detected",
    unit: "",
    lowerIsBetter: false,
    get: (m) => m.drift.detected,
  },
  {
    key: "drift.healed",
    label: "Drift auto-corrected",
    unit: "",
    lowerIsBetter: false,
    get: (m) => m.drift.healed,
  },
  {
    key: "exposure.badVersionFailedRequests",
    label: "Failed requests served by bad versions",
    unit: "",
    lowerIsBetter: true,
    get: (m) => m.exposure.badVersionFailedRequests,
  },
  {
    key: "canary.trueAborts",
    label: "Bad versions stopped by canary analysis",
    unit: "",
    lowerIsBetter: false,
    get: (m) => m.canary.trueAborts,
  },
  {
    key: "canary.falseAborts",
    label: "Good versions aborted (false aborts)",
    unit: "",
    lowerIsBetter: true,
    get: (m) => m.canary.falseAborts,
  },
];

function pct(x: number | null): number | null {
  return x === null ? null : round(x * 100, 2);
}

export const RULES: Record<string, string> = {
  productionDeployment:
    "a deploy rolled out to production (it reached 100% of traffic, or stalled there); aborted canaries are counted under canary",
  changeFailureRate:
    "observed (Apache DevLake): production deployments with >= 1 incident attributed to them / all production deployments; an incident is attributed to the latest production deployment of the service finished at or before it opened",
  changeFailureRateTruth:
    "production deployments whose version was bad (simulator ground truth) / all production deployments",
  recoveryTime:
    "per incident caused by a bad deploy (canary aborts included): resolved - impact started; median and p90 with linear interpolation",
  leadTime: "production deployment finished - change committed (Four Keys); median and p90",
  reworkRate:
    "production deployments made because of an incident (rollback, revert, hotfix) / all production deployments",
  drift: "changes made outside Git through the API; denied writes are counted apart and never become drift",
};

function series(events: readonly EventBase[], world: string, startMs: number): Report["series"][string] {
  const opened = new Map<string, IncidentOpenedEvent>();
  const recovery: number[] = [];
  const byDay = new Map<
    number,
    { day: number; detected: number; healed: number; undetected: number; denied: number }
  >();
  const day = (t: number) => {
    const d = Math.floor((t - startMs) / DAY) + 1;
    let row = byDay.get(d);
    if (row === undefined) {
      row = { day: d, detected: 0, healed: 0, undetected: 0, denied: 0 };
      byDay.set(d, row);
    }
    return row;
  };
  const bad: Report["series"][string]["badExposure"] = [];
  const injectedAt = new Map<string, number>();
  for (const e of events) {
    if ((e as { world?: string }).world !== world) continue;
    if (e.type === "incident.opened")
      opened.set((e as IncidentOpenedEvent).incidentId, e as IncidentOpenedEvent);
    else if (e.type === "incident.resolved") {
      const o = opened.get((e as IncidentResolvedEvent).incidentId);
      if (o?.cause === "bad-deploy") recovery.push(round((e.time - o.impactStartedAt) / 60_000, 3));
    } else if (e.type === "drift.injected") {
      const d = e as DriftInjectedEvent;
      injectedAt.set(d.driftId, d.time);
      if (!d.allowed) day(d.time).denied++;
    } else if (e.type === "drift.resolved") {
      const d = e as DriftResolvedEvent;
      if (d.detected) day(d.detectedAt ?? d.time).detected++;
      else day(injectedAt.get(d.driftId) ?? d.time).undetected++;
      if (d.healed) day(d.healedAt ?? d.time).healed++;
    } else if (e.type === "exposure") {
      const x = e as unknown as {
        deployId: string;
        service: string;
        maxWeight: number;
        requests: number;
        failedRequests: number;
      };
      bad.push({
        deployId: x.deployId,
        service: x.service,
        maxWeight: x.maxWeight,
        requests: Math.round(x.requests),
        failedRequests: Math.round(x.failedRequests),
      });
    }
  }
  return {
    recoveryMinutes: recovery,
    driftByDay: [...byDay.values()].sort((a, b) => a.day - b.day),
    badExposure: bad,
  };
}

export function buildReport(events: readonly EventBase[], assertions: AssertionResult[] = []): Report {
  const run = events.find((e) => e.type === "run.started") as RunStartedEvent | undefined;
  const order = worldsIn(events);
  const worlds: Record<string, WorldMetrics> = {};
  for (const w of order) worlds[w] = worldMetrics(events, w);
  const startMs = run?.startTime ?? events[0]?.time ?? 0;
  const seriesOut: Report["series"] = {};
  for (const w of order) seriesOut[w] = series(events, w, startMs);
  const notes: string[] = [];
  for (const w of order) {
    const m = worlds[w]!;
    if (m.dora.productionDeployments === 0)
      notes.push(`${w}: no production deployments in the period; rates are not defined.`);
    if (m.dora.unresolvedIncidents > 0)
      notes.push(
        `${w}: ${m.dora.unresolvedIncidents} incident(s) still open at the end of the run (not in recovery times).`,
      );
    if (m.drift.undetected > 0)
      notes.push(`${w}: ${m.drift.undetected} drift change(s) were never detected.`);
  }
  const report: Report = {
    schema: REPORT_SCHEMA,
    scenario: {
      name: run?.scenario ?? "unknown",
      seed: run?.seed ?? null,
      start: run === undefined ? null : new Date(run.startTime).toISOString(),
      end: run === undefined ? null : new Date(run.endTime).toISOString(),
      services: run?.services ?? null,
    },
    worlds,
    worldOrder: order,
    comparison: ROWS.map(({ get, ...row }) => ({ ...row, values: order.map((w) => get(worlds[w]!)) })),
    series: seriesOut,
    rules: RULES,
    assertions,
    notes,
  };
  if (run?.scenario === "case-study") {
    const ref = caseStudyReference(report, events);
    if (ref !== undefined) report.reference = ref;
  }
  const attribution = attributionSection(events);
  if (attribution !== undefined) report.attribution = attribution;
  return report;
}

/** Deterministic pretty JSON (keys in construction order, 2-space indent, trailing newline). */
export function reportJson(report: Report): string {
  return `${JSON.stringify(report, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** A value as the tables show it: whole numbers from 100 up, else two decimals. */
function shown(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : round(v, 2);
}

export function formatValue(v: number | null, unit: string): string {
  if (v === null) return "n/a";
  const s = shown(v);
  const n = Math.abs(s) >= 100 ? s.toLocaleString("en-US") : String(s);
  return unit === "" ? n : unit === "%" ? `${n}%` : unit.startsWith("/") ? `${n}${unit}` : `${n} ${unit}`;
}

/**
 * "-83%" style relative change from the first world to the last. From a count of zero it is
 * "new"; from a value that shows as 0 but is not (a lead time of 0.004 h) a percentage would be
 * huge and meaningless, so the change is the difference, in the row's unit ("+1.24 h (worse)").
 */
export function change(row: ComparisonRow): string {
  const a = row.values[0];
  const b = row.values[row.values.length - 1];
  if (row.values.length < 2 || a === null || a === undefined || b === null || b === undefined) return "";
  if (a === 0) return b === 0 ? "=" : "new";
  const verdict = (d: number): string =>
    d === 0 ? "" : (row.lowerIsBetter ? d < 0 : d > 0) ? " (better)" : " (worse)";
  if (shown(a) === 0) {
    // the difference of the values as shown, so that the column adds up for the reader
    const diff = shown(shown(b) - shown(a));
    return diff === 0 ? "=" : `${diff > 0 ? "+" : ""}${formatValue(diff, row.unit)}${verdict(diff)}`;
  }
  const d = ((b - a) / Math.abs(a)) * 100;
  return `${d > 0 ? "+" : ""}${Math.round(d)}%${verdict(d)}`;
}
