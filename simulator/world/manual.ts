/**
 * The "manual kubectl" world (before): people deploy by applying the new version
 * to all replicas at once (a Deployment rolling update, no canary). Bad versions
 * are noticed by an alert on the mock Prometheus (or, for a rollout that never
 * becomes ready, by the person watching `kubectl rollout status`); a person
 * acknowledges, looks for the last good tag and hand-rolls the rollback, each
 * step a delay drawn from the scenario's people distributions. Drift made with
 * kubectl is never detected; it lasts until the next full apply overwrites it,
 * and a harmful one causes an incident people have to find and fix.
 *
 * startManualOperator() is these people over an Infra and a WorldBook it shares:
 * runManualWorld gives it every service; the migration world only those not cut
 * over yet (it releases a service at its cutover and hands its queued changes on).
 */
import type { KubeObject } from "../../engine/kube/types.ts";
import type { FleetService } from "../fleet/generate.ts";
import { type AlertFiring, AlertScanner } from "./alerts.ts";
import { TrafficBinder, type VersionInfo } from "./binder.ts";
import { crashLoopPods, harmVersion, neverReady, releaseBehaviour } from "./faults.ts";
import { scheduleInfraFaults } from "./infra-faults.ts";
import { imageOf, Infra, tagOf, type WorldInput, type WorldResult } from "./infra.ts";
import { drawDelay } from "./people.ts";
import { type ServiceBook, WorldBook } from "./book.ts";
import type { PlannedChange, PlannedDrift } from "./plan.ts";

const MANAGER = "kubectl";

export function deploymentManifest(s: FleetService, version: string): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name, team: s.team, tier: s.tier } },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: { app: s.name } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: s.name } },
        spec: {
          containers: [
            {
              name: "app",
              image: imageOf(s, version),
              ports: [{ name: "http", containerPort: 8080 }],
              env: [
                { name: "LOG_LEVEL", value: "info" },
                { name: "SERVICE_NAME", value: s.name },
              ],
              envFrom: [{ configMapRef: { name: `${s.name}-config` } }],
            },
          ],
        },
      },
    },
  };
}

export function configMapManifest(s: FleetService): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `${s.name}-config`, namespace: s.namespace, labels: { app: s.name } },
    data: { FEATURE_FLAGS: "", REQUEST_TIMEOUT: "5s", UPSTREAM_RETRIES: "2" },
  };
}

function serviceManifest(s: FleetService): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name } },
    spec: { selector: { app: s.name }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
  };
}

export interface ManualOperatorOptions {
  /** Images whose pods never become ready (shared with whoever else deploys in the world). */
  crashLoopImages: Set<string>;
  /** Whether people still run the service by hand (default: always; the migration moves services away). */
  owns?: (b: ServiceBook) => boolean;
  /** Where a change goes that was queued for kubectl after its service stopped being run by hand. */
  handOff?: (b: ServiceBook, change: PlannedChange, rework: boolean) => void;
}

/** People running services with kubectl: deploys, incidents, rollbacks, drift. */
export interface ManualOperator {
  /** A planned change is ready: a person kubectl-applies it after the manual deploy delay. */
  planned(change: PlannedChange): void;
  /** A person edits the live objects with kubectl (allowed or denied by the write policy). */
  makeDrift(dr: PlannedDrift): Promise<void>;
  /** The service is no longer run by hand: stop watching it; its drift is gone with its objects. */
  release(b: ServiceBook): void;
  stop(): { alertEvaluations: number; worldWrites: number };
}

/**
 * Apply every service's namespace, ConfigMap, Service and Deployment (as kubectl would), then
 * follow the cluster: versions that start serving, Deployments that finish or fail rolling out.
 */
export async function startManualOperator(
  infra: Infra,
  input: WorldInput,
  book: WorldBook,
  opts: ManualOperatorOptions,
): Promise<ManualOperator> {
  const { clock, traffic, admin } = infra;
  const { scenario } = input;
  const people = scenario.people;
  const rng = infra.rng.fork("manual/people");
  const deferred = new Map<string, PlannedChange[]>();
  const { crashLoopImages } = opts;
  const owns = opts.owns ?? (() => true);
  let writes = 0;

  const alerts = new AlertScanner(
    clock,
    infra.prometheus,
    { errorRate: people.alertErrorRate, p99LatencyMs: people.alertP99LatencyMs, forMs: people.alertForMs },
    (f) => onAlert(f),
    (s, from, to) => traffic.deviatesDuring({ namespace: s.namespace, service: s.name }, from, to),
  );

  // ---- cluster and fleet setup (in the hour before the scenario starts) ----
  for (const ns of [...new Set(input.services.map((s) => s.namespace))].sort()) {
    await admin.apply(
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
      { fieldManager: MANAGER, force: true },
    );
  }
  for (const s of input.services) {
    await admin.apply(configMapManifest(s), { fieldManager: MANAGER, force: true });
    await admin.apply(serviceManifest(s), { fieldManager: MANAGER, force: true });
    await admin.apply(deploymentManifest(s, s.image.tag), { fieldManager: MANAGER, force: true });
  }
  const binder = new TrafficBinder(admin, traffic, {
    routeByReplicas: true,
    ownerKind: "Deployment",
    onVersionStart: (v) => onVersionStart(v),
    onVersionStop: (v) => onVersionStop(v),
  });
  await binder.start();

  // ---- reacting to the cluster ----
  function onVersionStart(v: VersionInfo): void {
    const b = book.find(v.namespace, v.service);
    if (b === undefined) return;
    const tag = tagOf(v.images[0] ?? "");
    const target = { namespace: v.namespace, service: v.service };
    const d = book.deployOfVersion(b, tag);
    const pending = b.pendingDriftRs;
    if (pending !== undefined && (tag.endsWith("-dev") || d === undefined || d === b.serving)) {
      // a ReplicaSet started by a drift (image override or env change)
      b.pendingDriftRs = undefined;
      if (pending.drift.harmful) {
        harmVersion(traffic, b.s, pending, v.hash);
        alerts.watch(b.s);
      }
      return;
    }
    if (d === undefined) return; // an initial version
    book.serving(d, v.hash);
    if (d.bad) {
      traffic.setVersionBehaviour(target, v.hash, releaseBehaviour(b.s, d.fault, d.params));
      alerts.watch(b.s);
    }
    b.serving = d;
  }

  function onVersionStop(v: VersionInfo): void {
    const b = book.find(v.namespace, v.service);
    if (b === undefined) return;
    const d = book.deployOfHash(b, v.hash);
    if (d !== undefined) book.exposure(b, d);
  }

  await admin.watch("apps/v1", "Deployment", {}, (ev) => {
    if (ev.type !== "MODIFIED") return;
    const o = ev.object as KubeObject & {
      spec?: { replicas?: number };
      status?: {
        observedGeneration?: number;
        updatedReplicas?: number;
        availableReplicas?: number;
        conditions?: Array<{ type: string; status: string; reason?: string }>;
      };
    };
    const b = book.find(o.metadata.namespace ?? "", o.metadata.name ?? "");
    const d = b?.inflight;
    if (b === undefined || d === undefined || !owns(b)) return;
    const st = o.status ?? {};
    if ((st.observedGeneration ?? 0) < (o.metadata.generation ?? 0)) return;
    const progressing = st.conditions?.find((c) => c.type === "Progressing");
    if (progressing?.reason === "ProgressDeadlineExceeded") {
      book.finishDeploy(b, d, "failed", { reason: "ProgressDeadlineExceeded" });
      // the person running `kubectl rollout status` sees it fail
      if (d.bad && b.incident === undefined)
        respond(b, book.openIncident(b, { cause: "bad-deploy", deploy: d }, "human", d.startedAt));
      return;
    }
    const want = o.spec?.replicas ?? 0;
    if (
      progressing?.reason === "NewReplicaSetAvailable" &&
      (st.updatedReplicas ?? 0) >= want &&
      (st.availableReplicas ?? 0) >= want
    ) {
      book.finishDeploy(b, d, "succeeded");
      if (d.restores !== undefined && b.incident?.id === d.restores) resolved(b, d.id);
    }
  });

  // ---- deploys: `kubectl apply -f` of the whole manifest, which also overwrites drift ----
  async function apply(b: ServiceBook, version: string, identity: string): Promise<void> {
    for (const a of [...b.drifts])
      book.driftResolved(b, a, b.incident?.drift === a.drift ? b.incident.id : undefined);
    const client = infra.client(identity);
    await client.apply(configMapManifest(b.s), { fieldManager: MANAGER, force: true });
    await client.apply(deploymentManifest(b.s, version), { fieldManager: MANAGER, force: true });
    writes += 2;
  }

  async function ship(b: ServiceBook, change: PlannedChange): Promise<void> {
    if (!owns(b)) {
      opts.handOff?.(b, change, change.id.includes("/fix-"));
      return;
    }
    if (b.incident !== undefined) {
      deferred.set(b.s.name, [...(deferred.get(b.s.name) ?? []), change]);
      return;
    }
    if (neverReady(change.fault)) crashLoopImages.add(imageOf(b.s, change.version));
    book.startDeploy(b, {
      changeId: change.id,
      version: change.version,
      change,
      rework: change.id.includes("/fix-"),
    });
    await apply(b, change.version, change.author.split("@")[0]!);
  }

  function planned(change: PlannedChange): void {
    const b = book.get(input.services[change.service]!.name);
    book.committed(b, { ...change, rework: false });
    clock.setTimeout(() => void ship(b, change), drawDelay(rng, people.manualDeployDelay));
  }

  // ---- incidents ----
  function onAlert(f: AlertFiring): void {
    const b = book.get(f.service.name);
    if (b.incident !== undefined) return;
    const harmful = b.drifts.find((a) => a.drift.harmful);
    if (b.serving?.bad === true) {
      respond(
        b,
        book.openIncident(
          b,
          { cause: "bad-deploy", deploy: b.serving },
          "alert",
          b.serving.servingSince ?? f.pendingSince,
        ),
      );
    } else if (harmful !== undefined) {
      harmful.detectedAt = clock.now();
      respond(b, book.openIncident(b, { cause: "drift", drift: harmful.drift }, "alert", harmful.drift.time));
    }
  }

  /** Acknowledge, find the last good tag (or the cause), hand-roll the rollback or the fix. */
  function respond(b: ServiceBook, inc: NonNullable<ServiceBook["incident"]>): void {
    const delay =
      (inc.deploy !== undefined && inc.deploy.fault === "crash-loop"
        ? 0
        : drawDelay(rng, people.acknowledge)) +
      drawDelay(rng, people.findLastGoodTag) +
      drawDelay(rng, people.handRollback);
    clock.setTimeout(() => {
      const version =
        inc.cause === "bad-deploy" && inc.deploy !== undefined ? inc.deploy.previousVersion : b.version;
      const id = `${b.s.name}/rollback-${inc.id.split("/").pop()}`;
      book.committed(b, { id, version, author: "oncall", bad: false, rework: true });
      const d = book.startDeploy(b, { changeId: id, version, rework: true });
      d.restores = inc.id;
      void apply(b, version, "oncall");
    }, delay);
  }

  function resolved(b: ServiceBook, restoringDeployId: string): void {
    const inc = book.resolveIncident(
      b,
      b.incident?.cause === "drift" ? "manual-fix" : "rollback",
      restoringDeployId,
    );
    alerts.unwatch(b.s);
    if (inc?.cause === "bad-deploy" && inc.deploy !== undefined) fixForward(b, inc.deploy.version);
    const next = deferred.get(b.s.name)?.shift();
    if (next !== undefined) void ship(b, next);
  }

  /** Some time after a rollback, the team ships a fixed version (unplanned work: rework). */
  function fixForward(b: ServiceBook, badVersion: string): void {
    clock.setTimeout(
      () => {
        const change = book.unplannedChange(b, `${b.s.name}/fix-${badVersion}`, `${badVersion}-fix`, true);
        void ship(b, change);
      },
      drawDelay(rng, people.fixForward),
    );
  }

  // ---- drift: kubectl by a person, never detected by anything but its consequences ----
  async function makeDrift(dr: PlannedDrift): Promise<void> {
    const b = book.get(input.services[dr.service]!.name);
    const s = b.s;
    const client = infra.client(dr.identity);
    const dep = { apiVersion: "apps/v1", kind: "Deployment", namespace: s.namespace, name: s.name };
    const cm = { apiVersion: "v1", kind: "ConfigMap", namespace: s.namespace, name: `${s.name}-config` };
    const resource = dr.kind === "configmap-edit" || dr.kind === "resource-deleted" ? cm : dep;
    let allowed = true;
    const pendingRs = dr.kind === "image-override" || dr.kind === "env-change";
    try {
      switch (dr.kind) {
        case "configmap-edit":
          await client.patch(cm, { data: { FEATURE_FLAGS: `debug-${dr.identity}` } }, "merge", {
            fieldManager: "kubectl-edit",
          });
          break;
        case "replicas-frozen":
          await client.patch(dep, { spec: { replicas: s.replicas + 1 } }, "merge", {
            fieldManager: "kubectl",
            subresource: "scale",
          });
          break;
        case "image-override":
          await client.patch(
            dep,
            {
              spec: {
                template: { spec: { containers: [{ name: "app", image: `${imageOf(s, b.version)}-dev` }] } },
              },
            },
            "strategic",
            { fieldManager: "kubectl-set" },
          );
          break;
        case "env-change":
          await client.patch(
            dep,
            {
              spec: {
                template: {
                  spec: { containers: [{ name: "app", env: [{ name: "LOG_LEVEL", value: "debug" }] }] },
                },
              },
            },
            "strategic",
            { fieldManager: "kubectl-set" },
          );
          break;
        case "resource-deleted":
          await client.delete(cm);
          break;
      }
      writes++;
    } catch {
      allowed = false;
    }
    const active = book.driftInjected(b, dr, resource, allowed);
    if (!allowed) return;
    if (pendingRs) b.pendingDriftRs = active;
    if (dr.kind === "configmap-edit" && dr.harmful && b.serving?.hash !== undefined) {
      harmVersion(traffic, s, active, b.serving.hash, b.serving);
      alerts.watch(s);
    }
  }

  function release(b: ServiceBook): void {
    alerts.unwatch(b.s);
    for (const a of [...b.drifts]) book.driftResolved(b, a);
    const queued = deferred.get(b.s.name) ?? [];
    deferred.delete(b.s.name);
    for (const c of queued) opts.handOff?.(b, c, c.id.includes("/fix-"));
  }

  return {
    planned,
    makeDrift,
    release,
    stop: () => {
      const out = { alertEvaluations: alerts.evaluations, worldWrites: writes };
      alerts.stop();
      binder.stop();
      return out;
    },
  };
}

export async function runManualWorld(input: WorldInput): Promise<WorldResult> {
  const infra = new Infra(input);
  const { clock } = infra;
  const { scenario, plan } = input;
  const book = new WorldBook(infra, input.services, "kubectl");
  const crashLoopImages = crashLoopPods(infra);
  await infra.startControllers();
  const manual = await startManualOperator(infra, input, book, { crashLoopImages });
  await infra.runUntil(scenario.startMs);

  // ---- schedule the plan and run ----
  const start = clock.now();
  for (const c of plan.changes) clock.setTimeout(() => manual.planned(c), c.time - start);
  for (const dr of plan.drifts) clock.setTimeout(() => void manual.makeDrift(dr), dr.time - start);
  // API faults hit people's kubectl (infra.client); Git, webhooks and notifications are not used here
  scheduleInfraFaults(infra, { faults: infra.faults });
  await infra.runToEnd();

  book.close();
  const { alertEvaluations, worldWrites } = manual.stop();
  const stats = { ...book.counts, alertEvaluations, worldWrites, apiWrites: infra.writes };
  await infra.stop();
  return { stats };
}
