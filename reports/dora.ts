/**
 * DORA metrics as pure functions of the event log (simulator/events.ts).
 *
 * Rules (stated in every report):
 * - A *production deployment* is a deploy whose version was rolled out to production: outcome
 *   `succeeded` (it ran at 100%) or `failed` (the rollout stalled in production, e.g. pods never
 *   became ready). Aborted canaries are not production deployments; they are reported under `canary`.
 * - Deployment frequency: production deployments per day (fleet) and per service per week.
 * - Change lead time: production deployment finished - change committed (Four Keys: median, p90).
 * - Change fail rate, observed (Apache DevLake): an incident detected by an alert or a person is
 *   attributed to the latest production deployment of that service finished at or before the
 *   incident opened; CFR = production deployments with >= 1 attributed incident / all of them.
 *   Incidents caught by a canary are attributed to the aborted deploy, never to production.
 * - Change fail rate, ground truth: production deployments whose version was bad / all of them.
 * - Failed deployment recovery time: for every incident caused by a bad deploy (including canary
 *   aborts), incident resolved - impact started; unresolved incidents are counted separately.
 * - Rework rate: production deployments made because of an incident (rollback, revert, hotfix)
 *   / all production deployments.
 */
import type { EventBase } from "../engine/core/events.ts";
import type {
  CanaryVerdictEvent,
  ChangeCommittedEvent,
  DeployFinishedEvent,
  DeployStartedEvent,
  DriftInjectedEvent,
  DriftResolvedEvent,
  ExposureEvent,
  IncidentOpenedEvent,
  IncidentResolvedEvent,
  Tier,
  WorldName,
} from "../simulator/events.ts";
import { ratio, round, type Summary, summarize } from "./stats.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

export type DoraCluster = "elite" | "high" | "medium" | "low";

export interface DoraMetrics {
  productionDeployments: number;
  deploymentsPerDay: number | null;
  deploymentsPerServicePerWeek: number | null;
  leadTimeHours: Summary;
  changeFailureRate: number | null;
  changeFailureRateTruth: number | null;
  /** truth - observed: failures nobody noticed (positive) or false alarms (negative). */
  changeFailureRateGap: number | null;
  recoveryTimeMinutes: Summary;
  unresolvedIncidents: number;
  reworkRate: number | null;
  cluster: { overall: DoraCluster; perMetric: Record<string, DoraCluster>; rule: string };
}

export interface DriftMetrics {
  injected: number;
  denied: number;
  detected: number;
  healed: number;
  undetected: number;
  causedIncidents: number;
  byKind: Record<string, { injected: number; denied: number; detected: number; healed: number }>;
  timeToDetectSeconds: Summary;
  timeToHealSeconds: Summary;
}

export interface ExposureMetrics {
  badVersionRequests: number;
  badVersionFailedRequests: number;
  errorBudgetMinutes: number;
  maxWeightMedian: number | null;
}

export interface CanaryMetrics {
  verdicts: number;
  trueAborts: number;
  falseAborts: number;
  escapedBadVersions: number;
  correctPromotions: number;
  detectionRate: number | null;
  falseAbortRate: number | null;
  timeToDetectionMinutes: Summary;
}

export interface WorldMetrics {
  world: WorldName;
  periodDays: number;
  services: number;
  changes: number;
  badChanges: number;
  dora: DoraMetrics;
  drift: DriftMetrics;
  exposure: ExposureMetrics;
  canary: CanaryMetrics;
  perTier: Partial<Record<Tier, DoraMetrics>>;
  perWeek: Array<{
    week: number;
    productionDeployments: number;
    failedDeployments: number;
    changeFailureRate: number | null;
    driftDetected: number;
    incidents: number;
  }>;
}

export interface MetricsOptions {
  /** Start and end of the period (ms); default: from run.started, else first/last event. */
  periodStart?: number;
  periodEnd?: number;
  /** Number of services in the fleet (for per-service frequency); default: distinct services seen. */
  services?: number;
}

interface Indexed {
  changes: ChangeCommittedEvent[];
  started: DeployStartedEvent[];
  finished: DeployFinishedEvent[];
  opened: IncidentOpenedEvent[];
  resolved: IncidentResolvedEvent[];
  exposures: ExposureEvent[];
  driftIn: DriftInjectedEvent[];
  driftOut: DriftResolvedEvent[];
  verdicts: CanaryVerdictEvent[];
}

/** Which list of the index each event type goes to. */
const INDEX_OF: Readonly<Record<string, keyof Indexed>> = {
  "change.committed": "changes",
  "deploy.started": "started",
  "deploy.finished": "finished",
  "incident.opened": "opened",
  "incident.resolved": "resolved",
  exposure: "exposures",
  "drift.injected": "driftIn",
  "drift.resolved": "driftOut",
  "canary.verdict": "verdicts",
};

function index(events: readonly EventBase[], world: WorldName, tier?: Tier): Indexed {
  const ix: Indexed = {
    changes: [],
    started: [],
    finished: [],
    opened: [],
    resolved: [],
    exposures: [],
    driftIn: [],
    driftOut: [],
    verdicts: [],
  };
  const tierOf = new Map<string, Tier>();
  for (const e of events) {
    if ((e as { world?: string }).world !== world) continue;
    if (e.type === "change.committed")
      tierOf.set((e as ChangeCommittedEvent).service, (e as ChangeCommittedEvent).tier);
    if (e.type === "deploy.started")
      tierOf.set((e as DeployStartedEvent).service, (e as DeployStartedEvent).tier);
  }
  const keep = (service: string) => tier === undefined || tierOf.get(service) === tier;
  for (const e of events) {
    if ((e as { world?: string }).world !== world) continue;
    const svc = (e as { service?: string }).service;
    if (svc !== undefined && !keep(svc)) continue;
    const list = Object.hasOwn(INDEX_OF, e.type) ? INDEX_OF[e.type] : undefined;
    // each list holds exactly the events of its type (INDEX_OF pairs them)
    if (list !== undefined) (ix[list] as EventBase[]).push(e);
  }
  return ix;
}

/** Level of each metric against the 2023 DORA clusters; overall = the worst of the four. */
export function doraCluster(m: {
  deploysPerServicePerDay: number | null;
  leadTimeHoursMedian: number | null;
  changeFailureRate: number | null;
  recoveryMinutesMedian: number | null;
}): DoraMetrics["cluster"] {
  const order: DoraCluster[] = ["elite", "high", "medium", "low"];
  const freq: DoraCluster =
    m.deploysPerServicePerDay === null
      ? "low"
      : m.deploysPerServicePerDay >= 1
        ? "elite"
        : m.deploysPerServicePerDay >= 1 / 7
          ? "high"
          : m.deploysPerServicePerDay >= 1 / 30
            ? "medium"
            : "low";
  const lead: DoraCluster =
    m.leadTimeHoursMedian === null
      ? "low"
      : m.leadTimeHoursMedian < 24
        ? "elite"
        : m.leadTimeHoursMedian < 24 * 7
          ? "high"
          : m.leadTimeHoursMedian < 24 * 30
            ? "medium"
            : "low";
  const cfr: DoraCluster =
    m.changeFailureRate === null
      ? "elite"
      : m.changeFailureRate <= 0.05
        ? "elite"
        : m.changeFailureRate <= 0.1
          ? "high"
          : m.changeFailureRate <= 0.15
            ? "medium"
            : "low";
  const rec: DoraCluster =
    m.recoveryMinutesMedian === null
      ? "elite"
      : m.recoveryMinutesMedian < 60
        ? "elite"
        : m.recoveryMinutesMedian < 24 * 60
          ? "high"
          : m.recoveryMinutesMedian < 7 * 24 * 60
            ? "medium"
            : "low";
  const perMetric = {
    deploymentFrequency: freq,
    leadTime: lead,
    changeFailureRate: cfr,
    recoveryTime: rec,
  };
  const overall = order[Math.max(...Object.values(perMetric).map((c) => order.indexOf(c)))]!;
  return {
    overall,
    perMetric,
    rule:
      "DORA 2023 clusters per metric (elite: on demand / <1 day / <=5% / <1 hour; high: daily-weekly / " +
      "<1 week / <=10% / <1 day; medium: weekly-monthly / <1 month / <=15% / <1 week; else low); " +
      "deployment frequency per service; the world's cluster is the worst of its four metrics",
  };
}

function doraOf(ix: Indexed, periodMs: number, services: number): DoraMetrics {
  const finishedById = new Map(ix.finished.map((f) => [f.deployId, f]));
  const changeById = new Map(ix.changes.map((c) => [c.changeId, c]));
  const production = ix.started
    .map((s) => ({ s, f: finishedById.get(s.deployId) }))
    .filter(
      (x): x is { s: DeployStartedEvent; f: DeployFinishedEvent } =>
        x.f?.outcome === "succeeded" || x.f?.outcome === "failed",
    );

  const lead: number[] = [];
  for (const { s, f } of production) {
    const c = changeById.get(s.changeId);
    if (c !== undefined) lead.push((f.time - c.time) / HOUR);
  }

  // DevLake attribution: latest production deployment of the service finished at or before the incident.
  const prodByService = new Map<string, Array<{ deployId: string; finishedAt: number }>>();
  for (const { s, f } of production) {
    const list = prodByService.get(s.service) ?? [];
    list.push({ deployId: s.deployId, finishedAt: f.time });
    prodByService.set(s.service, list);
  }
  for (const list of prodByService.values()) list.sort((a, b) => a.finishedAt - b.finishedAt);
  const failedDeploys = new Set<string>();
  for (const inc of ix.opened) {
    if (inc.detectedBy === "canary") continue;
    const list = prodByService.get(inc.service);
    if (list === undefined) continue;
    let pick: string | undefined;
    for (const d of list) {
      if (d.finishedAt <= inc.time) pick = d.deployId;
      else break;
    }
    if (pick !== undefined) failedDeploys.add(pick);
  }

  const resolvedById = new Map(ix.resolved.map((r) => [r.incidentId, r]));
  const recovery: number[] = [];
  let unresolved = 0;
  for (const inc of ix.opened) {
    if (inc.cause !== "bad-deploy") continue;
    const r = resolvedById.get(inc.incidentId);
    if (r === undefined) unresolved++;
    else recovery.push((r.time - inc.impactStartedAt) / 60_000);
  }

  const n = production.length;
  const cfr = ratio(failedDeploys.size, n);
  const truth = ratio(production.filter(({ s }) => s.bad).length, n);
  const days = periodMs / DAY;
  const leadSummary = summarize(lead);
  const recSummary = summarize(recovery);
  const perServicePerDay = services > 0 && days > 0 ? n / services / days : null;
  return {
    productionDeployments: n,
    deploymentsPerDay: days > 0 ? round(n / days, 4) : null,
    deploymentsPerServicePerWeek: perServicePerDay === null ? null : round(perServicePerDay * 7, 4),
    leadTimeHours: leadSummary,
    changeFailureRate: cfr,
    changeFailureRateTruth: truth,
    changeFailureRateGap: cfr === null || truth === null ? null : round(truth - cfr, 6),
    recoveryTimeMinutes: recSummary,
    unresolvedIncidents: unresolved,
    reworkRate: ratio(production.filter(({ s }) => s.rework).length, n),
    cluster: doraCluster({
      deploysPerServicePerDay: perServicePerDay,
      leadTimeHoursMedian: leadSummary.median,
      changeFailureRate: cfr,
      recoveryMinutesMedian: recSummary.median,
    }),
  };
}

function driftOf(ix: Indexed): DriftMetrics {
  const out = new Map(ix.driftOut.map((d) => [d.driftId, d]));
  const byKind: DriftMetrics["byKind"] = {};
  const detect: number[] = [];
  const heal: number[] = [];
  let denied = 0;
  let detected = 0;
  let healed = 0;
  let caused = 0;
  for (const d of ix.driftIn) {
    const k = byKind[d.kind] ?? { injected: 0, denied: 0, detected: 0, healed: 0 };
    byKind[d.kind] = k;
    if (!d.allowed) {
      denied++;
      k.denied++;
      continue;
    }
    k.injected++;
    const r = out.get(d.driftId);
    if (r?.detected) {
      detected++;
      k.detected++;
      if (r.detectedAt !== undefined) detect.push((r.detectedAt - d.time) / 1000);
    }
    if (r?.healed) {
      healed++;
      k.healed++;
      if (r.healedAt !== undefined) heal.push((r.healedAt - d.time) / 1000);
    }
    if (r?.causedIncident !== undefined) caused++;
  }
  const injected = ix.driftIn.length - denied;
  return {
    injected,
    denied,
    detected,
    healed,
    undetected: injected - detected,
    causedIncidents: caused,
    byKind,
    timeToDetectSeconds: summarize(detect),
    timeToHealSeconds: summarize(heal),
  };
}

function exposureOf(ix: Indexed): ExposureMetrics {
  let req = 0;
  let failed = 0;
  let budget = 0;
  const weights: number[] = [];
  for (const e of ix.exposures) {
    req += e.requests;
    failed += e.failedRequests;
    budget += e.errorBudgetMinutes;
    weights.push(e.maxWeight);
  }
  return {
    badVersionRequests: Math.round(req),
    badVersionFailedRequests: Math.round(failed),
    errorBudgetMinutes: round(budget, 3),
    maxWeightMedian: summarize(weights).median,
  };
}

function canaryOf(ix: Indexed): CanaryMetrics {
  let trueAborts = 0;
  let falseAborts = 0;
  let escaped = 0;
  let correct = 0;
  const ttd: number[] = [];
  for (const v of ix.verdicts) {
    if (v.verdict === "aborted") {
      if (v.bad) {
        trueAborts++;
        ttd.push(v.timeToVerdictMs / 60_000);
      } else falseAborts++;
    } else if (v.verdict === "promoted") {
      if (v.bad) escaped++;
      else correct++;
    }
  }
  return {
    verdicts: ix.verdicts.length,
    trueAborts,
    falseAborts,
    escapedBadVersions: escaped,
    correctPromotions: correct,
    detectionRate: ratio(trueAborts, trueAborts + escaped),
    falseAbortRate: ratio(falseAborts, falseAborts + correct),
    timeToDetectionMinutes: summarize(ttd),
  };
}

function period(events: readonly EventBase[], opts: MetricsOptions): { start: number; end: number } {
  const run = events.find((e) => e.type === "run.started") as
    | { startTime?: number; endTime?: number }
    | undefined;
  const start = opts.periodStart ?? run?.startTime ?? events[0]?.time ?? 0;
  const end = opts.periodEnd ?? run?.endTime ?? events[events.length - 1]?.time ?? start;
  return { start, end };
}

/** Every metric of one world. */
export function worldMetrics(
  events: readonly EventBase[],
  world: WorldName,
  opts: MetricsOptions = {},
): WorldMetrics {
  const { start, end } = period(events, opts);
  const ix = index(events, world);
  const services =
    opts.services ??
    (events.find((e) => e.type === "run.started") as { services?: number } | undefined)?.services ??
    new Set(ix.started.map((s) => s.service)).size;
  const perTier: WorldMetrics["perTier"] = {};
  const tierCounts = new Map<Tier, Set<string>>();
  for (const c of ix.changes) {
    const set = tierCounts.get(c.tier) ?? new Set<string>();
    set.add(c.service);
    tierCounts.set(c.tier, set);
  }
  for (const [tier, set] of [...tierCounts].sort((a, b) => a[0].localeCompare(b[0]))) {
    perTier[tier] = doraOf(index(events, world, tier), end - start, set.size);
  }

  const weeks = Math.max(1, Math.ceil((end - start) / WEEK));
  const perWeek: WorldMetrics["perWeek"] = [];
  for (let w = 0; w < weeks; w++) {
    const a = start + w * WEEK;
    const b = Math.min(end, a + WEEK);
    const inWeek = (t: number) => t >= a && t < b;
    const sub: Indexed = {
      ...ix,
      started: ix.started,
      finished: ix.finished.filter((f) => inWeek(f.time)),
    };
    const d = doraOf(sub, b - a, services);
    perWeek.push({
      week: w + 1,
      productionDeployments: d.productionDeployments,
      failedDeployments: Math.round((d.changeFailureRate ?? 0) * d.productionDeployments),
      changeFailureRate: d.changeFailureRate,
      driftDetected: ix.driftOut.filter(
        (x) => x.detected && x.detectedAt !== undefined && inWeek(x.detectedAt),
      ).length,
      incidents: ix.opened.filter((i) => inWeek(i.time) && i.detectedBy !== "canary").length,
    });
  }

  return {
    world,
    periodDays: round((end - start) / DAY, 4),
    services,
    changes: ix.changes.length,
    badChanges: ix.changes.filter((c) => c.bad).length,
    dora: doraOf(ix, end - start, services),
    drift: driftOf(ix),
    exposure: exposureOf(ix),
    canary: canaryOf(ix),
    perTier,
    perWeek,
  };
}

/** Worlds present in the log, in first-seen order. */
export function worldsIn(events: readonly EventBase[]): WorldName[] {
  const run = events.find((e) => e.type === "run.started") as { worlds?: string[] } | undefined;
  if (run?.worlds !== undefined) return [...run.worlds];
  const seen: string[] = [];
  for (const e of events) {
    const w = (e as { world?: string }).world;
    if (w !== undefined && !seen.includes(w)) seen.push(w);
  }
  return seen;
}
