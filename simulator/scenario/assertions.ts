/**
 * Scenario assertions, checked against the run's event log (so a saved log
 * re-checks the same way). Every assertion says what it saw in its message.
 */
import type { EventBase } from "../../engine/core/events.ts";
import { worldMetrics } from "../../reports/dora.ts";
import type { AssertionResult } from "../../reports/report.ts";
import type {
  DeployFinishedEvent,
  DeployStartedEvent,
  DriftInjectedEvent,
  DriftResolvedEvent,
  ExposureEvent,
} from "../events.ts";
import type { FleetService } from "../fleet/generate.ts";
import type { Assertion, Scenario } from "./load.ts";

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function fmtMs(ms: number): string {
  return ms >= 60_000 ? `${Math.round((ms / 60_000) * 10) / 10}m` : `${Math.round(ms / 100) / 10}s`;
}

function ofWorld<T extends EventBase>(events: readonly EventBase[], type: string, world: string): T[] {
  return events.filter((e) => e.type === type && (e as { world?: string }).world === world) as T[];
}

function checkOne(
  a: Assertion,
  world: string,
  services: readonly FleetService[],
  events: readonly EventBase[],
): AssertionResult {
  const svcName = (ref: string | number | undefined) =>
    ref === undefined ? undefined : typeof ref === "number" ? services[ref]?.name : ref;
  const res = (passed: boolean, message: string): AssertionResult => ({
    name: a.name,
    world,
    passed,
    message,
    path: a.path,
  });

  if (a.metric !== undefined) {
    const m = a.metric;
    const v = get(worldMetrics(events, world), m.path);
    if (typeof v !== "number") {
      return res(
        false,
        `${m.path} is ${v === null ? "not defined (no data)" : v === undefined ? "not a metric" : JSON.stringify(v)}`,
      );
    }
    const checks: Array<[boolean, string]> = [];
    if (m.below !== undefined) checks.push([v < m.below, `below ${m.below}`]);
    if (m.atMost !== undefined) checks.push([v <= m.atMost, `at most ${m.atMost}`]);
    if (m.above !== undefined) checks.push([v > m.above, `above ${m.above}`]);
    if (m.atLeast !== undefined) checks.push([v >= m.atLeast, `at least ${m.atLeast}`]);
    if (m.equals !== undefined) checks.push([v === m.equals, `equal to ${String(m.equals)}`]);
    const failed = checks.filter(([ok]) => !ok);
    return res(failed.length === 0, `${m.path} = ${v}, expected ${checks.map(([, d]) => d).join(" and ")}`);
  }

  if (a.rollout !== undefined) {
    const r = a.rollout;
    const name = svcName(r.service);
    const starts = ofWorld<DeployStartedEvent>(events, "deploy.started", world).filter(
      (d) => d.service === name && !d.rework,
    );
    const fin = new Map(
      ofWorld<DeployFinishedEvent>(events, "deploy.finished", world).map((f) => [f.deployId, f]),
    );
    if (starts.length === 0) return res(false, `no deploy of ${name} happened`);
    const want = r.phase;
    const phaseOf = (f: DeployFinishedEvent | undefined) =>
      f === undefined
        ? "Progressing"
        : f.outcome === "aborted" || f.outcome === "failed"
          ? "Degraded"
          : f.outcome === "succeeded"
            ? "Healthy"
            : "Progressing";
    for (const s of starts) {
      const f = fin.get(s.deployId);
      const phase = phaseOf(f);
      if (phase !== want) continue;
      if (r.withinMs === undefined || f === undefined)
        return res(true, `${name} reached ${want} (deploy ${s.deployId})`);
      const from = r.after === "analysis-start" ? (f.analysisStartedAt ?? s.time) : s.time;
      const took = f.time - from;
      return res(
        took <= r.withinMs,
        `${name} reached ${want} ${fmtMs(took)} after the ${r.after}, expected within ${fmtMs(r.withinMs)}`,
      );
    }
    const seen = starts.map((s) => phaseOf(fin.get(s.deployId))).join(", ");
    return res(false, `${name} never reached ${want} (deploys ended: ${seen})`);
  }

  if (a.drift !== undefined) {
    const d = a.drift;
    const name = svcName(d.service);
    const injected = ofWorld<DriftInjectedEvent>(events, "drift.injected", world).filter(
      (x) =>
        x.allowed &&
        (name === undefined || x.service === name) &&
        (d.kind === undefined || x.kind === d.kind),
    );
    if (injected.length === 0)
      return res(false, "no drift matched (none was made, or every attempt was denied)");
    const out = new Map(
      ofWorld<DriftResolvedEvent>(events, "drift.resolved", world).map((x) => [x.driftId, x]),
    );
    const problems: string[] = [];
    let worstDetect = 0;
    let worstHeal = 0;
    for (const x of injected) {
      const r = out.get(x.driftId);
      if (d.detectedWithinMs !== undefined) {
        if (r?.detectedAt === undefined) problems.push(`${x.driftId} never detected`);
        else {
          worstDetect = Math.max(worstDetect, r.detectedAt - x.time);
          if (r.detectedAt - x.time > d.detectedWithinMs)
            problems.push(`${x.driftId} detected after ${fmtMs(r.detectedAt - x.time)}`);
        }
      }
      if (d.healedWithinMs !== undefined) {
        if (r?.healedAt === undefined) problems.push(`${x.driftId} never healed`);
        else {
          worstHeal = Math.max(worstHeal, r.healedAt - x.time);
          if (r.healedAt - x.time > d.healedWithinMs)
            problems.push(`${x.driftId} healed after ${fmtMs(r.healedAt - x.time)}`);
        }
      }
    }
    const limits = [
      d.detectedWithinMs === undefined
        ? ""
        : `detected within ${fmtMs(d.detectedWithinMs)} (slowest ${fmtMs(worstDetect)})`,
      d.healedWithinMs === undefined
        ? ""
        : `healed within ${fmtMs(d.healedWithinMs)} (slowest ${fmtMs(worstHeal)})`,
    ].filter(Boolean);
    return res(
      problems.length === 0,
      problems.length === 0
        ? `${injected.length} drift(s) ${limits.join(", ")}`
        : `${problems.slice(0, 5).join("; ")}; expected ${limits.join(", ")}`,
    );
  }

  if (a.badVersionWeight !== undefined) {
    const ex = ofWorld<ExposureEvent>(events, "exposure", world);
    const worst = ex.reduce((m, e) => Math.max(m, e.maxWeight), 0);
    const over = ex.filter((e) => e.maxWeight > a.badVersionWeight!.atMost);
    return res(
      over.length === 0,
      `${ex.length} bad version(s) served traffic; highest weight ${worst}%${
        over.length > 0
          ? ` (${over
              .map((e) => e.deployId)
              .slice(0, 5)
              .join(", ")} above)`
          : ""
      }, expected at most ${a.badVersionWeight.atMost}%`,
    );
  }
  return res(false, "assertion has no check");
}

export function checkAssertions(
  scenario: Scenario,
  services: readonly FleetService[],
  events: readonly EventBase[],
): AssertionResult[] {
  const out: AssertionResult[] = [];
  for (const a of scenario.assertions) {
    const worlds = a.world !== undefined ? [a.world] : scenario.worlds.map((w) => w.name);
    for (const w of worlds) out.push(checkOne(a, w, services, events));
  }
  return out;
}
