/**
 * The published case study (shared/reference/case-study.md) as a reference point:
 * the report shows it beside the simulated outcome and, where they differ, says why
 * from the run's own mechanisms. Nothing here feeds back into the simulation.
 */
import type { EventBase } from "../engine/core/events.ts";
import type { DeployFinishedEvent, DeployStartedEvent } from "../simulator/events.ts";
import type { Report } from "./report.ts";
import { round } from "./stats.ts";

export const CASE_STUDY = {
  before: { changeFailureRatePct: 18, recoveryMinutesMedian: 22 },
  after: { changeFailureRatePct: 3, recoveryMinutesMedian: 4 },
} as const;

export interface ReferenceComparison {
  source: string;
  rows: Array<{ metric: string; world: string; published: number; simulated: number | null; unit: string }>;
  explanations: string[];
}

/** Bad versions that reached production in `world`, by fault kind. */
function escapedByFault(events: readonly EventBase[], world: string): Record<string, number> {
  const finished = new Map<string, DeployFinishedEvent>();
  for (const e of events)
    if (e.type === "deploy.finished" && (e as DeployFinishedEvent).world === world)
      finished.set((e as DeployFinishedEvent).deployId, e as DeployFinishedEvent);
  const out: Record<string, number> = {};
  for (const e of events) {
    if (e.type !== "deploy.started") continue;
    const s = e as DeployStartedEvent;
    if (s.world !== world || !s.bad) continue;
    if (finished.get(s.deployId)?.outcome !== "succeeded") continue;
    const k = s.faultKind ?? "unknown";
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Compare a report's first and last worlds with the case study's before/after column. */
export function caseStudyReference(
  report: Report,
  events: readonly EventBase[],
): ReferenceComparison | undefined {
  if (report.worldOrder.length < 2) return undefined;
  const before = report.worldOrder[0]!;
  const after = report.worldOrder[report.worldOrder.length - 1]!;
  const b = report.worlds[before]!;
  const a = report.worlds[after]!;
  const pct = (x: number | null) => (x === null ? null : round(x * 100, 2));
  const rows: ReferenceComparison["rows"] = [
    {
      metric: "changeFailureRate",
      world: before,
      published: CASE_STUDY.before.changeFailureRatePct,
      simulated: pct(b.dora.changeFailureRate),
      unit: "%",
    },
    {
      metric: "changeFailureRate",
      world: after,
      published: CASE_STUDY.after.changeFailureRatePct,
      simulated: pct(a.dora.changeFailureRate),
      unit: "%",
    },
    {
      metric: "recoveryTimeMinutes.median",
      world: before,
      published: CASE_STUDY.before.recoveryMinutesMedian,
      simulated: b.dora.recoveryTimeMinutes.median,
      unit: "min",
    },
    {
      metric: "recoveryTimeMinutes.median",
      world: after,
      published: CASE_STUDY.after.recoveryMinutesMedian,
      simulated: a.dora.recoveryTimeMinutes.median,
      unit: "min",
    },
  ];
  const explanations: string[] = [];
  const afterCfr = pct(a.dora.changeFailureRate);
  if (afterCfr !== null && Math.abs(afterCfr - CASE_STUDY.after.changeFailureRatePct) > 1) {
    const esc = escapedByFault(events, after);
    const parts = Object.entries(esc)
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    explanations.push(
      `${after}: observed change failure rate ${afterCfr}% vs ${CASE_STUDY.after.changeFailureRatePct}% published. ` +
        `${a.canary.trueAborts} bad versions were stopped by canary analysis and ${a.canary.escapedBadVersions} passed it` +
        (parts ? ` (bad versions that reached production, by fault: ${parts})` : "") +
        `; the canary's detection rate was ${a.canary.detectionRate === null ? "n/a" : `${round(a.canary.detectionRate * 100, 1)}%`}. ` +
        "The gap follows from the fault mix and thresholds in the scenario, which are inputs; nothing was tuned to the published figure.",
    );
  }
  const afterRec = a.dora.recoveryTimeMinutes.median;
  if (afterRec !== null && Math.abs(afterRec - CASE_STUDY.after.recoveryMinutesMedian) > 2) {
    explanations.push(
      `${after}: median recovery ${afterRec} min vs ${CASE_STUDY.after.recoveryMinutesMedian} min published: ` +
        `${a.canary.trueAborts} recoveries were canary aborts (median time to detection ${a.canary.timeToDetectionMinutes.median ?? "n/a"} min); ` +
        "escaped failures are recovered by an alert, a person and a revert commit, which takes the emergency-change delay plus a sync.",
    );
  }
  return { source: "shared/reference/case-study.md", rows, explanations };
}
