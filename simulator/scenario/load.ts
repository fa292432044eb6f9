/**
 * Loading a scenario: YAML -> schema validation (file/line/path errors) ->
 * `--set` overrides -> defaults -> semantic checks -> a resolved `Scenario`.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYamlScalar } from "yaml";
import { parseDuration } from "../../engine/core/clock.ts";
import { GtbError } from "../../engine/core/errors.ts";
import type { Tier } from "../events.ts";
import {
  DRIFT_KIND_NAMES,
  type DriftKind,
  type InfraFault,
  RELEASE_FAULTS,
  RELEASE_FAULT_NAMES,
  type ReleaseFault,
} from "./catalogue.ts";
import { SCENARIO_SCHEMA } from "./schema.ts";
import { errorAt, parseYaml, validateSchema, type YamlInput } from "./yaml-input.ts";

export interface Dist {
  medianMs: number;
  p90Ms: number;
}
export type Params = Record<string, number | string | boolean>;
export type ServiceRef = string | number;
export type WorldModel = "manual" | "gitops" | "migration";

export interface WorldSpec {
  name: string;
  model: WorldModel;
  /** gitops only: run canary analysis (false = canary steps without analysis); default delivery.canary.analysis.enabled. */
  canaryAnalysis: boolean;
  selfHeal: boolean;
  webhook: boolean;
}

export type CanaryStep =
  | { setWeight: number }
  | { pause: { duration?: string | number } }
  | { analysis: Record<string, unknown> }
  | { setCanaryScale: Record<string, unknown> };

export interface ScheduledEvent {
  atMs: number;
  world?: string;
  deploy?: { service: ServiceRef; fault?: ReleaseFault; params?: Params };
  drift?: { service: ServiceRef; kind: DriftKind; identity?: string; params?: Params };
  fault?: { kind: InfraFault; forMs?: number; service?: ServiceRef; params?: Params };
  revokeAccess?: { namespaces?: string[]; except?: string[] };
  /** Field path of this event in the file (for runner errors). */
  path: string;
}

export interface Assertion {
  name: string;
  world?: string;
  path: string;
  metric?: {
    path: string;
    below?: number;
    atMost?: number;
    above?: number;
    atLeast?: number;
    equals?: unknown;
  };
  rollout?: {
    service: ServiceRef;
    phase: string;
    withinMs?: number;
    after: "deploy-start" | "analysis-start";
  };
  drift?: { service?: ServiceRef; kind?: DriftKind; detectedWithinMs?: number; healedWithinMs?: number };
  badVersionWeight?: { atMost: number };
}

export interface Scenario {
  file: string;
  name: string;
  description: string;
  seed: number;
  startMs: number;
  durationMs: number;
  fleet: {
    services: number;
    naming: "faker" | "indexed";
    tiers: Record<Tier, number>;
    requestRate: { min: number; max: number };
  };
  worlds: WorldSpec[];
  changes: {
    perServicePerWeek: number;
    badRatio: number;
    faults: Record<ReleaseFault, number>;
    faultParams: Record<ReleaseFault, Params>;
    workingHours: boolean;
  };
  drift: {
    perWeek: number;
    kinds: Record<DriftKind, number>;
    causesIncidentRatio: number;
    decayPerWeekAfterRevoke: number;
  };
  delivery: {
    pollIntervalMs: number;
    webhook: boolean;
    selfHeal: boolean;
    prune: boolean;
    review: Dist;
    emergencyChange: Dist;
    canary: {
      enabled: boolean;
      steps: CanaryStep[];
      analysis: {
        /** false: no analysis in the canary strategy (the default of every world's canaryAnalysis). */
        enabled: boolean;
        intervalMs: number;
        windowMs: number;
        errorRate: number;
        p99LatencyMs: number;
        failureLimit: number;
        startingStep: number;
        requestGuard: boolean;
      };
    };
  };
  people: {
    alertErrorRate: number;
    alertP99LatencyMs: number;
    alertForMs: number;
    acknowledge: Dist;
    findLastGoodTag: Dist;
    handRollback: Dist;
    manualDeployDelay: Dist;
    fixForward: Dist;
  };
  access: { revokeAtMs?: number };
  migration: { phases: Array<{ tier: Tier; fromMs: number }> };
  /** What `run` reports besides the worlds' metrics. */
  report: { attribution: boolean };
  events: ScheduledEvent[];
  assertions: Assertion[];
}

/** Documented defaults (docs/SCENARIOS.md): the case study's configuration and process figures. */
export const DEFAULTS = {
  seed: 1,
  start: "2026-01-05T00:00:00Z",
  fleet: {
    services: 200,
    naming: "faker",
    tiers: { internal: 0.3, "tier-2": 0.45, "tier-1": 0.25 },
    requestRate: { min: 1, max: 2000 },
  },
  changes: {
    perServicePerWeek: 2,
    badRatio: 0.18,
    faults: {
      "error-spike": 30,
      "latency-regression": 15,
      "crash-loop": 10,
      "bad-configmap": 10,
      "load-regression": 20,
      "slow-degradation": 10,
      "intermittent-errors": 5,
    },
    workingHours: true,
  },
  drift: {
    perWeek: 7,
    kinds: {
      "configmap-edit": 3,
      "replicas-frozen": 3,
      "image-override": 2,
      "env-change": 2,
      "resource-deleted": 1,
    },
    causesIncidentRatio: 0.1,
    decayPerWeekAfterRevoke: 0.5,
  },
  delivery: {
    pollInterval: "3m",
    webhook: true,
    selfHeal: true,
    prune: true,
    review: { median: "30m", p90: "2h" },
    emergencyChange: { median: "8m", p90: "14m" },
    canary: {
      enabled: true,
      steps: [
        { setWeight: 5 },
        { pause: { duration: "10m" } },
        { setWeight: 25 },
        { pause: { duration: "5m" } },
        { setWeight: 50 },
        { pause: { duration: "5m" } },
        { setWeight: 100 },
      ],
      analysis: {
        enabled: true,
        interval: "60s",
        window: "5m",
        errorRate: 0.005,
        p99Latency: "500ms",
        failureLimit: 0,
        startingStep: 0,
        requestGuard: false,
      },
    },
  },
  people: {
    alertErrorRate: 0.01,
    alertP99Latency: "1s",
    alertFor: "5m",
    acknowledge: { median: "4m", p90: "12m" },
    findLastGoodTag: { median: "7m", p90: "20m" },
    handRollback: { median: "5m", p90: "12m" },
    manualDeployDelay: { median: "2h", p90: "1d" },
    fixForward: { median: "4h", p90: "1d" },
  },
  migration: {
    phases: [
      { tier: "internal", from: "0s" },
      { tier: "tier-2", from: "3w" },
      { tier: "tier-1", from: "7w" },
    ],
  },
  report: { attribution: false },
} as const;

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});

function dur(v: unknown, fallback: string | number): number {
  return parseDuration((v as string | number | undefined) ?? fallback);
}
function dist(v: unknown, fallback: { median: string; p90: string }): Dist {
  const o = obj(v);
  const medianMs = dur(o.median, fallback.median);
  const p90Ms =
    o.p90 === undefined ? (o.median === undefined ? dur(fallback.p90, 0) : medianMs * 2.5) : dur(o.p90, 0);
  return { medianMs, p90Ms: Math.max(p90Ms, medianMs) };
}
function pick<T>(v: unknown, fallback: T): T {
  return v === undefined ? fallback : (v as T);
}

/** Apply `--set a.b[2].c=value` overrides to the raw document (values parsed as YAML scalars). */
export function applySets(input: YamlInput, sets: readonly string[]): void {
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) {
      throw new GtbError("GTB_SET_SYNTAX", `--set "${s}" is not of the form path=value`, {
        hint: "write e.g. --set spec.changes.badRatio=0.1 (the leading spec. may be omitted)",
      });
    }
    let path = s.slice(0, eq);
    if (!/^(spec|metadata)\b/.test(path)) path = `spec.${path}`;
    const keys = path
      .replace(/\[(\d+)\]/g, ".$1")
      .split(".")
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const value: unknown = parseYamlScalar(s.slice(eq + 1));
    input.doc.setIn(keys, value);
  }
  input.value = input.doc.toJS();
}

function checkServiceIndex(
  input: YamlInput,
  ref: unknown,
  services: number,
  path: Array<string | number>,
): void {
  if (typeof ref === "number" && ref >= services) {
    throw errorAt(
      input,
      "GTB_SCENARIO_SERVICE",
      `service index ${ref} is out of range: the fleet has ${services} services`,
      path,
      "use an index from 0 to services-1 or a service name",
    );
  }
}

/** The one-of-these-keys and known-world checks shared by events and assertions. */
function checkEntry(
  input: YamlInput,
  entry: Raw,
  path: Array<string | number>,
  what: string,
  keys: readonly string[],
  worldNames: ReadonlySet<string>,
): void {
  const kinds = keys.filter((k) => entry[k] !== undefined);
  if (kinds.length !== 1) {
    throw errorAt(
      input,
      "GTB_SCENARIO_INVALID",
      `${what} needs exactly one of ${keys.join(", ")} (found ${kinds.length === 0 ? "none" : kinds.join(", ")})`,
      path,
    );
  }
  if (entry.world !== undefined && !worldNames.has(entry.world as string)) {
    throw errorAt(
      input,
      "GTB_SCENARIO_INVALID",
      `unknown world "${String(entry.world)}"`,
      [...path, "world"],
      `worlds: ${[...worldNames].join(", ")}`,
    );
  }
}

export function resolveScenario(input: YamlInput): Scenario {
  const raw = validateSchema<Raw>(input, SCENARIO_SCHEMA, "GTB_SCENARIO_INVALID", "scenario");
  const meta = obj(raw.metadata);
  const spec = obj(raw.spec);
  const durationMs = dur(spec.duration, 0);
  if (durationMs <= 0)
    throw errorAt(input, "GTB_SCENARIO_INVALID", "duration must be greater than 0", ["spec", "duration"]);

  const fleetRaw = obj(spec.fleet);
  const rr = { ...DEFAULTS.fleet.requestRate, ...obj(fleetRaw.requestRate) } as { min: number; max: number };
  if (rr.min > rr.max) {
    throw errorAt(
      input,
      "GTB_SCENARIO_INVALID",
      `requestRate.min (${rr.min}) is greater than requestRate.max (${rr.max})`,
      ["spec", "fleet", "requestRate", "min"],
    );
  }
  const services = pick(fleetRaw.services as number | undefined, DEFAULTS.fleet.services);
  const fleet: Scenario["fleet"] = {
    services,
    naming: pick(fleetRaw.naming as "faker" | "indexed" | undefined, DEFAULTS.fleet.naming),
    tiers: { ...DEFAULTS.fleet.tiers, ...(obj(fleetRaw.tiers) as Partial<Record<Tier, number>>) },
    requestRate: rr,
  };

  const worldNames = new Set<string>();
  const deliveryRaw = obj(spec.delivery);
  const analysisEnabled = pick(
    obj(obj(deliveryRaw.canary).analysis).enabled as boolean | undefined,
    DEFAULTS.delivery.canary.analysis.enabled,
  );
  const worlds: WorldSpec[] = (spec.worlds as Raw[]).map((w, i) => {
    const name = w.name as string;
    if (worldNames.has(name))
      throw errorAt(input, "GTB_SCENARIO_INVALID", `world "${name}" is defined twice`, [
        "spec",
        "worlds",
        i,
        "name",
      ]);
    worldNames.add(name);
    return {
      name,
      model: w.model as WorldModel,
      canaryAnalysis: pick(w.canaryAnalysis as boolean | undefined, analysisEnabled),
      selfHeal: pick(
        w.selfHeal as boolean | undefined,
        pick(deliveryRaw.selfHeal as boolean | undefined, DEFAULTS.delivery.selfHeal),
      ),
      webhook: pick(
        w.webhook as boolean | undefined,
        pick(deliveryRaw.webhook as boolean | undefined, DEFAULTS.delivery.webhook),
      ),
    };
  });

  const ch = obj(spec.changes);
  const faultWeights = {
    ...DEFAULTS.changes.faults,
    ...(obj(ch.faults) as Partial<Record<ReleaseFault, number>>),
  };
  const fp = obj(ch.faultParams);
  const faultParams = Object.fromEntries(
    RELEASE_FAULT_NAMES.map((f) => [f, { ...(RELEASE_FAULTS[f] as Params), ...(obj(fp[f]) as Params) }]),
  ) as Record<ReleaseFault, Params>;
  if (
    Object.values(faultWeights).every((w) => w === 0) &&
    ((ch.badRatio as number | undefined) ?? DEFAULTS.changes.badRatio) > 0
  ) {
    throw errorAt(
      input,
      "GTB_SCENARIO_INVALID",
      "every fault weight is 0 but badRatio > 0: bad changes would have no fault",
      ["spec", "changes", "faults"],
    );
  }

  const dr = obj(spec.drift);
  const driftKinds = { ...DEFAULTS.drift.kinds, ...(obj(dr.kinds) as Partial<Record<DriftKind, number>>) };

  const canaryRaw = obj(deliveryRaw.canary);
  const an = obj(canaryRaw.analysis);
  const da = DEFAULTS.delivery.canary.analysis;
  const steps = pick(
    canaryRaw.steps as CanaryStep[] | undefined,
    DEFAULTS.delivery.canary.steps as unknown as CanaryStep[],
  );
  steps.forEach((s, i) => {
    const p = (s as { pause?: { duration?: string | number } }).pause;
    if (p?.duration !== undefined) {
      try {
        parseDuration(p.duration);
      } catch {
        throw errorAt(input, "GTB_SCENARIO_INVALID", `invalid pause duration "${p.duration}"`, [
          "spec",
          "delivery",
          "canary",
          "steps",
          i,
          "pause",
          "duration",
        ]);
      }
    }
  });
  const startingStep = pick(an.startingStep as number | undefined, da.startingStep);
  if (startingStep >= steps.length) {
    throw errorAt(
      input,
      "GTB_SCENARIO_INVALID",
      `analysis.startingStep ${startingStep} is beyond the last step (${steps.length - 1})`,
      ["spec", "delivery", "canary", "analysis", "startingStep"],
    );
  }

  const pe = obj(spec.people);
  const dp = DEFAULTS.people;
  const revokeAt = obj(spec.access).revokeAt;

  const events: ScheduledEvent[] = ((spec.events as Raw[] | undefined) ?? []).map((e, i) => {
    const path: Array<string | number> = ["spec", "events", i];
    const atMs = dur(e.at, 0);
    if (atMs > durationMs) {
      throw errorAt(
        input,
        "GTB_SCENARIO_SCHEDULE",
        `impossible schedule: at ${String(e.at)} is after the end of the scenario (${String(spec.duration)})`,
        [...path, "at"],
        "schedule events within spec.duration",
      );
    }
    checkEntry(input, e, path, "an event", ["deploy", "drift", "fault", "revokeAccess"], worldNames);
    const ev: ScheduledEvent = { atMs, path: `spec.events[${i}]` };
    if (e.world !== undefined) ev.world = e.world as string;
    if (e.deploy !== undefined) {
      ev.deploy = e.deploy as ScheduledEvent["deploy"] & object;
      checkServiceIndex(input, ev.deploy.service, services, [...path, "deploy", "service"]);
    }
    if (e.drift !== undefined) {
      ev.drift = e.drift as ScheduledEvent["drift"] & object;
      checkServiceIndex(input, ev.drift.service, services, [...path, "drift", "service"]);
    }
    if (e.fault !== undefined) {
      const f = obj(e.fault);
      ev.fault = { kind: f.kind as InfraFault };
      if (f.for !== undefined) ev.fault.forMs = dur(f.for, 0);
      if (f.service !== undefined) {
        ev.fault.service = f.service as ServiceRef;
        checkServiceIndex(input, f.service, services, [...path, "fault", "service"]);
      }
      if (f.params !== undefined) ev.fault.params = f.params as Params;
      if (atMs + (ev.fault.forMs ?? 0) > durationMs) {
        throw errorAt(
          input,
          "GTB_SCENARIO_SCHEDULE",
          "impossible schedule: the fault lasts beyond the end of the scenario",
          [...path, "fault", "for"],
        );
      }
    }
    if (e.revokeAccess !== undefined)
      ev.revokeAccess = e.revokeAccess as ScheduledEvent["revokeAccess"] & object;
    return ev;
  });
  events.sort((a, b) => a.atMs - b.atMs);

  const assertions: Assertion[] = ((spec.assertions as Raw[] | undefined) ?? []).map((a, i) => {
    const path: Array<string | number> = ["spec", "assertions", i];
    checkEntry(
      input,
      a,
      path,
      "an assertion",
      ["metric", "rollout", "drift", "badVersionWeight"],
      worldNames,
    );
    const out: Assertion = { name: a.name as string, path: `spec.assertions[${i}]` };
    if (a.world !== undefined) out.world = a.world as string;
    if (a.metric !== undefined) {
      const cmp = ["below", "atMost", "above", "atLeast", "equals"].filter((k) => a[k] !== undefined);
      if (cmp.length === 0)
        throw errorAt(
          input,
          "GTB_SCENARIO_INVALID",
          "a metric assertion needs below, atMost, above, atLeast or equals",
          path,
        );
      out.metric = { path: a.metric as string };
      for (const k of cmp) (out.metric as Record<string, unknown>)[k] = a[k];
    }
    if (a.rollout !== undefined) {
      const r = obj(a.rollout);
      checkServiceIndex(input, r.service, services, [...path, "rollout", "service"]);
      out.rollout = {
        service: r.service as ServiceRef,
        phase: r.phase as string,
        after: (r.after as "deploy-start" | "analysis-start" | undefined) ?? "deploy-start",
        ...(r.within === undefined ? {} : { withinMs: dur(r.within, 0) }),
      };
    }
    if (a.drift !== undefined) {
      const d = obj(a.drift);
      if (d.service !== undefined)
        checkServiceIndex(input, d.service, services, [...path, "drift", "service"]);
      out.drift = {
        ...(d.service === undefined ? {} : { service: d.service as ServiceRef }),
        ...(d.kind === undefined ? {} : { kind: d.kind as DriftKind }),
        ...(d.detectedWithin === undefined ? {} : { detectedWithinMs: dur(d.detectedWithin, 0) }),
        ...(d.healedWithin === undefined ? {} : { healedWithinMs: dur(d.healedWithin, 0) }),
      };
    }
    if (a.badVersionWeight !== undefined) out.badVersionWeight = a.badVersionWeight as { atMost: number };
    return out;
  });

  const startIso = (spec.start as string | undefined) ?? DEFAULTS.start;
  const startMs = Date.parse(startIso);
  if (Number.isNaN(startMs))
    throw errorAt(input, "GTB_SCENARIO_INVALID", `invalid start time "${startIso}"`, ["spec", "start"]);

  return {
    file: input.file,
    name: meta.name as string,
    description: (meta.description as string | undefined) ?? "",
    seed: pick(spec.seed as number | undefined, DEFAULTS.seed),
    startMs,
    durationMs,
    fleet,
    worlds,
    changes: {
      perServicePerWeek: pick(ch.perServicePerWeek as number | undefined, DEFAULTS.changes.perServicePerWeek),
      badRatio: pick(ch.badRatio as number | undefined, DEFAULTS.changes.badRatio),
      faults: faultWeights,
      faultParams,
      workingHours: pick(ch.workingHours as boolean | undefined, DEFAULTS.changes.workingHours),
    },
    drift: {
      perWeek: pick(dr.perWeek as number | undefined, DEFAULTS.drift.perWeek),
      kinds: driftKinds,
      causesIncidentRatio: pick(
        dr.causesIncidentRatio as number | undefined,
        DEFAULTS.drift.causesIncidentRatio,
      ),
      decayPerWeekAfterRevoke: pick(
        dr.decayPerWeekAfterRevoke as number | undefined,
        DEFAULTS.drift.decayPerWeekAfterRevoke,
      ),
    },
    delivery: {
      pollIntervalMs: dur(deliveryRaw.pollInterval, DEFAULTS.delivery.pollInterval),
      webhook: pick(deliveryRaw.webhook as boolean | undefined, DEFAULTS.delivery.webhook),
      selfHeal: pick(deliveryRaw.selfHeal as boolean | undefined, DEFAULTS.delivery.selfHeal),
      prune: pick(deliveryRaw.prune as boolean | undefined, DEFAULTS.delivery.prune),
      review: dist(deliveryRaw.review, DEFAULTS.delivery.review),
      emergencyChange: dist(deliveryRaw.emergencyChange, DEFAULTS.delivery.emergencyChange),
      canary: {
        enabled: pick(canaryRaw.enabled as boolean | undefined, DEFAULTS.delivery.canary.enabled),
        steps,
        analysis: {
          enabled: analysisEnabled,
          intervalMs: dur(an.interval, da.interval),
          windowMs: dur(an.window, da.window),
          errorRate: pick(an.errorRate as number | undefined, da.errorRate),
          p99LatencyMs: dur(an.p99Latency, da.p99Latency),
          failureLimit: pick(an.failureLimit as number | undefined, da.failureLimit),
          startingStep,
          requestGuard: pick(an.requestGuard as boolean | undefined, da.requestGuard),
        },
      },
    },
    people: {
      alertErrorRate: pick(pe.alertErrorRate as number | undefined, dp.alertErrorRate),
      alertP99LatencyMs: dur(pe.alertP99Latency, dp.alertP99Latency),
      alertForMs: dur(pe.alertFor, dp.alertFor),
      acknowledge: dist(pe.acknowledge, dp.acknowledge),
      findLastGoodTag: dist(pe.findLastGoodTag, dp.findLastGoodTag),
      handRollback: dist(pe.handRollback, dp.handRollback),
      manualDeployDelay: dist(pe.manualDeployDelay, dp.manualDeployDelay),
      fixForward: dist(pe.fixForward, dp.fixForward),
    },
    access: revokeAt === undefined ? {} : { revokeAtMs: dur(revokeAt, 0) },
    migration: {
      phases: (
        (obj(spec.migration).phases as Raw[] | undefined) ?? (DEFAULTS.migration.phases as unknown as Raw[])
      ).map((p) => ({
        tier: p.tier as Tier,
        fromMs: dur(p.from, 0),
      })),
    },
    report: {
      attribution: pick(obj(spec.report).attribution as boolean | undefined, DEFAULTS.report.attribution),
    },
    events,
    assertions,
  };
}

/** Read, validate and resolve a scenario file. Every problem is a GtbError with file, line and path (exit 2). */
export async function loadScenario(file: string, opts: { sets?: readonly string[] } = {}): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new GtbError(
      "GTB_SCENARIO_READ",
      `cannot read scenario ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        file,
        hint: "pass the path of a scenario YAML file, e.g. scenarios/case-study.yaml",
      },
    );
  }
  return parseScenario(file, text, opts);
}

export function parseScenario(file: string, text: string, opts: { sets?: readonly string[] } = {}): Scenario {
  const input = parseYaml(file, text, "GTB_SCENARIO_SYNTAX");
  if (opts.sets !== undefined && opts.sets.length > 0) applySets(input, opts.sets);
  return resolveScenario(input);
}

export { DRIFT_KIND_NAMES };
