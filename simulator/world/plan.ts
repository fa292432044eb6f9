/**
 * The plan of a run: the stream of changes (which service, when, good or bad and
 * with which fault) and of drift attempts (who edits what outside Git, when).
 * It is drawn once from the scenario's seed and shared by every world, so the
 * manual and the GitOps world face exactly the same changes and the comparison is
 * paired. Adding service 201 does not change services 1-200's streams.
 */
import { SeededRng } from "../clock/rng.ts";
import type { Tier } from "../events.ts";
import type { FleetService } from "../fleet/generate.ts";
import {
  DRIFT_KIND_NAMES,
  type DriftKind,
  RELEASE_FAULT_NAMES,
  type ReleaseFault,
} from "../scenario/catalogue.ts";
import type { Params, Scenario } from "../scenario/load.ts";

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
/** Working hours: Monday-Friday 09:00-18:00 UTC (45 h a week). */
const WORK_START_H = 9;
const WORK_HOURS = 9;

export interface PlannedChange {
  id: string;
  service: number;
  /** When the change is ready to ship (PR opened / engineer decides to deploy). */
  time: number;
  version: string;
  bad: boolean;
  fault?: ReleaseFault;
  params: Params;
  author: string;
  reviewer: string;
  /** Scheduled by the scenario's events (not drawn). */
  scheduled: boolean;
}

export interface PlannedDrift {
  id: string;
  service: number;
  time: number;
  kind: DriftKind;
  identity: string;
  params: Params;
  /** Whether the edit breaks the service (drawn with drift.causesIncidentRatio). */
  harmful: boolean;
  scheduled: boolean;
}

export interface RunPlan {
  changes: PlannedChange[];
  drifts: PlannedDrift[];
}

/** Map "working time" (ms of working hours since start) to calendar time. */
export function workingToCalendar(startMs: number, workingMs: number): number {
  const perDay = WORK_HOURS * HOUR;
  let day = Math.floor(workingMs / perDay);
  const within = workingMs - day * perDay;
  // walk calendar days from start's midnight, counting only Mon-Fri
  const midnight = Math.floor(startMs / (24 * HOUR)) * 24 * HOUR;
  let t = midnight;
  for (;;) {
    const dow = new Date(t).getUTCDay(); // 0 Sun .. 6 Sat
    if (dow !== 0 && dow !== 6) {
      if (day === 0) return Math.max(startMs, t + WORK_START_H * HOUR + within);
      day--;
    }
    t += 24 * HOUR;
  }
}

const ENGINEERS = [
  "alice",
  "bob",
  "carol",
  "dave",
  "erin",
  "frank",
  "grace",
  "heidi",
  "ivan",
  "judy",
  "mallory",
  "niaj",
  "olivia",
  "peggy",
  "rupert",
  "sybil",
  "trent",
  "victor",
  "walter",
  "yuki",
];

function weightedKey<K extends string>(rng: SeededRng, weights: Record<K, number>, keys: readonly K[]): K {
  return rng.weighted(keys.map((k) => [k, weights[k]] as const));
}

export function engineerOf(service: FleetService, k: number): string {
  return `${ENGINEERS[(service.index * 7 + k) % ENGINEERS.length]}@${service.team}`;
}

export function drawPlan(scenario: Scenario, services: readonly FleetService[]): RunPlan {
  const root = new SeededRng(`plan/${scenario.seed}`);
  const end = scenario.startMs + scenario.durationMs;
  const changes: PlannedChange[] = [];
  const rate = scenario.changes.perServicePerWeek;
  for (const s of services) {
    const rng = root.fork(`changes/${s.name}`);
    let n = 0;
    let minor = 0;
    const next = (): number => {
      if (scenario.changes.workingHours) {
        // Poisson process in working time: 45 working hours a week
        return rng.exponential(rate / (5 * WORK_HOURS * HOUR));
      }
      return rng.exponential(rate / WEEK);
    };
    if (rate <= 0) continue;
    let clock = next();
    for (;;) {
      const time = scenario.changes.workingHours
        ? workingToCalendar(scenario.startMs, clock)
        : scenario.startMs + clock;
      if (time >= end) break;
      const bad = rng.chance(scenario.changes.badRatio);
      const fault = bad ? weightedKey(rng, scenario.changes.faults, RELEASE_FAULT_NAMES) : undefined;
      minor++;
      changes.push({
        id: `${s.name}/c${++n}`,
        service: s.index,
        time,
        version: bumpMinor(s.image.tag, minor),
        bad,
        ...(fault === undefined ? {} : { fault }),
        params: fault === undefined ? {} : { ...scenario.changes.faultParams[fault] },
        author: engineerOf(s, rng.int(0, 3)),
        reviewer: engineerOf(s, 4 + rng.int(0, 3)),
        scheduled: false,
      });
      clock += next();
    }
  }

  const drifts: PlannedDrift[] = [];
  const drng = root.fork("drift");
  if (scenario.drift.perWeek > 0 && services.length > 0) {
    let t = scenario.startMs;
    let n = 0;
    for (;;) {
      t += drng.exponential(scenario.drift.perWeek / WEEK);
      if (t >= end) break;
      const s = services[drng.int(0, services.length - 1)]!;
      drifts.push({
        id: `drift-${++n}`,
        service: s.index,
        time: Math.round(t),
        kind: weightedKey(drng, scenario.drift.kinds, DRIFT_KIND_NAMES),
        identity: engineerOf(s, drng.int(0, 7)).split("@")[0]!,
        params: {},
        harmful: drng.chance(scenario.drift.causesIncidentRatio),
        scheduled: false,
      });
    }
  }

  // scheduled events from the scenario
  for (const [i, ev] of scenario.events.entries()) {
    const at = scenario.startMs + ev.atMs;
    if (ev.deploy !== undefined) {
      const s = resolveService(services, ev.deploy.service);
      const fault = ev.deploy.fault;
      changes.push({
        id: `${s.name}/scheduled-${i}`,
        service: s.index,
        time: at,
        version: `${bumpMinor(s.image.tag, 0)}-scheduled.${i}`,
        bad: fault !== undefined,
        ...(fault === undefined ? {} : { fault }),
        params:
          fault === undefined ? {} : { ...scenario.changes.faultParams[fault], ...(ev.deploy.params ?? {}) },
        author: engineerOf(s, 0),
        reviewer: engineerOf(s, 4),
        scheduled: true,
      });
    }
    if (ev.drift !== undefined) {
      const s = resolveService(services, ev.drift.service);
      drifts.push({
        id: `drift-scheduled-${i}`,
        service: s.index,
        time: at,
        kind: ev.drift.kind,
        identity: ev.drift.identity ?? engineerOf(s, 1).split("@")[0]!,
        params: ev.drift.params ?? {},
        harmful: ev.drift.params?.harmful === true,
        scheduled: true,
      });
    }
  }
  changes.sort((a, b) => a.time - b.time || a.service - b.service || a.id.localeCompare(b.id));
  drifts.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
  return { changes, drifts };
}

/** A service by fleet index or name. Unknown names are an error naming the scenario path. */
export function resolveService(services: readonly FleetService[], ref: string | number): FleetService {
  const s = typeof ref === "number" ? services[ref] : services.find((x) => x.name === ref);
  if (s === undefined) {
    throw new RangeError(`unknown service ${JSON.stringify(ref)}`);
  }
  return s;
}

/** "2.14.3" + 2 -> "2.16.0": the n-th release after the fleet's initial tag. */
export function bumpMinor(tag: string, n: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  if (m === null) return `${tag}-${n}`;
  return n === 0 ? tag : `${m[1]}.${Number(m[2]) + n}.0`;
}

export function tierOf(s: FleetService): Tier {
  return s.tier;
}
