/**
 * The migration world: the case study's phased cutover from kubectl to GitOps on ONE
 * cluster. Every service starts the manual way (people `kubectl apply` all replicas at
 * once, alerts, hand rollback, drift unnoticed: the manual operator of manual.ts). When
 * its tier's phase starts (`migration.phases`, default internal 0s, tier-2 3w, tier-1 7w)
 * and the service is quiet (no incident, no deploy in flight), the platform team cuts it
 * over: one reviewed commit adds its chart (at the version that runs) and its Argo CD
 * Application; the engine adopts the live ConfigMap and Service and creates the Rollout;
 * once the Rollout's pods serve, the team deletes the old Deployment. From then on the
 * service is run by the GitOps operator of gitops.ts exactly as in the gitops world:
 * reviewed commits, sync, canary analysis, self-heal, revert commits. A change a person
 * had queued for kubectl when its service moved is shipped as a commit instead.
 *
 * Write access: from `access.revokeAt` (or a scheduled `revokeAccess` event) people may no
 * longer write in a namespace once every service in it is under Argo CD (namespaces are
 * teams, and teams belong to one tier); namespaces still run by hand stay writable until
 * their cutover. Denied writes are 403s in the cluster's audit and `drift.injected` with
 * `allowed: false`. The autoscaler and the on-call break-glass account keep access.
 * After a namespace is revoked, people's drift attempts there thin out by
 * `drift.decayPerWeekAfterRevoke` per week (an attempt at t is made with probability
 * (1 - decay)^(weeks since the revocation), drawn per drift id): people adapt. What is
 * detected, healed or denied is the mechanisms' outcome, never calibrated.
 */
import type { EventBase } from "../../engine/core/events.ts";
import { SeededRng } from "../clock/rng.ts";
import type { Tier } from "../events.ts";
import type { FleetService } from "../fleet/generate.ts";
import type { Scenario } from "../scenario/load.ts";
import { type ServiceBook, WorldBook } from "./book.ts";
import { crashLoopPods } from "./faults.ts";
import { startGitopsOperator } from "./gitops.ts";
import { scheduleInfraFaults } from "./infra-faults.ts";
import { Infra, type WorldInput, type WorldResult } from "./infra.ts";
import { startManualOperator } from "./manual.ts";
import type { PlannedChange, PlannedDrift, RunPlan } from "./plan.ts";

const WEEK = 7 * 24 * 3_600_000;
/** How often a service waiting for a quiet moment is looked at again. */
const CUTOVER_RETRY_MS = 60_000;
/** Identities that are not people (never named by the write policy). */
const NOT_PEOPLE = new Set(["oncall"]);

/** Emitted when a service's Application is created (its cutover commit is `commit`). */
export interface MigrationCutoverEvent extends EventBase {
  type: "migration.cutover";
  service: string;
  tier: Tier;
  commit: string;
  /** When the service's phase started (the cutover waits for a quiet moment). */
  phaseStartedAt: number;
}

/** Emitted when people lose write access to a namespace (its services are all under Argo CD). */
export interface AccessRevokedEvent extends EventBase {
  type: "access.revoked";
  namespace: string;
}

/** When each service's phase starts (absolute ms); services of a tier without a phase stay manual. */
export function cutoverTimes(scenario: Scenario, services: readonly FleetService[]): Map<string, number> {
  const from = new Map<Tier, number>();
  for (const p of scenario.migration.phases) {
    const prev = from.get(p.tier);
    from.set(p.tier, prev === undefined ? p.fromMs : Math.min(prev, p.fromMs));
  }
  const out = new Map<string, number>();
  for (const s of services) {
    const f = from.get(s.tier);
    if (f !== undefined && f < scenario.durationMs) out.set(s.name, scenario.startMs + f);
  }
  return out;
}

/**
 * Whether a drift attempt at `time` on a namespace revoked at `revokedAt` is still made:
 * with probability (1 - decay)^(weeks since the revocation), drawn per (seed, drift id).
 */
export function attemptAfterRevoke(
  seed: number,
  driftId: string,
  time: number,
  revokedAt: number,
  decayPerWeek: number,
): boolean {
  if (time < revokedAt || decayPerWeek <= 0) return true;
  const keep = (1 - decayPerWeek) ** ((time - revokedAt) / WEEK);
  return SeededRng.keyed("migration/decay", seed, driftId).float() < keep;
}

/** Everyone the plan has writing to the cluster as a person (the subjects of the write policy). */
export function peopleOf(plan: RunPlan): string[] {
  const names = new Set<string>();
  for (const c of plan.changes) names.add(c.author.split("@")[0]!);
  for (const d of plan.drifts) names.add(d.identity);
  for (const n of NOT_PEOPLE) names.delete(n);
  return [...names].sort();
}

export async function runMigrationWorld(input: WorldInput): Promise<WorldResult> {
  const infra = new Infra(input);
  const { clock, cluster } = infra;
  const { scenario, plan, services } = input;
  /** Services under Argo CD. */
  const migrated = new Set<string>();
  const book = new WorldBook(infra, services, (b) => (migrated.has(b.s.name) ? "gitops" : "kubectl"));
  const crashLoopImages = crashLoopPods(infra);
  const phaseAt = cutoverTimes(scenario, services);
  /** Services whose Rollout has not served yet (their Deployment still runs). */
  const cuttingOver = new Set<string>();
  const people = peopleOf(plan);
  const revokedAt = new Map<string, number>();
  let revocationStarted = false;
  const stats = { cutovers: 0, cutoverWaits: 0, driftAttemptsDropped: 0 };
  const events = infra.mechanismSink();

  await infra.startControllers();
  const manual = await startManualOperator(infra, input, book, {
    crashLoopImages,
    owns: (b) => !migrated.has(b.s.name),
    handOff: (b, change, rework) => gitops.submit(b, change, rework),
  });
  const gitops = await startGitopsOperator(infra, input, book, {
    crashLoopImages,
    services: [],
    onVersionStart: (b, v) => {
      if (!cuttingOver.has(b.s.name) || v.ownerKind !== "Rollout") return;
      cuttingOver.delete(b.s.name);
      // the same image under a new pod template behaves the same (a bad version stays bad)
      if (b.serving?.bad === true) gitops.carryBehaviour(b, b.serving, v.hash);
      // the Rollout serves: the platform team removes the hand-made Deployment
      void infra.admin
        .delete({ apiVersion: "apps/v1", kind: "Deployment", namespace: b.s.namespace, name: b.s.name })
        .catch(() => undefined);
    },
  });
  await infra.runUntil(scenario.startMs);

  // ---- cutover ----
  function quiet(b: ServiceBook): boolean {
    return b.incident === undefined && b.inflight === undefined;
  }

  async function phaseStarts(tierServices: FleetService[], phaseStartedAt: number): Promise<void> {
    const ready: ServiceBook[] = [];
    for (const s of tierServices) {
      const b = book.get(s.name);
      if (quiet(b)) ready.push(b);
      else waitForQuiet(b, phaseStartedAt);
    }
    if (ready.length > 0) await cutover(ready, phaseStartedAt);
  }

  function waitForQuiet(b: ServiceBook, phaseStartedAt: number): void {
    stats.cutoverWaits++;
    clock.setTimeout(() => {
      if (quiet(b)) void cutover([b], phaseStartedAt);
      else waitForQuiet(b, phaseStartedAt);
    }, CUTOVER_RETRY_MS);
  }

  async function cutover(list: ServiceBook[], phaseStartedAt: number): Promise<void> {
    for (const b of list) {
      migrated.add(b.s.name);
      cuttingOver.add(b.s.name);
      manual.release(b);
    }
    const commit = await gitops.adopt(
      list.map((b) => b.s),
      list.length === 1
        ? `Move ${list[0]!.s.name} to Argo CD`
        : `Move ${list.length} ${list[0]!.s.tier} services to Argo CD`,
    );
    for (const b of list) {
      stats.cutovers++;
      events.emit({
        type: "migration.cutover",
        time: clock.now(),
        service: b.s.name,
        tier: b.s.tier,
        commit,
        phaseStartedAt,
      } as MigrationCutoverEvent);
    }
    updatePolicy();
  }

  // ---- write access ----
  function startRevocation(): void {
    revocationStarted = true;
    updatePolicy();
  }

  /** People may write only in namespaces that still have a service run by hand. */
  function updatePolicy(): void {
    if (!revocationStarted) return;
    const open = new Set<string>();
    for (const s of services) if (!migrated.has(s.name)) open.add(s.namespace);
    for (const ns of [...new Set(services.map((s) => s.namespace))].sort()) {
      if (open.has(ns) || revokedAt.has(ns)) continue;
      revokedAt.set(ns, clock.now());
      events.emit({ type: "access.revoked", time: clock.now(), namespace: ns } as AccessRevokedEvent);
    }
    cluster.setPolicy({ rules: [{ users: people, namespaces: [...open].sort() }], default: "allow" });
  }

  // ---- the plan: each change and drift goes to whoever runs the service at that moment ----
  function planned(c: PlannedChange): void {
    const b = book.get(services[c.service]!.name);
    if (migrated.has(b.s.name)) gitops.planned(c);
    else manual.planned(c);
  }

  function drift(dr: PlannedDrift): void {
    const b = book.get(services[dr.service]!.name);
    const revoked = revokedAt.get(b.s.namespace);
    if (
      !dr.scheduled &&
      revoked !== undefined &&
      !attemptAfterRevoke(scenario.seed, dr.id, dr.time, revoked, scenario.drift.decayPerWeekAfterRevoke)
    ) {
      stats.driftAttemptsDropped++;
      return;
    }
    void (migrated.has(b.s.name) ? gitops.makeDrift(dr) : manual.makeDrift(dr));
  }

  const start = clock.now();
  const byPhase = new Map<number, FleetService[]>();
  for (const s of services) {
    const at = phaseAt.get(s.name);
    if (at !== undefined) byPhase.set(at, [...(byPhase.get(at) ?? []), s]);
  }
  for (const [at, list] of [...byPhase].sort((a, b) => a[0] - b[0]))
    clock.setTimeout(() => void phaseStarts(list, at), at - start);
  for (const c of plan.changes) clock.setTimeout(() => planned(c), c.time - start);
  for (const dr of plan.drifts) clock.setTimeout(() => drift(dr), dr.time - start);
  if (scenario.access.revokeAtMs !== undefined)
    clock.setTimeout(startRevocation, scenario.startMs + scenario.access.revokeAtMs - start);
  for (const ev of scenario.events)
    if (ev.revokeAccess !== undefined && (ev.world === undefined || ev.world === input.world.name))
      clock.setTimeout(startRevocation, scenario.startMs + ev.atMs - start);
  scheduleInfraFaults(infra, { engine: gitops.engine, faults: infra.faults });
  await infra.runToEnd();

  book.close();
  const manualStats = manual.stop();
  const gitopsStats = await gitops.stop();
  await infra.stop();
  return {
    stats: {
      ...book.counts,
      ...gitopsStats,
      ...stats,
      worldWrites: manualStats.worldWrites,
      alertEvaluations: manualStats.alertEvaluations + gitopsStats.alertEvaluations,
      apiWrites: infra.writes,
    },
  };
}
