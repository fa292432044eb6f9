/**
 * The GitOps world (after): every change is a reviewed commit to the fleet's Helm
 * monorepo; the engine (engine/) syncs it (push webhook, or the poll that would
 * have found it), Argo Rollouts-style canaries judged by analysis on the mock
 * Prometheus (engine/rollouts, engine/analysis) decide promote or abort, and
 * self-heal reverts drift. Escaped failures are caught by the same alerts as in
 * the manual world and recovered by a revert commit (after the emergency-change
 * delay) that the on-call promotes at once. Nothing here decides an outcome: the
 * mechanisms do.
 *
 * startGitopsOperator() is this platform over an Infra and a WorldBook it shares:
 * runGitopsWorld bootstraps every service with it; the migration world starts it
 * empty and adopt()s services as their phase comes.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { parseDuration } from "../../engine/core/clock.ts";
import type { EventBase } from "../../engine/core/events.ts";
import { createEngine, type Engine, LocalGitSource, MemoryNotifier } from "../../engine/index.ts";
import { InsteadOfGitSource } from "../../engine/source/git.ts";
import type { DriftDetectedEvent, DriftHealedEvent } from "../../engine/apps/events.ts";
import { PrometheusProvider } from "../../engine/analysis/provider.ts";
import type { KubeObject, ObjectRef } from "../../engine/kube/types.ts";
import { createHelmRenderer } from "../../engine/render/helm/index.ts";
import { RolloutsManager } from "../../engine/rollouts/manager.ts";
import type {
  RolloutAbortedEvent,
  RolloutCompletedEvent,
  RolloutTimedOutEvent,
  RolloutUpdatedEvent,
} from "../../engine/rollouts/events.ts";
import { abort as abortRollout, promote } from "../../engine/rollouts/verbs.ts";
import type { AuditWriteEvent } from "../cluster/events.ts";
import { applicationObject, chartFiles, plainScalar, setValues } from "../fleet/chart.ts";
import type { FleetService } from "../fleet/generate.ts";
import { FleetRepo } from "../fleet/repo.ts";
import type { Scenario } from "../scenario/load.ts";
import { type AlertFiring, AlertScanner } from "./alerts.ts";
import { TrafficBinder, type VersionInfo } from "./binder.ts";
import { type ActiveDrift, type Deploy, type ServiceBook, WorldBook } from "./book.ts";
import { crashLoopPods, harmVersion, neverReady, releaseBehaviour } from "./faults.ts";
import { scheduleInfraFaults } from "./infra-faults.ts";
import { imageOf, Infra, tagOf, type WorldInput, type WorldResult } from "./infra.ts";
import { drawDelay } from "./people.ts";
import type { PlannedChange, PlannedDrift } from "./plan.ts";

const ENGINE_IDENTITY = "system:serviceaccount:argocd:argocd-application-controller";
const ROLLOUTS_IDENTITY = "system:serviceaccount:argo-rollouts:argo-rollouts";
const ARGOCD_NS = "argocd";
const PROMETHEUS = "http://prometheus.monitoring.svc:9090";
/** Identities that are not people: never denied by an access revocation. */
const SYSTEM_IDENTITY = /^system:/;

/** The two ClusterAnalysisTemplates from the scenario's SLOs (5-minute windows, canary series only). */
export function analysisTemplates(scenario: Scenario): Record<string, string> {
  const a = scenario.delivery.canary.analysis;
  const window = `${Math.round(a.windowMs / 1000)}s`;
  const sel = (extra: string) =>
    `namespace="{{args.namespace}}",service="{{args.service-name}}",rollouts_pod_template_hash="{{args.canary-hash}}"${extra}`;
  const count = Math.max(
    1,
    Math.round(
      scenario.delivery.canary.steps.reduce((ms, st) => {
        const p = (st as { pause?: { duration?: string | number } }).pause;
        return ms + (p?.duration === undefined ? 0 : parseDuration(p.duration));
      }, 0) / a.intervalMs,
    ),
  );
  const guard = (expr: string) => (a.requestGuard ? `len(result) == 0 || isNaN(result[0]) || ${expr}` : expr);
  const metric = (name: string, query: string, condition: string) => ({
    name,
    // a new canary has no scraped samples for its first scrape intervals: wait one interval
    initialDelay: `${Math.round(a.intervalMs / 1000)}s`,
    interval: `${Math.round(a.intervalMs / 1000)}s`,
    count,
    failureLimit: a.failureLimit,
    successCondition: guard(condition),
    provider: { prometheus: { address: PROMETHEUS, query } },
  });
  const template = (name: string, m: ReturnType<typeof metric>) =>
    stringify(
      {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "ClusterAnalysisTemplate",
        metadata: { name },
        spec: {
          args: [{ name: "service-name" }, { name: "namespace" }, { name: "canary-hash" }],
          metrics: [m],
        },
      },
      { lineWidth: 0 },
    );
  return {
    "analysis/error-rate.yaml": template(
      "error-rate",
      metric(
        "error-rate",
        // no 5xx series yet means no errors, not no data
        `(sum(rate(http_requests_total{${sel(',code=~"5.."')}}[${window}])) or vector(0)) / sum(rate(http_requests_total{${sel("")}}[${window}]))`,
        `result[0] < ${a.errorRate}`,
      ),
    ),
    "analysis/p99-latency.yaml": template(
      "p99-latency",
      metric(
        "p99-latency",
        `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel("")}}[${window}])))`,
        `result[0] < ${a.p99LatencyMs / 1000}`,
      ),
    ),
  };
}

/** Argo CD notifications subscriptions of an Application: deploys, failed syncs and degraded health. */
function notificationSubscriptions(channel: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const trigger of ["on-deployed", "on-sync-failed", "on-health-degraded"])
    out[`notifications.argoproj.io/subscribe.${trigger}.slack`] = channel;
  return out;
}

const TAG_MARKER = "gtb-image-tag-marker";

/** values-production.yaml of a service: the scenario's canary policy on top of the chart's values. */
function productionValues(s: FleetService, scenario: Scenario, analysis: boolean, tag: string): string {
  return stringify(
    {
      replicaCount: s.replicas,
      image: { tag },
      env: { LOG_LEVEL: "info" },
      canary: {
        steps: scenario.delivery.canary.steps,
        analysis: {
          startingStep: scenario.delivery.canary.analysis.startingStep,
          templates: analysis ? ["error-rate", "p99-latency"] : [],
        },
      },
    },
    { lineWidth: 0 },
  );
}

export interface GitopsOperatorOptions {
  /** Images whose pods never become ready (shared with whoever else deploys in the world). */
  crashLoopImages: Set<string>;
  /** Services whose charts and Applications exist from the start (the rest arrive by adopt()). */
  services: readonly FleetService[];
  /** Called first when a Rollout's version starts serving (the migration world's cutover). */
  onVersionStart?: (b: ServiceBook, v: VersionInfo) => void;
}

/** The platform run the GitOps way: commits, the engine, Rollouts with analysis, self-heal, reverts. */
export interface GitopsOperator {
  readonly engine: Engine;
  /** A planned change: recorded as committed, reviewed, merged and synced. */
  planned(change: PlannedChange): void;
  /** A change recorded elsewhere goes through review and merge (e.g. one queued for kubectl). */
  submit(b: ServiceBook, change: PlannedChange, rework: boolean): void;
  /** Someone (or the autoscaler) edits a live object outside Git. */
  makeDrift(dr: PlannedDrift): Promise<void>;
  /**
   * Bring running services under Argo CD: one reviewed commit adds their charts (at the version
   * that runs) and Applications, then the platform team creates the Applications. Returns the SHA.
   */
  adopt(services: readonly FleetService[], message: string): Promise<string>;
  /** Version `hash` runs the same image as deploy `d`: it behaves as `d` does (and is watched). */
  carryBehaviour(b: ServiceBook, d: Deploy, hash: string): void;
  /** Stop the engine and the controllers; the run's figures (commits, webhooks, measurements ...). */
  stop(): Promise<Record<string, number> & { alertEvaluations: number }>;
}

const PLATFORM = { name: "Platform Team", email: "platform@example.com" };

/**
 * Commit the fleet repository (analysis templates and `opts.services`), start the engine and the
 * rollout controller on the world's cluster and create the Applications. Call after
 * infra.startControllers().
 */
export async function startGitopsOperator(
  infra: Infra,
  input: WorldInput,
  book: WorldBook,
  opts: GitopsOperatorOptions,
): Promise<GitopsOperator> {
  const { clock, traffic, admin } = infra;
  const { scenario, world } = input;
  const people = scenario.people;
  const rng = infra.rng.fork("gitops/people");
  const pollRng = infra.rng.fork("gitops/poll");
  const { crashLoopImages } = opts;
  const stats = { commits: 0, webhooks: 0, polls: 0, measurements: 0, selfHeals: 0, rolloutErrors: 0 };

  const alerts = new AlertScanner(
    clock,
    infra.prometheus,
    { errorRate: people.alertErrorRate, p99LatencyMs: people.alertP99LatencyMs, forMs: people.alertForMs },
    (f) => onAlert(f),
    (s, from, to) => traffic.deviatesDuring({ namespace: s.namespace, service: s.name }, from, to),
  );

  // ---- who wrote what (the engine asks when it reports drift) ----
  const humanWrites = new Map<string, { identity: string; fieldManager: string; time: number }>();
  const auditKey = (r: { apiVersion: string; kind: string; namespace?: string; name: string }, rv: string) =>
    `${r.apiVersion}|${r.kind}|${r.namespace ?? ""}|${r.name}|${rv}`;
  const clusterSink = (e: AuditWriteEvent) => {
    if (SYSTEM_IDENTITY.test(e.identity) || e.code >= 300 || e.resourceVersion === "") return;
    humanWrites.set(auditKey(e, e.resourceVersion), {
      identity: e.identity,
      fieldManager: e.fieldManager,
      time: e.time,
    });
  };
  infra.onAudit(clusterSink);

  // ---- the fleet monorepo ----
  const repoDir = join(input.workDir, "fleet");
  // Applications name a stable remote (so commit SHAs do not depend on the scratch directory);
  // the engine reads the local repository instead, as git's url.<base>.insteadOf would.
  const repoURL = "https://git.example.com/platform/fleet.git";
  const repo = FleetRepo.init({ dir: repoDir, clock });

  /** values-production.yaml last written per service, and its text with a marker for the tag. */
  const written = new Map<string, string>();
  const templates = new Map<string, string>();
  function valuesWithTag(s: FleetService, tag: string): string {
    let text: string;
    if (plainScalar(tag) === tag) {
      // a plain scalar: YAML writes it as is wherever it stands
      let template = templates.get(s.name);
      if (template === undefined) {
        template = productionValues(s, scenario, world.canaryAnalysis, TAG_MARKER);
        templates.set(s.name, template);
      }
      text = template.replace(TAG_MARKER, () => tag);
    } else text = productionValues(s, scenario, world.canaryAnalysis, tag);
    written.set(s.name, text);
    return text;
  }

  /** A service's chart (values-production.yaml at `tag`) and Application. */
  function serviceFiles(s: FleetService, tag: string, files: Record<string, string>): KubeObject {
    Object.assign(files, chartFiles(s));
    files[`charts/${s.name}/values-production.yaml`] = valuesWithTag(s, tag);
    const app = applicationObject(s, { repoURL, argocdNamespace: ARGOCD_NS }) as KubeObject & {
      spec: { syncPolicy: { automated: { selfHeal: boolean } } };
    };
    // a push refreshes only the apps whose chart it touched (Argo CD's manifest-generate-paths)
    app.metadata.annotations = {
      ...app.metadata.annotations,
      "argocd.argoproj.io/manifest-generate-paths": ".",
      // the team's deploy channel (Argo CD notifications); notify-down makes deliveries fail
      ...notificationSubscriptions(`${s.team}-deploys`),
    };
    app.spec.syncPolicy.automated.selfHeal = world.selfHeal;
    files[`apps/${s.name}.yaml`] = stringify(app, { lineWidth: 0 });
    return app;
  }

  const files: Record<string, string> = { ...analysisTemplates(scenario) };
  const apps: KubeObject[] = [];
  const analysisApp: KubeObject = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    // like the service apps, refreshed only by pushes that touch its own directory
    metadata: {
      name: "analysis-templates",
      namespace: ARGOCD_NS,
      annotations: { "argocd.argoproj.io/manifest-generate-paths": "." },
    },
    spec: {
      project: "default",
      source: { repoURL, targetRevision: "HEAD", path: "analysis" },
      destination: { server: "https://kubernetes.default.svc" },
      syncPolicy: { automated: { prune: true, selfHeal: world.selfHeal } },
    },
  };
  files["apps/analysis.yaml"] = stringify(analysisApp);
  apps.push(analysisApp);
  for (const s of opts.services) apps.push(serviceFiles(s, s.image.tag, files));
  repo.commit({ files, message: "Bootstrap the fleet", author: PLATFORM });

  // ---- engine, rollouts ----
  await admin.apply(
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ARGOCD_NS } },
    { fieldManager: "bootstrap", force: true },
  );
  const keepEngine = (e: EventBase) =>
    [
      "sync.finished",
      "drift.detected",
      "drift.healed",
      "rollout.aborted",
      "rollout.completed",
      "rollout.timedout",
      "analysis.completed",
      "notification.sent",
      "notification.failed",
    ].includes(e.type);
  const mechanism = infra.mechanismSink(keepEngine);
  const gitSource = new InsteadOfGitSource(new LocalGitSource({ clock }), {
    [repoURL]: pathToFileURL(repoDir).href,
  });
  const { faults } = infra;
  const engine: Engine = createEngine({
    client: faults.wrapClient(infra.systemClient(ENGINE_IDENTITY)),
    clock,
    rng: infra.rng.fork("engine"),
    events: { emit: (e) => onEngineEvent(e) },
    source: faults.wrapGitSource(gitSource),
    notifier: faults.wrapNotifier(new MemoryNotifier()),
    builtinHelm: createHelmRenderer({ clock, rng: infra.rng.fork("helm") }),
    namespace: ARGOCD_NS,
    // In virtual time the poll that would find a commit is computed when the webhook is lost
    // (see deliver()); periodic no-op polls of 200 apps for weeks are not simulated one by one.
    pollIntervalMs: scenario.durationMs + 86_400_000,
    pollJitterMs: 0,
    auditLookup: { lookup: (ref: ObjectRef, rv: string) => humanWrites.get(auditKey(ref, rv)) },
  });
  const rollouts = new RolloutsManager({
    client: faults.wrapClient(infra.systemClient(ROLLOUTS_IDENTITY)),
    clock,
    provider: new PrometheusProvider({ apiFor: () => infra.prometheusApi() }),
    trafficRouter: traffic,
    events: { emit: (e) => onRolloutEvent(e) },
    // the manager retries failed reconciles; the run's stats say how often it had to
    onError: () => {
      stats.rolloutErrors++;
    },
  });
  const binder = new TrafficBinder(admin, traffic, {
    routeByReplicas: false,
    ownerKind: "Rollout",
    onVersionStart: (v) => onVersionStart(v),
    onVersionStop: (v) => onVersionStop(v),
  });
  await binder.start();
  await rollouts.start();
  await engine.start();
  // the platform team bootstraps the Applications (an app-of-apps would do the same)
  for (const app of apps) await admin.apply(app, { fieldManager: "bootstrap", force: true });
  // ---- reacting to the mechanisms ----
  /**
   * Drift the engine saw before the writer's call returned (the engine reacts to the watch event
   * while the person's client is still awaiting its response): settled when the drift is booked.
   */
  const seenEarly: Array<DriftDetectedEvent | DriftHealedEvent> = [];

  function onEngineEvent(e: EventBase): void {
    mechanism.emit(e);
    if (e.type !== "drift.detected" && e.type !== "drift.healed") return;
    if (!settleDrift(e as DriftDetectedEvent | DriftHealedEvent)) {
      while (seenEarly.length > 0 && seenEarly[0]!.time < e.time - 60_000) seenEarly.shift();
      seenEarly.push(e as DriftDetectedEvent | DriftHealedEvent);
    }
  }

  /** Marks the booked drift an engine drift event is about; false when none matched. */
  function settleDrift(e: DriftDetectedEvent | DriftHealedEvent, only?: ActiveDrift): boolean {
    let hit = false;
    for (const b of book.services.values()) {
      for (const a of [...b.drifts]) {
        if ((only !== undefined && a !== only) || !matches(a, b, e.resource)) continue;
        if (e.type === "drift.detected" && a.detectedAt === undefined) {
          a.detectedAt = e.time;
          hit = true;
        } else if (e.type === "drift.healed" && a.detectedAt !== undefined && a.healedAt === undefined) {
          a.healedAt = e.time;
          stats.selfHeals++;
          healed(b, a);
          hit = true;
        }
      }
    }
    return hit;
  }

  function onRolloutEvent(e: EventBase): void {
    mechanism.emit(e);
    if (e.type === "analysis.measurement") stats.measurements++;
    if (e.type === "rollout.timedout") {
      // progressDeadlineSeconds passed without progress (pods never ready): the rollout is
      // Degraded; without progressDeadlineAbort nothing moves until someone reverts
      const t = e as RolloutTimedOutEvent;
      const b = book.find(t.namespace, t.service);
      const d = b?.inflight;
      if (b === undefined || d === undefined || t.abort || tagOf(t.canaryImages[0] ?? "") !== d.version)
        return;
      book.finishDeploy(b, d, "failed", {
        maxWeight: t.weight,
        reason: `ProgressDeadlineExceeded: ${t.message}`,
      });
      afterAbort(b, d);
      return;
    }
    if (e.type !== "rollout.updated" && e.type !== "rollout.aborted" && e.type !== "rollout.completed")
      return;
    const r = e as RolloutUpdatedEvent | RolloutAbortedEvent | RolloutCompletedEvent;
    const b = book.find(r.namespace, r.service);
    if (b === undefined) return;
    const d = b.inflight;
    if (e.type === "rollout.updated") {
      // the on-call promotes an emergency revert straight through
      if (d?.restores !== undefined && tagOf(r.canaryImages[0] ?? "") === d.version) {
        void promote(infra.client("oncall"), b.s.namespace, b.s.name, { full: true }).catch(() => undefined);
      }
      return;
    }
    if (d === undefined || tagOf(r.canaryImages[0] ?? "") !== d.version) return;
    if (e.type === "rollout.aborted") {
      const ab = e as RolloutAbortedEvent;
      const analysisStart = d.servingSince ?? d.startedAt;
      book.finishDeploy(b, d, "aborted", {
        maxWeight: 0,
        analysisStartedAt: analysisStart,
        reason: ab.message,
      });
      infra.emit({
        type: "canary.verdict",
        time: e.time,
        service: b.s.name,
        deployId: d.id,
        verdict: "aborted",
        bad: d.bad,
        ...(ab.metric === undefined ? {} : { metric: ab.metric }),
        ...(ab.metricValue === undefined || Number.isNaN(Number(ab.metricValue))
          ? {}
          : { value: Number(ab.metricValue) }),
        timeToVerdictMs: e.time - analysisStart,
        weightAtVerdict: ab.weight,
      });
      if (d.bad) {
        const inc =
          b.incident ?? book.openIncident(b, { cause: "bad-deploy", deploy: d }, "canary", analysisStart);
        book.resolveIncident(b, "canary-abort");
        void inc;
      }
      alerts.unwatch(b.s);
      afterAbort(b, d);
    } else if (e.type === "rollout.completed") {
      book.finishDeploy(b, d, "succeeded");
      b.serving = d;
      if (d.restores === undefined && world.canaryAnalysis && scenario.delivery.canary.enabled) {
        infra.emit({
          type: "canary.verdict",
          time: e.time,
          service: b.s.name,
          deployId: d.id,
          verdict: "promoted",
          bad: d.bad,
          timeToVerdictMs: e.time - (d.servingSince ?? d.startedAt),
          weightAtVerdict: 100,
        });
      }
      if (d.restores !== undefined && b.incident?.id === d.restores) {
        const inc = book.resolveIncident(b, "revert", d.id);
        alerts.unwatch(b.s);
        if (inc?.deploy !== undefined) fixForward(b, inc.deploy.version);
      }
    }
  }

  function onVersionStart(v: VersionInfo): void {
    const b = book.find(v.namespace, v.service);
    if (b === undefined) return;
    opts.onVersionStart?.(b, v);
    const tag = tagOf(v.images[0] ?? "");
    const target = { namespace: v.namespace, service: v.service };
    const pending = b.pendingDriftRs;
    if (pending !== undefined && tag.endsWith("-dev")) {
      b.pendingDriftRs = undefined;
      if (pending.drift.harmful) {
        harmVersion(traffic, b.s, pending, v.hash);
      }
      return;
    }
    const d = book.deployOfVersion(b, tag);
    if (d === undefined || d.hash !== undefined) return;
    book.serving(d, v.hash);
    if (d.bad) {
      traffic.setVersionBehaviour(target, v.hash, releaseBehaviour(b.s, d.fault, d.params));
      alerts.watch(b.s);
    }
  }

  function onVersionStop(v: VersionInfo): void {
    const b = book.find(v.namespace, v.service);
    if (b === undefined) return;
    const d = book.deployOfHash(b, v.hash);
    if (d !== undefined) book.exposure(b, d);
  }

  // ---- changes: review, merge, push ----
  async function commitTag(
    b: ServiceBook,
    tag: string,
    message: string,
    author: string,
    reviewer?: string,
  ): Promise<string> {
    const path = `charts/${b.s.name}/values-production.yaml`;
    const current = repo.read(path);
    // the file is written only by valuesWithTag(): rewritten whole, not parsed and re-serialized
    const next =
      current === undefined || current === written.get(b.s.name)
        ? valuesWithTag(b.s, tag)
        : setValues(current, { image: { tag } });
    const who = (x: string) => ({ name: x.split("@")[0]!, email: `${x.split("@")[0]}@example.com` });
    const sha = repo.commit({
      files: { [path]: next },
      message,
      author: who(author),
      ...(reviewer === undefined ? {} : { reviewer: who(reviewer) }),
    });
    stats.commits++;
    deliver(b, sha, [path]);
    return sha;
  }

  /** The push webhook refreshes the app at once; without it, the next poll finds the commit. */
  function deliver(b: ServiceBook, sha: string, changed: string[]): void {
    // a lost webhook (webhook-loss) leaves the commit to the poll
    if (world.webhook && !faults.isWebhookLost(clock.now())) {
      stats.webhooks++;
      engine.deliverPush({
        ref: `refs/heads/${repo.branch}`,
        after: sha,
        repository: { clone_url: repoURL, default_branch: repo.branch },
        commits: [{ id: sha, modified: changed }],
      });
    } else {
      stats.polls++;
      // Argo CD polls each app every interval + 0-60 s jitter: the commit is found at a uniformly
      // distributed point of that cycle.
      const delay = Math.floor(pollRng.float() * (scenario.delivery.pollIntervalMs + 60_000));
      clock.setTimeout(() => engine.refresh(b.s.name), delay);
    }
  }

  function planned(change: PlannedChange): void {
    const b = book.get(input.services[change.service]!.name);
    book.committed(b, { ...change, rework: false });
    clock.setTimeout(() => void merge(b, change), drawDelay(rng, scenario.delivery.review));
  }

  async function merge(b: ServiceBook, change: PlannedChange, rework = false): Promise<void> {
    if (neverReady(change.fault)) crashLoopImages.add(imageOf(b.s, change.version));
    const d = book.startDeploy(b, { changeId: change.id, version: change.version, change, rework });
    d.commit = await commitTag(
      b,
      change.version,
      `Release ${b.s.name} ${change.version}`,
      change.author,
      change.reviewer,
    );
  }

  /** After an abort the team reverts the release in Git, then ships a fixed (or the same good) version. */
  function afterAbort(b: ServiceBook, d: Deploy): void {
    clock.setTimeout(
      () => {
        b.version = d.previousVersion;
        void commitTag(
          b,
          d.previousVersion,
          `Revert "Release ${b.s.name} ${d.version}"`,
          `oncall@${b.s.team}`,
          `oncall@${b.s.team}`,
        );
      },
      drawDelay(rng, scenario.delivery.review),
    );
    if (d.bad) fixForward(b, d.version);
    else if (!d.changeId.endsWith("-retry")) retryLater(b, d);
  }

  function fixForward(b: ServiceBook, badVersion: string): void {
    clock.setTimeout(
      () => {
        const change = book.unplannedChange(b, `${b.s.name}/fix-${badVersion}`, `${badVersion}-fix`, true);
        void merge(b, change, true);
      },
      drawDelay(rng, people.fixForward),
    );
  }

  /** A good version the canary aborted (a false abort) is shipped again after someone looked. */
  function retryLater(b: ServiceBook, d: Deploy): void {
    clock.setTimeout(
      () => {
        void merge(b, book.unplannedChange(b, `${d.changeId}-retry`, `${d.version}-r`, false));
      },
      drawDelay(rng, people.fixForward),
    );
  }

  // ---- escaped failures: alert, people, revert commit ----
  function onAlert(f: AlertFiring): void {
    const b = book.get(f.service.name);
    if (b.incident !== undefined) return;
    const bad =
      b.inflight?.bad === true && b.inflight.servingSince !== undefined
        ? b.inflight
        : b.serving?.bad === true
          ? b.serving
          : undefined;
    if (bad === undefined) return;
    const inc = book.openIncident(
      b,
      { cause: "bad-deploy", deploy: bad },
      "alert",
      bad.servingSince ?? f.pendingSince,
    );
    const ack = drawDelay(rng, people.acknowledge);
    if (b.inflight === bad) {
      // still a canary: the on-call aborts it (kubectl argo rollouts abort)
      clock.setTimeout(
        () => void abortRollout(infra.client("oncall"), b.s.namespace, b.s.name).catch(() => undefined),
        ack,
      );
      return;
    }
    clock.setTimeout(() => {
      const id = `${b.s.name}/revert-${inc.id.split("/").pop()}`;
      book.committed(b, {
        id,
        version: bad.previousVersion,
        author: `oncall@${b.s.team}`,
        bad: false,
        rework: true,
      });
      const d = book.startDeploy(b, { changeId: id, version: bad.previousVersion, rework: true });
      d.restores = inc.id;
      void commitTag(
        b,
        bad.previousVersion,
        `Revert "Release ${b.s.name} ${bad.version}"`,
        `oncall@${b.s.team}`,
        `oncall@${b.s.team}`,
      ).then((sha) => {
        d.commit = sha;
      });
    }, ack + drawDelay(rng, scenario.delivery.emergencyChange));
  }

  // ---- drift: people (and autoscalers) writing outside Git ----
  function matches(
    a: ActiveDrift,
    b: ServiceBook,
    r: { kind: string; namespace: string; name: string },
  ): boolean {
    const want = driftTarget(a.drift.kind, b.s);
    return r.kind === want.kind && r.namespace === b.s.namespace && r.name === want.name;
  }

  function driftTarget(
    kind: PlannedDrift["kind"],
    s: FleetService,
  ): { apiVersion: string; kind: string; name: string } {
    if (kind === "configmap-edit") return { apiVersion: "v1", kind: "ConfigMap", name: `${s.name}-config` };
    if (kind === "resource-deleted") return { apiVersion: "v1", kind: "Service", name: `${s.name}-canary` };
    return { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: s.name };
  }

  function healed(b: ServiceBook, a: ActiveDrift): void {
    if (a.harmfulHash !== undefined && a.drift.kind === "configmap-edit") {
      const d = book.deployOfHash(b, a.harmfulHash);
      traffic.setVersionBehaviour(
        { namespace: b.s.namespace, service: b.s.name },
        a.harmfulHash,
        releaseBehaviour(b.s, d?.fault, d?.params ?? {}),
      );
    }
    book.driftResolved(b, a);
  }

  async function makeDrift(dr: PlannedDrift): Promise<void> {
    const b = book.get(input.services[dr.service]!.name);
    const s = b.s;
    const t = driftTarget(dr.kind, s);
    const ref = { ...t, namespace: s.namespace };
    const identity =
      dr.kind === "replicas-frozen"
        ? "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
        : dr.identity;
    const client = infra.client(identity);
    const writeStart = clock.now();
    let allowed = true;
    try {
      switch (dr.kind) {
        case "configmap-edit":
          await client.patch(ref, { data: { FEATURE_FLAGS: `debug-${dr.identity}` } }, "merge", {
            fieldManager: "kubectl-edit",
          });
          break;
        case "replicas-frozen":
          await client.patch(ref, { spec: { replicas: s.replicas + 1 } }, "merge", {
            fieldManager: "kube-controller-manager",
          });
          break;
        case "image-override":
          await client.patch(
            ref,
            {
              spec: {
                template: { spec: { containers: [{ name: s.name, image: `${imageOf(s, b.version)}-dev` }] } },
              },
            },
            "merge",
            { fieldManager: "kubectl-edit" },
          );
          break;
        case "env-change": {
          const ro = await client.get<{
            apiVersion: string;
            kind: string;
            metadata: object;
            spec: {
              template: { spec: { containers: Array<{ env?: Array<{ name: string; value: string }> }> } };
            };
          }>(ref);
          const c0 = ro.spec.template.spec.containers[0];
          const env = (c0?.env ?? []).map((e) => (e.name === "LOG_LEVEL" ? { ...e, value: "debug" } : e));
          await client.patch(
            ref,
            [{ op: "replace", path: "/spec/template/spec/containers/0/env", value: env }],
            "json",
            { fieldManager: "kubectl-set" },
          );
          break;
        }
        case "resource-deleted":
          await client.delete(ref);
          break;
      }
    } catch {
      allowed = false;
    }
    const active = book.driftInjected(b, dr, { ...ref }, allowed);
    if (!allowed) return;
    for (const e of seenEarly.filter((x) => x.time >= writeStart)) settleDrift(e, active);
    if (active.healedAt !== undefined) return; // reverted before the writer saw its response
    if (dr.kind === "image-override") b.pendingDriftRs = active;
    if (dr.kind === "configmap-edit" && dr.harmful && b.serving?.hash !== undefined) {
      harmVersion(traffic, s, active, b.serving.hash, b.serving);
    }
  }

  // ---- migration: services that ran by hand come under Argo CD ----
  async function adopt(services: readonly FleetService[], message: string): Promise<string> {
    const files: Record<string, string> = {};
    const created = services.map((s) => serviceFiles(s, book.get(s.name).version, files));
    const sha = repo.commit({ files, message, author: PLATFORM, reviewer: PLATFORM });
    stats.commits++;
    for (const app of created) await admin.apply(app, { fieldManager: "bootstrap", force: true });
    return sha;
  }

  function carryBehaviour(b: ServiceBook, d: Deploy, hash: string): void {
    traffic.setVersionBehaviour(
      { namespace: b.s.namespace, service: b.s.name },
      hash,
      releaseBehaviour(b.s, d.fault, d.params),
    );
    alerts.watch(b.s);
  }

  return {
    engine,
    planned,
    submit: (b, change, rework) => {
      clock.setTimeout(() => void merge(b, change, rework), drawDelay(rng, scenario.delivery.review));
    },
    makeDrift,
    adopt,
    carryBehaviour,
    stop: async () => {
      const out = { ...stats, alertEvaluations: alerts.evaluations };
      alerts.stop();
      binder.stop();
      rollouts.stop();
      await engine.stop();
      await gitSource.close();
      return out;
    },
  };
}

export async function runGitopsWorld(input: WorldInput): Promise<WorldResult> {
  const infra = new Infra(input);
  const { clock, cluster } = infra;
  const { scenario, plan, world } = input;
  const book = new WorldBook(infra, input.services, "gitops");
  const crashLoopImages = crashLoopPods(infra);
  await infra.startControllers();
  const gitops = await startGitopsOperator(infra, input, book, { crashLoopImages, services: input.services });
  const { engine } = gitops;
  await infra.runUntil(scenario.startMs);

  // ---- access revocation (the case study's week 4) ----
  function revokeAccess(): void {
    // people lose write access; the autoscaler and the on-call's break-glass account keep it
    // (the engine, the rollout controller and the cluster's controllers are system:masters)
    cluster.setPolicy({
      rules: [
        {
          users: ["system:serviceaccount:kube-system:horizontal-pod-autoscaler", "oncall"],
          namespaces: ["*"],
        },
      ],
      default: "deny",
    });
  }

  // ---- schedule the plan and run ----
  const start = clock.now();
  for (const c of plan.changes) clock.setTimeout(() => gitops.planned(c), c.time - start);
  for (const dr of plan.drifts) clock.setTimeout(() => void gitops.makeDrift(dr), dr.time - start);
  if (scenario.access.revokeAtMs !== undefined)
    clock.setTimeout(revokeAccess, scenario.access.revokeAtMs - (start - scenario.startMs));
  for (const ev of scenario.events)
    if (ev.revokeAccess !== undefined && (ev.world === undefined || ev.world === world.name))
      clock.setTimeout(revokeAccess, scenario.startMs + ev.atMs - start);
  scheduleInfraFaults(infra, { engine, faults: infra.faults });
  await infra.runToEnd();

  book.close();
  const stats = await gitops.stop();
  await infra.stop();
  return { stats: { ...book.counts, ...stats, apiWrites: infra.writes } };
}
