/**
 * The bookkeeping every operating world shares: deploys, incidents, drift and the
 * exposure of bad versions, emitted as world events (simulator/events.ts). The
 * worlds differ in how things happen (kubectl by hand, or commits, sync and
 * canaries); what they record about it is the same, so the reports compare like
 * with like.
 */
import type { FleetService } from "../fleet/generate.ts";
import type { ReleaseFault } from "../scenario/catalogue.ts";
import type { Params } from "../scenario/load.ts";
import type { DriftInjectedEvent, IncidentResolvedEvent } from "../events.ts";
import type { Infra } from "./infra.ts";
import type { PlannedChange, PlannedDrift } from "./plan.ts";

export interface Deploy {
  id: string;
  changeId: string;
  version: string;
  previousVersion: string;
  bad: boolean;
  fault: ReleaseFault | undefined;
  params: Params;
  rework: boolean;
  startedAt: number;
  /** Pod-template hash of the version, once its ReplicaSet exists. */
  hash?: string;
  /** When the version first served requests. */
  servingSince?: number;
  finished: boolean;
  /** The incident this deploy restores service for. */
  restores?: string;
  /** World-specific extras (commit SHA ...). */
  commit?: string;
}

export interface Incident {
  id: string;
  cause: "bad-deploy" | "drift";
  deploy?: Deploy;
  drift?: PlannedDrift;
  openedAt: number;
}

export interface ActiveDrift {
  drift: PlannedDrift;
  allowed: boolean;
  /** Version hash whose behaviour the drift changed (harmful drifts). */
  harmfulHash?: string;
  detectedAt?: number;
  healedAt?: number;
}

export interface ServiceBook {
  s: FleetService;
  /** Version the team believes runs (Git, or the last kubectl apply). */
  version: string;
  inflight?: Deploy;
  serving?: Deploy;
  incident?: Incident;
  drifts: ActiveDrift[];
  /** A drift that will start a new ReplicaSet (image override, env change). */
  pendingDriftRs?: ActiveDrift;
}

export type DeployMethod = "kubectl" | "gitops";

export class WorldBook {
  readonly services = new Map<string, ServiceBook>();
  /** Per service, its latest deploy of each version (in the order the versions were first deployed). */
  private readonly byVersion = new Map<string, Map<string, Deploy>>();
  private readonly exposed = new Set<string>();
  private deployN = 0;
  private incidentN = 0;
  readonly counts = { deploys: 0, incidents: 0, rollbacks: 0 };

  constructor(
    private readonly infra: Infra,
    services: readonly FleetService[],
    /** How deploys are made; the migration world answers per service (kubectl until its cutover). */
    private readonly method: DeployMethod | ((b: ServiceBook) => DeployMethod),
  ) {
    for (const s of services) this.services.set(s.name, { s, version: s.image.tag, drifts: [] });
  }

  get(name: string): ServiceBook {
    const b = this.services.get(name);
    if (b === undefined) throw new RangeError(`unknown service ${name}`);
    return b;
  }

  find(namespace: string, name: string): ServiceBook | undefined {
    const b = this.services.get(name);
    return b !== undefined && b.s.namespace === namespace ? b : undefined;
  }

  deployOfVersion(b: ServiceBook, version: string): Deploy | undefined {
    return this.byVersion.get(b.s.name)?.get(version);
  }

  /** The service's deploy whose version runs as `hash` (its versions walked, not every deploy of the run). */
  deployOfHash(b: ServiceBook, hash: string): Deploy | undefined {
    const versions = this.byVersion.get(b.s.name);
    if (versions !== undefined) for (const d of versions.values()) if (d.hash === hash) return d;
    return undefined;
  }

  private now(): number {
    return this.infra.clock.now();
  }

  /** A change is ready to ship (planned work) or an unplanned one is made (rework). */
  committed(
    b: ServiceBook,
    c: {
      id: string;
      version: string;
      author: string;
      reviewer?: string;
      bad: boolean;
      fault?: ReleaseFault;
      rework: boolean;
      commit?: string;
    },
  ): void {
    this.infra.emit({
      type: "change.committed",
      time: this.now(),
      service: b.s.name,
      tier: b.s.tier,
      changeId: c.id,
      version: c.version,
      author: c.author,
      ...(c.reviewer === undefined ? {} : { reviewer: c.reviewer }),
      ...(c.commit === undefined ? {} : { commit: c.commit }),
      bad: c.bad,
      ...(c.fault === undefined ? {} : { faultKind: c.fault }),
      rework: c.rework,
    });
  }

  /** Record a deploy starting; a deploy still in flight for the service is superseded. */
  startDeploy(
    b: ServiceBook,
    o: {
      changeId: string;
      version: string;
      change?: PlannedChange;
      rework: boolean;
      commit?: string;
    },
  ): Deploy {
    const d: Deploy = {
      id: `${b.s.name}/d${++this.deployN}`,
      changeId: o.changeId,
      version: o.version,
      previousVersion: b.version,
      bad: o.change?.bad ?? false,
      fault: o.change?.fault,
      params: o.change?.params ?? {},
      rework: o.rework,
      startedAt: this.now(),
      finished: false,
      ...(o.commit === undefined ? {} : { commit: o.commit }),
    };
    if (b.inflight !== undefined) this.finishDeploy(b, b.inflight, "superseded");
    let versions = this.byVersion.get(b.s.name);
    if (versions === undefined) {
      versions = new Map();
      this.byVersion.set(b.s.name, versions);
    }
    versions.set(o.version, d);
    this.infra.emit({
      type: "deploy.started",
      time: this.now(),
      service: b.s.name,
      tier: b.s.tier,
      deployId: d.id,
      changeId: d.changeId,
      version: d.version,
      previousVersion: b.version,
      method: typeof this.method === "function" ? this.method(b) : this.method,
      bad: d.bad,
      ...(d.fault === undefined ? {} : { faultKind: d.fault }),
      rework: d.rework,
    });
    this.counts.deploys++;
    if (o.rework) this.counts.rollbacks++;
    b.inflight = d;
    b.version = o.version;
    return d;
  }

  finishDeploy(
    b: ServiceBook,
    d: Deploy,
    outcome: "succeeded" | "failed" | "superseded" | "aborted",
    extra: { maxWeight?: number; analysisStartedAt?: number; reason?: string } = {},
  ): void {
    if (d.finished) return;
    d.finished = true;
    if (b.inflight === d) b.inflight = undefined;
    this.infra.emit({
      type: "deploy.finished",
      time: this.now(),
      service: b.s.name,
      deployId: d.id,
      outcome,
      maxWeight: extra.maxWeight ?? (outcome === "aborted" ? 0 : 100),
      ...(extra.analysisStartedAt === undefined ? {} : { analysisStartedAt: extra.analysisStartedAt }),
      ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    });
  }

  /** The version of `d` served its first request (its ReplicaSet became ready). */
  serving(d: Deploy, hash: string): void {
    d.hash = hash;
    d.servingSince ??= this.now();
  }

  /** Emit the exposure of a bad version once, when it stops serving (or at the end of the run). */
  exposure(b: ServiceBook, d: Deploy): void {
    if (!d.bad || this.exposed.has(d.id) || d.hash === undefined || d.servingSince === undefined) return;
    this.exposed.add(d.id);
    const e = this.infra.traffic.exposure(
      { namespace: b.s.namespace, service: b.s.name },
      d.hash,
      d.servingSince,
      this.now(),
      {
        errorRatioSlo: b.s.slo.errorRate,
      },
    );
    this.infra.emit({
      type: "exposure",
      time: this.now(),
      service: b.s.name,
      deployId: d.id,
      requests: e.requests,
      failedRequests: e.errors,
      errorBudgetMinutes: e.errorBudgetMinutes,
      maxWeight: Math.round(e.maxWeight * 100) / 100,
    });
  }

  openIncident(
    b: ServiceBook,
    what: { cause: "bad-deploy" | "drift"; deploy?: Deploy; drift?: PlannedDrift },
    by: "alert" | "human" | "canary",
    impactStartedAt: number,
  ): Incident {
    const inc: Incident = { id: `${b.s.name}/i${++this.incidentN}`, openedAt: this.now(), ...what };
    b.incident = inc;
    this.counts.incidents++;
    this.infra.emit({
      type: "incident.opened",
      time: this.now(),
      service: b.s.name,
      incidentId: inc.id,
      cause: inc.cause,
      ...(inc.deploy === undefined ? {} : { deployId: inc.deploy.id }),
      detectedBy: by,
      impactStartedAt: Math.min(impactStartedAt, this.now()),
    });
    return inc;
  }

  resolveIncident(
    b: ServiceBook,
    resolution: IncidentResolvedEvent["resolution"],
    restoringDeployId?: string,
  ): Incident | undefined {
    const inc = b.incident;
    if (inc === undefined) return undefined;
    b.incident = undefined;
    this.infra.emit({
      type: "incident.resolved",
      time: this.now(),
      service: b.s.name,
      incidentId: inc.id,
      resolution,
      ...(restoringDeployId === undefined ? {} : { restoringDeployId }),
    });
    return inc;
  }

  driftInjected(
    b: ServiceBook,
    dr: PlannedDrift,
    resource: DriftInjectedEvent["resource"],
    allowed: boolean,
  ): ActiveDrift {
    this.infra.emit({
      type: "drift.injected",
      time: this.now(),
      service: b.s.name,
      driftId: dr.id,
      kind: dr.kind,
      identity: dr.identity,
      allowed,
      resource,
    });
    const a: ActiveDrift = { drift: dr, allowed };
    if (allowed) b.drifts.push(a);
    return a;
  }

  /** The drift's story is over (healed, overwritten, or the run ended). */
  driftResolved(b: ServiceBook, a: ActiveDrift, causedIncident?: string): void {
    const i = b.drifts.indexOf(a);
    if (i >= 0) b.drifts.splice(i, 1);
    if (b.pendingDriftRs === a) b.pendingDriftRs = undefined;
    this.infra.emit({
      type: "drift.resolved",
      time: this.now(),
      service: b.s.name,
      driftId: a.drift.id,
      detected: a.detectedAt !== undefined,
      healed: a.healedAt !== undefined,
      ...(a.detectedAt === undefined ? {} : { detectedAt: a.detectedAt }),
      ...(a.healedAt === undefined ? {} : { healedAt: a.healedAt }),
      ...(causedIncident === undefined ? {} : { causedIncident }),
    });
  }

  /**
   * An unplanned change by the on-call (a fix for `version`, or a retry of it): recorded as
   * committed now and returned for the world to ship.
   */
  unplannedChange(b: ServiceBook, id: string, version: string, rework: boolean): PlannedChange {
    const change: PlannedChange = {
      id,
      service: b.s.index,
      time: this.now(),
      version,
      bad: false,
      params: {},
      author: `oncall@${b.s.team}`,
      reviewer: `oncall@${b.s.team}`,
      scheduled: false,
    };
    this.committed(b, { ...change, rework });
    return change;
  }

  /** Close what is still open at the end of the run. */
  close(): void {
    for (const b of this.services.values()) {
      if (b.serving?.bad === true) this.exposure(b, b.serving);
      if (b.inflight?.bad === true) this.exposure(b, b.inflight);
      for (const a of [...b.drifts]) this.driftResolved(b, a);
    }
  }
}
