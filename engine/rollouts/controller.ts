/**
 * The Rollout controller (canary strategy): level-based reconcile(namespace, name)
 * -> {requeueAfterMs}. Each call reads the Rollout, its ReplicaSets and
 * AnalysisRuns, moves the canary step machine as far as the observed state
 * allows, scales ReplicaSets, sets traffic weights, writes the status (a merge
 * patch of what changed) and records events.
 *
 * Outcomes: Rollout gone -> {}; invalid spec -> InvalidSpec condition, {};
 * waiting on pods / analysis -> {} (watches on ReplicaSets and AnalysisRuns
 * re-trigger it); timed waits (pause durations, scale-down delays) ->
 * {requeueAfterMs}; a write conflict -> {requeueAfterMs: 0}.
 */
import { type Clock, parseDuration, parseTime, rfc3339 } from "../core/clock.ts";
import { type EventSink, NULL_SINK } from "../core/events.ts";
import type { TrafficRouter } from "../core/traffic-router.ts";
import { type KubeClient, type KubeObject, isConflict, isNotFound, refOf } from "../kube/types.ts";
import { ARGO_API_VERSION, type AnalysisRun } from "../analysis/types.ts";
import { TemplateNotFoundError, fetchTemplates, newAnalysisRun } from "./analysis-runs.ts";
import type { RolloutCaches } from "./cache.ts";
import type { RolloutEvent } from "./events.ts";
import { type EventRecorder, NULL_RECORDER } from "./recorder.ts";
import { canaryReplicasForWeight, canaryStableReplicas, podTemplateHash, replicaWeight } from "./replicas.ts";
import { copyJson, getIfExists, memoFrozen, mergeDiff } from "../analysis/kube-util.ts";
import { calculatePhase, getCondition, removeCondition, setCondition } from "./status.ts";
import {
  type CanaryStep,
  DEFAULTS,
  POD_HASH_LABEL,
  REVISION_ANNOTATION,
  ROLLOUT_TYPE_LABEL,
  type Rollout,
  type RolloutAnalysis,
  type RolloutStatus,
  STEP_INDEX_LABEL,
  replicasOf,
} from "./types.ts";
import { type RolloutIssue, validateRollout } from "./validate.ts";

export interface ReplicaSet extends KubeObject {
  spec: {
    replicas?: number;
    selector?: unknown;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: unknown };
  };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export interface RolloutControllerOptions {
  client: KubeClient;
  clock: Clock;
  events?: EventSink<RolloutEvent>;
  recorder?: EventRecorder;
  trafficRouter?: TrafficRouter;
  /**
   * Informer caches to read Rollouts, ReplicaSets and AnalysisRuns from (RolloutsManager
   * provides them); the controller records its own writes in them. Without caches every
   * reconcile reads the API server (a get and two namespace lists).
   */
  caches?: RolloutCaches;
  /** Told every object this controller wrote, as the API server returned it. */
  onWrite?: (obj: KubeObject) => void;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** Label marking AnalysisRuns of an aborted or promoted-past attempt, which the controller no longer reads. */
export const SUPERSEDED_LABEL = "rollouts.gitops-testbed.io/superseded";
const SCALE_DOWN_DEADLINE = "scale-down-deadline";

function images(template: unknown): string[] {
  const spec = (template as { spec?: { containers?: Array<{ image?: string }> } } | undefined)?.spec;
  return (spec?.containers ?? []).map((c) => c.image ?? "").filter((i) => i !== "");
}

function stepLabel(step: CanaryStep): string {
  if (step.setWeight !== undefined) return `setWeight: ${step.setWeight}`;
  if (step.pause !== undefined)
    return step.pause.duration === undefined ? "pause" : `pause: ${step.pause.duration}`;
  if (step.analysis !== undefined) return "analysis";
  if (step.setCanaryScale !== undefined) return "setCanaryScale";
  if (step.experiment !== undefined) return "experiment";
  return "unknown";
}

function pauseDurationMs(d: string | number | undefined): number | undefined {
  if (d === undefined) return undefined;
  return typeof d === "number" ? d * 1000 : parseDuration(d);
}

/** A label selector's matchLabels as status.selector writes them ("k=v,k2=v2"). */
function formatMatchLabels(labels: Record<string, string>): string {
  let out = "";
  for (const [k, v] of Object.entries(labels)) out += `${out === "" ? "" : ","}${k}=${v}`;
  return out;
}

function revisionOf(obj: KubeObject | undefined): number {
  const r = obj?.metadata.annotations?.[REVISION_ANNOTATION];
  return r === undefined ? 0 : Number.parseInt(r, 10) || 0;
}

interface Ctx {
  ro: Rollout;
  ns: string;
  name: string;
  now: number;
  status: RolloutStatus;
  steps: CanaryStep[];
  hash: string;
  newRS: ReplicaSet;
  stableRS: ReplicaSet | undefined;
  rsList: ReplicaSet[];
  /** AnalysisRuns the controller still reads (not superseded). */
  runs: AnalysisRun[];
  /** Every AnalysisRun the Rollout owns, superseded ones included (for the history limits). */
  allRuns: AnalysisRun[];
  revision: number;
  requeue: number | undefined;
  trafficRouting: boolean;
  /** Canary weight decided by this reconcile. */
  weight: number;
  /** With traffic routing, an aborted canary keeps its pods until this time (abortScaleDownDelaySeconds). */
  abortHoldUntil?: number;
  /** Why the rollout aborts in this reconcile (analysis verdict), if it does. */
  abortWhy?: { message: string; run?: AnalysisRun };
  pending: Array<() => Promise<void>>;
  /** Typed events of this reconcile, emitted once ReplicaSets and traffic reflect them. */
  out: RolloutEvent[];
}

export class RolloutController {
  private readonly events: EventSink<RolloutEvent>;
  private readonly recorder: EventRecorder;
  /** rollout.updated time per namespace/name/hash, for completion durations. */
  private readonly updatedAt = new Map<string, number>();
  /** Derived from a cached Rollout's immutable spec once, not on every reconcile (see memoFrozen). */
  private readonly specIssues = new WeakMap<object, RolloutIssue[]>();
  private readonly templateHash = new WeakMap<object, string>();
  /** status.selector by (frozen) spec.selector.matchLabels. */
  private readonly selectors = new WeakMap<object, string>();

  constructor(private readonly opts: RolloutControllerOptions) {
    this.events = opts.events ?? (NULL_SINK as EventSink<RolloutEvent>);
    this.recorder = opts.recorder ?? NULL_RECORDER;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { clock } = this.opts;
    const ro = await this.getRollout(namespace, name);
    if (ro === undefined) return {};
    const now = clock.now();
    const before = ro.status ?? {};
    const status: RolloutStatus = copyJson(before);
    status.observedGeneration = String(ro.metadata.generation ?? 1);
    const issues = memoFrozen(this.specIssues, ro.spec, () =>
      validateRollout(ro).filter((i) => i.warning !== true),
    );
    if (issues.length > 0) {
      const msg = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
      const first = issues[0]!;
      const message = first.unsupported === true ? first.message : `The Rollout "${name}" is invalid: ${msg}`;
      setCondition(status, "InvalidSpec", "True", "InvalidSpec", message, now);
      const ph = calculatePhase({ status, specPaused: ro.spec.paused === true, replicas: replicasOf(ro) });
      status.phase = ph.phase;
      status.message = ph.message;
      return this.writeStatus(ro, before, status);
    }
    removeCondition(status, "InvalidSpec");

    const ctx = await this.load(ro, status, now);
    try {
      await this.progress(ctx);
    } catch (e) {
      if (e instanceof TemplateNotFoundError) {
        setCondition(
          status,
          "InvalidSpec",
          "True",
          "InvalidSpec",
          `The Rollout "${name}" is invalid: ${e.message}`,
          now,
        );
      } else throw e;
    }
    await this.scale(ctx);
    if (this.computeStatus(ctx)) {
      // progressDeadlineAbort: the timed-out update is aborted in this same reconcile
      ctx.abortWhy = { message: getCondition(status, "Progressing")!.message };
      await this.abort(ctx);
      await this.scale(ctx);
      this.computeStatus(ctx);
    }
    for (const p of ctx.pending) await p();
    await this.pruneRuns(ctx);
    const res = await this.writeStatus(ro, before, status);
    if (res.requeueAfterMs === 0) return res; // not persisted: the retry redoes (and reports) it
    for (const e of ctx.out) this.events.emit(e);
    return ctx.requeue === undefined ? {} : { requeueAfterMs: Math.max(0, ctx.requeue - now) };
  }

  private async getRollout(namespace: string, name: string): Promise<Rollout | undefined> {
    const caches = this.opts.caches;
    if (caches !== undefined) return caches.rollouts.get(namespace, name);
    return getIfExists<Rollout>(this.opts.client, {
      apiVersion: ARGO_API_VERSION,
      kind: "Rollout",
      namespace,
      name,
    });
  }

  /** Objects of a kind owned by the Rollout (from the caches, else listed from the API server). */
  private async owned<T extends KubeObject>(
    ro: Rollout,
    apiVersion: string,
    kind: "ReplicaSet" | "AnalysisRun",
  ): Promise<T[]> {
    const uid = ro.metadata.uid;
    const caches = this.opts.caches;
    if (caches !== undefined) {
      return (kind === "ReplicaSet" ? caches.replicaSets : caches.analysisRuns).ownedBy(
        uid,
      ) as KubeObject[] as T[];
    }
    const list = await this.opts.client.list<T>(apiVersion, kind, {
      namespace: ro.metadata.namespace ?? "default",
    });
    return list.items.filter((o) =>
      (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.kind === "Rollout"),
    );
  }

  /** Record the response of a write in the caches, so the next reconcile reads it even before its watch event. */
  private wrote<T extends KubeObject>(obj: T): T {
    this.opts.onWrite?.(obj);
    const caches = this.opts.caches;
    if (caches === undefined) return obj;
    if (obj.kind === "ReplicaSet") caches.replicaSets.upsert(obj as KubeObject as ReplicaSet);
    else if (obj.kind === "AnalysisRun") caches.analysisRuns.upsert(obj as KubeObject as AnalysisRun);
    else if (obj.kind === "Rollout") caches.rollouts.upsert(obj as KubeObject as Rollout);
    return obj;
  }

  private async writeStatus(
    ro: Rollout,
    before: RolloutStatus,
    after: RolloutStatus,
  ): Promise<ReconcileResult> {
    const patch = mergeDiff(before, after);
    if (patch === undefined) return {};
    try {
      this.wrote(
        await this.opts.client.patch<Rollout>(refOf(ro), { status: patch }, "merge", {
          subresource: "status",
        }),
      );
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 0 };
      if (isNotFound(e)) return {};
      throw e;
    }
    return {};
  }

  private wake(ctx: Ctx, atMs: number): void {
    if (ctx.requeue === undefined || atMs < ctx.requeue) ctx.requeue = atMs;
  }

  // ---- loading and ReplicaSets ----------------------------------------------------------------

  private async load(ro: Rollout, status: RolloutStatus, now: number): Promise<Ctx> {
    const ns = ro.metadata.namespace ?? "default";
    const name = ro.metadata.name ?? "";
    const rsList = await this.owned<ReplicaSet>(ro, "apps/v1", "ReplicaSet");
    const allRuns = await this.owned<AnalysisRun>(ro, ARGO_API_VERSION, "AnalysisRun");
    const runs = allRuns.filter((r) => r.metadata.labels?.[SUPERSEDED_LABEL] === undefined);
    const hash =
      status.collisionCount === undefined && ro.spec.template !== undefined
        ? memoFrozen(this.templateHash, ro.spec.template, podTemplateHash)
        : podTemplateHash(ro.spec.template, status.collisionCount);
    const steps = ro.spec.strategy?.canary?.steps ?? [];
    let newRS = rsList.find((rs) => rs.metadata.labels?.[POD_HASH_LABEL] === hash);
    // no stable yet and no other version: the first deploy (also when its first status write was lost)
    const firstDeploy =
      status.stableRS === undefined && rsList.every((rs) => rs.metadata.labels?.[POD_HASH_LABEL] === hash);
    const maxRev = rsList.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    if (newRS === undefined) {
      newRS = await this.createReplicaSet(ro, hash, maxRev + 1, firstDeploy ? replicasOf(ro) : 0);
      rsList.push(newRS);
    } else if (status.currentPodHash !== hash && revisionOf(newRS) < maxRev) {
      // rolling back to an older template: upstream gives its ReplicaSet the next revision
      newRS = await this.patchRS(newRS, {
        metadata: { annotations: { [REVISION_ANNOTATION]: String(maxRev + 1) } },
      });
      rsList.splice(
        rsList.findIndex((r) => r.metadata.name === newRS!.metadata.name),
        1,
        newRS,
      );
    }
    const ctx: Ctx = {
      ro,
      ns,
      name,
      now,
      status,
      steps,
      hash,
      newRS,
      stableRS: undefined,
      rsList,
      runs,
      allRuns,
      revision: revisionOf(newRS),
      requeue: undefined,
      trafficRouting: ro.spec.strategy?.canary?.trafficRouting !== undefined,
      weight: 0,
      pending: [],
      out: [],
    };
    if (firstDeploy) {
      status.stableRS = hash;
      status.currentPodHash = hash;
      status.currentStepIndex = steps.length;
    }
    if (status.currentPodHash !== hash) await this.startUpdate(ctx);
    ctx.stableRS = rsList.find((rs) => rs.metadata.labels?.[POD_HASH_LABEL] === status.stableRS);
    return ctx;
  }

  private async createReplicaSet(
    ro: Rollout,
    hash: string,
    revision: number,
    replicas: number,
  ): Promise<ReplicaSet> {
    const template = structuredClone(ro.spec.template ?? {});
    template.metadata = {
      ...(template.metadata ?? {}),
      labels: { ...(template.metadata?.labels ?? {}), [POD_HASH_LABEL]: hash },
    };
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${ro.metadata.name}-${hash}`,
        namespace: ro.metadata.namespace ?? "default",
        labels: { ...(ro.spec.template?.metadata?.labels ?? {}), [POD_HASH_LABEL]: hash },
        annotations: { [REVISION_ANNOTATION]: String(revision) },
        ownerReferences: [
          {
            apiVersion: ro.apiVersion,
            kind: "Rollout",
            name: ro.metadata.name ?? "",
            uid: ro.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas,
        selector: { matchLabels: { ...(ro.spec.selector?.matchLabels ?? {}), [POD_HASH_LABEL]: hash } },
        template: template as ReplicaSet["spec"]["template"],
      },
    };
    const created = this.wrote(await this.opts.client.create(rs));
    await this.recorder.record(
      ro,
      "Normal",
      "NewReplicaSetCreated",
      `Created ReplicaSet ${rs.metadata.name} (revision ${revision})`,
    );
    return created;
  }

  private patchRS(rs: ReplicaSet, patch: unknown): Promise<ReplicaSet> {
    return this.opts.client.patch<ReplicaSet>(refOf(rs), patch, "merge").then((r) => this.wrote(r));
  }

  private base(ctx: Ctx) {
    const stable = ctx.rsList.find((rs) => rs.metadata.labels?.[POD_HASH_LABEL] === ctx.status.stableRS);
    return {
      time: ctx.now,
      namespace: ctx.ns,
      service: ctx.name,
      revision: ctx.revision,
      stableHash: ctx.status.stableRS,
      canaryHash: ctx.hash,
      stableImages: images(stable?.spec.template),
      canaryImages: images(ctx.ro.spec.template),
      weight: ctx.weight,
    };
  }

  /** A new pod template was observed: start a fresh rollout of it. */
  private async startUpdate(ctx: Ctx): Promise<void> {
    const s = ctx.status;
    s.currentPodHash = ctx.hash;
    s.currentStepIndex = 0;
    delete s.abort;
    delete s.abortedAt;
    delete s.pauseConditions;
    delete s.promoteFull;
    s.controllerPause = false;
    if (s.canary !== undefined) {
      delete s.canary.currentStepAnalysisRunStatus;
      delete s.canary.currentBackgroundAnalysisRunStatus;
    }
    if (getCondition(s, "Progressing")?.reason === "RolloutAborted") removeCondition(s, "Progressing");
    await this.supersedeRuns(ctx, (r) => r.metadata.labels?.[POD_HASH_LABEL] !== ctx.hash);
    if (s.stableRS === ctx.hash) s.currentStepIndex = ctx.steps.length;
    this.updatedAt.set(`${ctx.ns}/${ctx.name}/${ctx.hash}`, ctx.now);
    ctx.out.push({ type: "rollout.updated", ...this.base(ctx) });
    await this.recorder.record(
      ctx.ro,
      "Normal",
      "RolloutUpdated",
      `Rollout updated to revision ${ctx.revision}`,
    );
  }

  /** Terminate and stop reading AnalysisRuns matching `pred`. */
  private async supersedeRuns(ctx: Ctx, pred: (r: AnalysisRun) => boolean): Promise<void> {
    const keep: AnalysisRun[] = [];
    for (const r of ctx.runs) {
      if (!pred(r)) {
        keep.push(r);
        continue;
      }
      const done = ["Successful", "Failed", "Error", "Inconclusive"].includes(r.status?.phase ?? "");
      await this.opts.client
        .patch<AnalysisRun>(
          refOf(r),
          {
            metadata: { labels: { [SUPERSEDED_LABEL]: "true" } },
            ...(done ? {} : { spec: { terminate: true } }),
          },
          "merge",
        )
        .then((patched) => this.wrote(patched))
        .catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
    }
    ctx.runs = keep;
  }

  // ---- the step machine -----------------------------------------------------------------------

  private async progress(ctx: Ctx): Promise<void> {
    const s = ctx.status;
    if (s.stableRS === ctx.hash) {
      ctx.weight = 0;
      s.currentStepIndex = ctx.steps.length;
      await this.terminateBackground(ctx);
      return;
    }
    if (s.abort === true) return this.aborted(ctx);
    if (s.promoteFull === true) s.currentStepIndex = ctx.steps.length;
    for (let guard = 0; guard <= ctx.steps.length + 1; guard++) {
      const i = s.currentStepIndex ?? 0;
      ctx.weight = this.desiredWeight(ctx, i);
      if (!(await this.background(ctx))) return;
      if (i >= ctx.steps.length) return this.complete(ctx);
      if (ctx.ro.spec.paused === true) return;
      const step = ctx.steps[i]!;
      const done = await this.stepDone(ctx, step, i);
      if (ctx.abortWhy !== undefined) return this.abort(ctx);
      if (!done) return;
      s.currentStepIndex = i + 1;
      s.controllerPause = false;
      delete s.pauseConditions;
      ctx.out.push({
        type: "rollout.step",
        ...this.base(ctx),
        stepIndex: i,
        steps: ctx.steps.length,
        step: stepLabel(step),
      });
      await this.recorder.record(
        ctx.ro,
        "Normal",
        "RolloutStepCompleted",
        `Rollout step ${i + 1}/${ctx.steps.length} completed (${stepLabel(step)})`,
      );
    }
  }

  /** Upstream GetCurrentSetWeight: the last setWeight at or before step i; 100 once all steps are done. */
  private desiredWeight(ctx: Ctx, i: number): number {
    if (i >= ctx.steps.length) return 100;
    for (let j = Math.min(i, ctx.steps.length - 1); j >= 0; j--) {
      const w = ctx.steps[j]!.setWeight;
      if (w !== undefined) return w;
    }
    return 0;
  }

  private async stepDone(ctx: Ctx, step: CanaryStep, i: number): Promise<boolean> {
    const s = ctx.status;
    if (step.setWeight !== undefined) {
      const want = this.canaryCounts(ctx).canary;
      return (ctx.newRS.spec.replicas ?? 0) === want && (ctx.newRS.status?.availableReplicas ?? 0) >= want;
    }
    if (step.pause !== undefined) {
      const cond = s.pauseConditions?.find((p) => p.reason === "CanaryPauseStep");
      const dur = pauseDurationMs(step.pause.duration);
      if (cond === undefined) {
        if (s.controllerPause === true) return true; // promoted: the user cleared the pause condition
        s.pauseConditions = [
          ...(s.pauseConditions ?? []),
          { reason: "CanaryPauseStep", startTime: rfc3339(ctx.now) },
        ];
        s.controllerPause = true;
        ctx.out.push({ type: "rollout.paused", ...this.base(ctx), reason: "CanaryPauseStep" });
        await this.recorder.record(ctx.ro, "Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)");
        if (dur === undefined) return false;
        if (dur <= 0) return true;
        this.wake(ctx, ctx.now + dur);
        return false;
      }
      if (dur === undefined) return false;
      const end = parseTime(cond.startTime) + dur;
      if (ctx.now >= end) {
        await this.recorder.record(ctx.ro, "Normal", "RolloutResumed", "Rollout is resumed");
        return true;
      }
      this.wake(ctx, end);
      return false;
    }
    if (step.analysis !== undefined) {
      const run = await this.ensureRun(ctx, step.analysis, i);
      const phase = run.status?.phase;
      s.canary = {
        ...(s.canary ?? {}),
        currentStepAnalysisRunStatus: {
          name: run.metadata.name ?? "",
          status: phase ?? "Pending",
          ...(run.status?.message !== undefined ? { message: run.status.message } : {}),
        },
      };
      if (phase === "Successful") return true;
      if (phase === "Failed" || phase === "Error") {
        ctx.abortWhy = { message: run.status?.message ?? `AnalysisRun ${run.metadata.name} ${phase}`, run };
        return false;
      }
      if (phase === "Inconclusive") return this.inconclusive(ctx, run);
      return false;
    }
    if (step.setCanaryScale !== undefined) return true;
    if (step.experiment !== undefined) {
      await this.recorder.record(
        ctx.ro,
        "Warning",
        "ExperimentStepSkipped",
        "experiment steps are not supported by gitops-testbed; step skipped",
      );
      return true;
    }
    return true;
  }

  /** Pause on an inconclusive run; after a promote the run counts as passed. */
  private async inconclusive(ctx: Ctx, run: AnalysisRun): Promise<boolean> {
    const s = ctx.status;
    const cond = s.pauseConditions?.find((p) => p.reason === "InconclusiveAnalysisRun");
    if (cond === undefined && s.controllerPause === true) {
      await this.supersedeRuns(ctx, (r) => r.metadata.name === run.metadata.name);
      return true;
    }
    if (cond === undefined) {
      s.pauseConditions = [
        ...(s.pauseConditions ?? []),
        { reason: "InconclusiveAnalysisRun", startTime: rfc3339(ctx.now) },
      ];
      s.controllerPause = true;
      ctx.out.push({ type: "rollout.paused", ...this.base(ctx), reason: "InconclusiveAnalysisRun" });
      await this.recorder.record(
        ctx.ro,
        "Normal",
        "RolloutPaused",
        "Rollout is paused (InconclusiveAnalysisRun)",
      );
    }
    return false;
  }

  /** Background analysis: returns false when it stops progress (abort or inconclusive pause). */
  private async background(ctx: Ctx): Promise<boolean> {
    const bg = ctx.ro.spec.strategy?.canary?.analysis;
    const s = ctx.status;
    const i = s.currentStepIndex ?? 0;
    if (bg === undefined || (bg.templates ?? []).length === 0) return true;
    if (i < (bg.startingStep ?? 0) || i >= ctx.steps.length) return true;
    const run = await this.ensureRun(ctx, bg, undefined);
    const phase = run.status?.phase;
    s.canary = {
      ...(s.canary ?? {}),
      currentBackgroundAnalysisRunStatus: {
        name: run.metadata.name ?? "",
        status: phase ?? "Pending",
        ...(run.status?.message !== undefined ? { message: run.status.message } : {}),
      },
    };
    if (phase === "Failed" || phase === "Error") {
      ctx.abortWhy = { message: run.status?.message ?? `AnalysisRun ${run.metadata.name} ${phase}`, run };
      await this.abort(ctx);
      return false;
    }
    if (phase === "Inconclusive") {
      if (await this.inconclusive(ctx, run)) return true;
      return false;
    }
    return true;
  }

  private async terminateBackground(ctx: Ctx): Promise<void> {
    for (const r of ctx.runs) {
      if (r.metadata.labels?.[ROLLOUT_TYPE_LABEL] !== "Background" || r.spec.terminate === true) continue;
      if (["Successful", "Failed", "Error", "Inconclusive"].includes(r.status?.phase ?? "")) continue;
      this.wrote(await this.opts.client.patch<AnalysisRun>(refOf(r), { spec: { terminate: true } }, "merge"));
    }
  }

  private async ensureRun(
    ctx: Ctx,
    analysis: RolloutAnalysis,
    stepIndex: number | undefined,
  ): Promise<AnalysisRun> {
    const type = stepIndex === undefined ? "Background" : "Step";
    const existing = ctx.runs.find(
      (r) =>
        r.metadata.labels?.[POD_HASH_LABEL] === ctx.hash &&
        r.metadata.labels?.[ROLLOUT_TYPE_LABEL] === type &&
        (stepIndex === undefined || r.metadata.labels?.[STEP_INDEX_LABEL] === String(stepIndex)),
    );
    if (existing !== undefined) return existing;
    const templates = await fetchTemplates(this.opts.client, ctx.ns, analysis);
    const baseName = `${ctx.name}-${ctx.hash}-${ctx.revision}${stepIndex === undefined ? "" : `-${stepIndex}`}`;
    for (let attempt = 0; attempt < 100; attempt++) {
      const run = newAnalysisRun({
        ro: ctx.ro,
        analysis,
        templates,
        name: attempt === 0 ? baseName : `${baseName}.${attempt}`,
        stableHash: ctx.status.stableRS,
        latestHash: ctx.hash,
        revision: ctx.revision,
        stepIndex,
      });
      try {
        const created = this.wrote(await this.opts.client.create(run));
        ctx.runs.push(created);
        await this.recorder.record(
          ctx.ro,
          "Normal",
          "AnalysisRunRunning",
          `${type} Analysis Run '${run.metadata.name}' Status New: 'Running' Previous: 'NotStarted'`,
        );
        return created;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    throw new Error(`could not create an AnalysisRun named ${baseName}`);
  }

  private async abort(ctx: Ctx): Promise<void> {
    const s = ctx.status;
    s.abort = true;
    return this.aborted(ctx);
  }

  private async aborted(ctx: Ctx): Promise<void> {
    const s = ctx.status;
    /** The canary's weight when the abort hit (for the event and notification). */
    const weightBefore = this.desiredWeight(ctx, s.currentStepIndex ?? 0);
    ctx.weight = 0;
    const first = s.abortedAt === undefined;
    if (first) s.abortedAt = rfc3339(ctx.now);
    s.currentStepIndex = 0;
    delete s.pauseConditions;
    s.controllerPause = false;
    const prev = getCondition(s, "Progressing");
    if (prev?.reason !== "RolloutAborted" || ctx.abortWhy !== undefined) {
      const why = ctx.abortWhy?.message;
      const message = `Rollout aborted update to revision ${ctx.revision}${why === undefined ? "" : `: ${why}`}`;
      setCondition(s, "Progressing", "False", "RolloutAborted", message, ctx.now);
      const run = ctx.abortWhy?.run;
      const m = run === undefined ? undefined : /^Metric "([^"]+)"/.exec(run.status?.message ?? "");
      const metricName = m?.[1];
      const metricValue =
        metricName === undefined
          ? undefined
          : (() => {
              const ms = run?.status?.metricResults?.find((r) => r.name === metricName)?.measurements ?? [];
              return ms[ms.length - 1]?.value;
            })();
      ctx.out.push({
        type: "rollout.aborted",
        ...this.base(ctx),
        weight: weightBefore,
        message,
        analysisRun: run?.metadata.name,
        metric: metricName,
        metricValue,
      });
      if (run !== undefined) {
        await this.recorder.record(
          ctx.ro,
          "Warning",
          `AnalysisRun${run.status?.phase ?? "Failed"}`,
          `Analysis Run '${run.metadata.name}' Status New: '${run.status?.phase}' Previous: 'Running'`,
        );
      }
      await this.recorder.record(ctx.ro, "Warning", "RolloutAborted", message);
      const hash = ctx.hash;
      await this.supersedeRuns(ctx, (r) => r.metadata.labels?.[POD_HASH_LABEL] === hash);
    }
    if (ctx.trafficRouting) {
      const delay =
        (ctx.ro.spec.strategy?.canary?.abortScaleDownDelaySeconds ?? DEFAULTS.abortScaleDownDelaySeconds) *
        1000;
      const at = parseTime(s.abortedAt!) + delay;
      if (ctx.now < at) {
        ctx.abortHoldUntil = at;
        this.wake(ctx, at);
      }
    }
  }

  private async complete(ctx: Ctx): Promise<void> {
    const s = ctx.status;
    const oldStable = s.stableRS;
    /** Event fields as of the update (old stable images, last canary weight). */
    const before = this.base(ctx);
    s.stableRS = ctx.hash;
    s.currentStepIndex = ctx.steps.length;
    delete s.promoteFull;
    delete s.pauseConditions;
    s.controllerPause = false;
    ctx.weight = 0;
    await this.terminateBackground(ctx);
    if (oldStable !== undefined && oldStable !== ctx.hash) {
      const old = ctx.rsList.find((rs) => rs.metadata.labels?.[POD_HASH_LABEL] === oldStable);
      if (old !== undefined && ctx.trafficRouting) {
        const delay =
          (ctx.ro.spec.strategy?.canary?.scaleDownDelaySeconds ?? DEFAULTS.scaleDownDelaySeconds) * 1000;
        const patched = await this.patchRS(old, {
          metadata: { annotations: { [SCALE_DOWN_DEADLINE]: rfc3339(ctx.now + delay) } },
        });
        ctx.rsList.splice(ctx.rsList.indexOf(old), 1, patched);
      }
    }
    ctx.stableRS = ctx.newRS;
    const key = `${ctx.ns}/${ctx.name}/${ctx.hash}`;
    const started = this.updatedAt.get(key);
    this.updatedAt.delete(key);
    const message = `Rollout completed update to revision ${ctx.revision} (${ctx.hash}): Completed all ${ctx.steps.length} canary steps`;
    ctx.out.push({
      type: "rollout.completed",
      ...before,
      weight: 100,
      stableHash: oldStable,
      durationMs: started === undefined ? undefined : ctx.now - started,
    });
    await this.recorder.record(ctx.ro, "Normal", "RolloutCompleted", message);
  }

  // ---- scaling and traffic --------------------------------------------------------------------

  /** Desired canary and stable replicas for the current weight and setCanaryScale. */
  private canaryCounts(ctx: Ctx): { canary: number; stable: number } {
    const replicas = replicasOf(ctx.ro);
    const s = ctx.status;
    if (s.stableRS === ctx.hash) return { canary: replicas, stable: replicas };
    if (s.abort === true) return { canary: 0, stable: replicas };
    const i = s.currentStepIndex ?? 0;
    if (i >= ctx.steps.length) return { canary: replicas, stable: replicas };
    let scale: CanaryStep["setCanaryScale"] | undefined;
    for (let j = Math.min(i, ctx.steps.length - 1); j >= 0; j--) {
      if (ctx.steps[j]!.setCanaryScale !== undefined) {
        scale = ctx.steps[j]!.setCanaryScale;
        break;
      }
    }
    if (ctx.trafficRouting) {
      let canary = canaryReplicasForWeight(replicas, ctx.weight);
      if (scale !== undefined && scale.matchTrafficWeight !== true) {
        canary = scale.replicas ?? canaryReplicasForWeight(replicas, scale.weight ?? ctx.weight);
      }
      return { canary, stable: replicas };
    }
    const maxSurge = ctx.ro.spec.strategy?.canary?.maxSurge ?? DEFAULTS.maxSurge;
    return canaryStableReplicas(
      replicas,
      ctx.weight,
      maxSurge !== 0 && maxSurge !== "0" && maxSurge !== "0%",
    );
  }

  private async scale(ctx: Ctx): Promise<void> {
    const s = ctx.status;
    const replicas = replicasOf(ctx.ro);
    const want = this.canaryCounts(ctx);
    const targets = new Map<string, number>();
    const abortDelayPending = s.abort === true && ctx.abortHoldUntil !== undefined;
    for (const rs of ctx.rsList) {
      const h = rs.metadata.labels?.[POD_HASH_LABEL];
      if (h === ctx.hash && h === s.stableRS) targets.set(rs.metadata.name ?? "", replicas);
      else if (h === ctx.hash)
        targets.set(rs.metadata.name ?? "", abortDelayPending ? (rs.spec.replicas ?? 0) : want.canary);
      else if (h === s.stableRS) targets.set(rs.metadata.name ?? "", want.stable);
      else {
        const deadline = rs.metadata.annotations?.[SCALE_DOWN_DEADLINE];
        const at = deadline === undefined ? undefined : parseTime(deadline);
        if (at !== undefined && ctx.now < at) {
          this.wake(ctx, at);
          targets.set(rs.metadata.name ?? "", rs.spec.replicas ?? 0);
        } else targets.set(rs.metadata.name ?? "", 0);
      }
    }
    for (const [i, rs] of ctx.rsList.entries()) {
      const t = targets.get(rs.metadata.name ?? "") ?? 0;
      if ((rs.spec.replicas ?? 0) !== t) {
        const patched = await this.patchRS(rs, { spec: { replicas: t } });
        ctx.rsList[i] = patched;
        if (rs.metadata.name === ctx.newRS.metadata.name) ctx.newRS = patched;
      }
    }
    await this.pruneHistory(ctx);
    const router = this.opts.trafficRouter;
    if (router !== undefined) {
      const stable = s.stableRS ?? ctx.hash;
      const canaryHash = stable === ctx.hash ? undefined : ctx.hash;
      let weight = ctx.weight;
      if (!ctx.trafficRouting && canaryHash !== undefined) {
        const canaryAvail = ctx.newRS.status?.availableReplicas ?? 0;
        const stableAvail = ctx.stableRS?.status?.availableReplicas ?? 0;
        weight =
          s.abort === true
            ? 0
            : replicaWeight(Math.min(canaryAvail, want.canary), Math.min(stableAvail, want.stable));
      }
      const current = router.getWeights({ namespace: ctx.ns, service: ctx.name });
      const w = canaryHash === undefined ? 0 : weight;
      if (
        current === undefined ||
        current.canaryHash !== canaryHash ||
        current.stableHash !== stable ||
        current.canaryWeight !== w
      ) {
        router.setWeight({ namespace: ctx.ns, service: ctx.name }, canaryHash, stable, w);
      }
    }
  }

  /** revisionHistoryLimit: delete the oldest scaled-down ReplicaSets beyond the limit. */
  private async pruneHistory(ctx: Ctx): Promise<void> {
    const limit = ctx.ro.spec.revisionHistoryLimit ?? DEFAULTS.revisionHistoryLimit;
    const old = ctx.rsList
      .filter((rs) => {
        const h = rs.metadata.labels?.[POD_HASH_LABEL];
        return (
          h !== ctx.hash &&
          h !== ctx.status.stableRS &&
          (rs.spec.replicas ?? 0) === 0 &&
          (rs.status?.replicas ?? 0) === 0
        );
      })
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of old.slice(0, Math.max(0, old.length - limit))) {
      await this.opts.client.delete(refOf(rs)).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      this.opts.caches?.replicaSets.remove(rs);
      ctx.rsList.splice(ctx.rsList.indexOf(rs), 1);
    }
  }

  /**
   * AnalysisRun history (upstream reconcileAnalysisRuns + FilterAnalysisRunsToDelete): of the runs
   * that are not the current step or background run, delete those without a pod-hash label or whose
   * ReplicaSet is gone, then keep the newest spec.analysis.successfulRunHistoryLimit (default 5)
   * Successful and unsuccessfulRunHistoryLimit (default 5) Failed/Error/Inconclusive runs. Runs
   * still running are kept.
   */
  private async pruneRuns(ctx: Ctx): Promise<void> {
    const canary = ctx.status.canary;
    const current = new Set([
      canary?.currentStepAnalysisRunStatus?.name,
      canary?.currentBackgroundAnalysisRunStatus?.name,
    ]);
    // runs created in this reconcile are current ones, so ctx.allRuns (as loaded) holds every other
    const others = ctx.allRuns.filter((r) => !current.has(r.metadata.name));
    if (others.length === 0) return;
    const limits = ctx.ro.spec.analysis;
    const doomed = analysisRunsToDelete(
      others,
      ctx.rsList,
      limits?.successfulRunHistoryLimit ?? DEFAULTS.successfulRunHistoryLimit,
      limits?.unsuccessfulRunHistoryLimit ?? DEFAULTS.unsuccessfulRunHistoryLimit,
    );
    for (const run of doomed) {
      await this.opts.client.delete(refOf(run)).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      this.opts.caches?.analysisRuns.remove(run);
    }
    if (doomed.length > 0) {
      const gone = new Set(doomed.map((r) => r.metadata.name));
      ctx.runs = ctx.runs.filter((r) => !gone.has(r.metadata.name));
      ctx.allRuns = ctx.allRuns.filter((r) => !gone.has(r.metadata.name));
    }
  }

  // ---- status ---------------------------------------------------------------------------------

  /**
   * The Progressing condition of a rollout that is neither paused, aborted nor complete
   * (upstream calculateRolloutConditions): any progress since the last status (replicas
   * updated, ready or available, old ones scaled down, a step or the stable changed)
   * refreshes ReplicaSetUpdated's lastUpdateTime; without progress for
   * progressDeadlineSeconds (default 600) outside a pause, analysis or experiment step,
   * the condition becomes False/ProgressDeadlineExceeded (phase Degraded). Returns true
   * when that timeout just happened and spec.progressDeadlineAbort asks for an abort.
   */
  private progressing(ctx: Ctx): boolean {
    const s = ctx.status;
    const prev = ctx.ro.status ?? {};
    const rsName = ctx.newRS.metadata.name ?? "";
    const cond = getCondition(s, "Progressing");
    const deadlineMs = (ctx.ro.spec.progressDeadlineSeconds ?? DEFAULTS.progressDeadlineSeconds) * 1000;
    const stepIndex = s.currentStepIndex ?? 0;
    const step = stepIndex < ctx.steps.length ? ctx.steps[stepIndex] : undefined;
    const indefinite =
      step !== undefined &&
      (step.pause !== undefined || step.analysis !== undefined || step.experiment !== undefined);
    const becameUnhealthy = s.stableRS === ctx.hash && cond?.reason === "NewReplicaSetAvailable";
    const counting =
      cond !== undefined &&
      ["ReplicaSetUpdated", "ReplicaSetNotAvailable", "ProgressDeadlineExceeded"].includes(cond.reason);
    if (!counting || becameUnhealthy || progressMade(prev, s)) {
      // (re)start the clock: lastUpdateTime = now even when the reason stays ReplicaSetUpdated
      const unhealthy =
        becameUnhealthy || (s.stableRS === ctx.hash && cond?.reason === "ReplicaSetNotAvailable");
      removeCondition(s, "Progressing");
      setCondition(
        s,
        "Progressing",
        "True",
        unhealthy ? "ReplicaSetNotAvailable" : "ReplicaSetUpdated",
        unhealthy ? "Rollout does not have minimum availability" : `ReplicaSet "${rsName}" is progressing.`,
        ctx.now,
      );
      const kept = cond?.status === "True" ? cond.lastTransitionTime : undefined;
      if (kept !== undefined) {
        s.conditions = s.conditions!.map((c) =>
          c.type === "Progressing" ? { ...c, lastTransitionTime: kept } : c,
        );
      }
      if (!indefinite) this.wake(ctx, Math.floor(ctx.now / 1000) * 1000 + deadlineMs + 1000);
      return false;
    }
    if (indefinite) return false;
    const from = parseTime(cond.lastUpdateTime);
    if (cond.reason !== "ProgressDeadlineExceeded" && ctx.now <= from + deadlineMs) {
      // upstream requeueStuckRollout: look again a second after the deadline
      this.wake(ctx, from + deadlineMs + 1000);
      return false;
    }
    if (cond.reason === "ProgressDeadlineExceeded") return false;
    const message = `ReplicaSet "${rsName}" has timed out progressing.`;
    setCondition(s, "Progressing", "False", "ProgressDeadlineExceeded", message, ctx.now);
    const abort = ctx.ro.spec.progressDeadlineAbort === true;
    ctx.out.push({
      type: "rollout.timedout",
      ...this.base(ctx),
      message,
      progressDeadlineSeconds: deadlineMs / 1000,
      abort,
    });
    return abort;
  }

  /** Returns true when progressDeadlineAbort asks to abort now (see progressing()). */
  private computeStatus(ctx: Ctx): boolean {
    const s = ctx.status;
    const replicas = replicasOf(ctx.ro);
    let replicasSum = 0;
    let ready = 0;
    let available = 0;
    for (const rs of ctx.rsList) {
      replicasSum += rs.status?.replicas ?? 0;
      ready += rs.status?.readyReplicas ?? 0;
      available += rs.status?.availableReplicas ?? 0;
    }
    s.replicas = replicasSum;
    s.updatedReplicas = ctx.newRS.status?.replicas ?? 0;
    s.readyReplicas = ready;
    s.availableReplicas = available;
    s.HPAReplicas = s.replicas;
    const matchLabels = ctx.ro.spec.selector?.matchLabels;
    s.selector = matchLabels === undefined ? "" : memoFrozen(this.selectors, matchLabels, formatMatchLabels);
    const stable = s.stableRS ?? ctx.hash;
    const canaryWeight = stable === ctx.hash || s.abort === true ? 0 : ctx.weight;
    s.canary = {
      ...(s.canary ?? {}),
      weights: {
        canary: { podTemplateHash: ctx.hash, weight: canaryWeight },
        stable: { podTemplateHash: stable, weight: 100 - canaryWeight },
      },
    };
    const now = ctx.now;
    const rsName = ctx.newRS.metadata.name;
    const paused = ctx.ro.spec.paused === true || (s.pauseConditions ?? []).length > 0;
    let deadlineAbort = false;
    if (s.abort !== true) {
      if (paused) setCondition(s, "Progressing", "Unknown", "RolloutPaused", "Rollout is paused", now);
      else if (s.stableRS === ctx.hash && (s.availableReplicas ?? 0) >= replicas) {
        setCondition(
          s,
          "Progressing",
          "True",
          "NewReplicaSetAvailable",
          `ReplicaSet "${rsName}" has successfully progressed.`,
          now,
        );
      } else deadlineAbort = this.progressing(ctx);
    }
    const maxUnavailable = Math.floor(replicas * 0.25);
    if ((s.availableReplicas ?? 0) >= replicas - maxUnavailable) {
      setCondition(s, "Available", "True", "AvailableReason", "Rollout has minimum availability", now);
    } else
      setCondition(
        s,
        "Available",
        "False",
        "AvailableReason",
        "Rollout does not have minimum availability",
        now,
      );
    if (paused) setCondition(s, "Paused", "True", "RolloutPaused", "Rollout is paused", now);
    else if (getCondition(s, "Paused") !== undefined)
      setCondition(s, "Paused", "False", "RolloutResumed", "Rollout is resumed", now);
    const complete = s.stableRS === ctx.hash;
    setCondition(
      s,
      "Completed",
      complete ? "True" : "False",
      complete ? "RolloutCompleted" : "RolloutNotCompleted",
      complete
        ? `Rollout completed update to revision ${ctx.revision} (${ctx.hash})`
        : `Rollout not completed, started update to revision ${ctx.revision} (${ctx.hash})`,
      now,
    );
    const ph = calculatePhase({ status: s, specPaused: ctx.ro.spec.paused === true, replicas });
    s.phase = ph.phase;
    s.message = ph.message;
    if (s.message === "") delete s.message;
    const healthy = ph.phase === "Healthy";
    setCondition(
      s,
      "Healthy",
      healthy ? "True" : "False",
      "RolloutHealthy",
      healthy ? "Rollout is healthy" : "Rollout is not healthy",
      now,
    );
    return deadlineAbort;
  }
}

const UNSUCCESSFUL = new Set(["Failed", "Error", "Inconclusive"]);

/**
 * Upstream analysisutil.FilterAnalysisRunsToDelete: from `runs` (none of them current), those to
 * delete: no pod-hash label, no ReplicaSet of their pod hash (or one being deleted), and beyond the
 * newest `limitSuccessful` Successful and `limitUnsuccessful` Failed/Error/Inconclusive runs
 * (newest by creationTimestamp, then by name). Running and Pending runs are never over a limit.
 */
export function analysisRunsToDelete(
  runs: readonly AnalysisRun[],
  replicaSets: readonly KubeObject[],
  limitSuccessful: number,
  limitUnsuccessful: number,
): AnalysisRun[] {
  const rsDeleting = new Map<string, boolean>();
  for (const rs of replicaSets) {
    const h = rs.metadata.labels?.[POD_HASH_LABEL];
    if (h !== undefined) rsDeleting.set(h, rs.metadata.deletionTimestamp !== undefined);
  }
  const newestFirst = [...runs].sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? "";
    const tb = b.metadata.creationTimestamp ?? "";
    if (ta !== tb) return ta < tb ? 1 : -1;
    const na = a.metadata.name ?? "";
    const nb = b.metadata.name ?? "";
    return na === nb ? 0 : na < nb ? 1 : -1;
  });
  let successful = 0;
  let unsuccessful = 0;
  const out: AnalysisRun[] = [];
  for (const run of newestFirst) {
    const h = run.metadata.labels?.[POD_HASH_LABEL];
    if (h === undefined || rsDeleting.get(h) !== false) {
      out.push(run);
      continue;
    }
    const phase = run.status?.phase ?? "";
    if (phase === "Successful") {
      if (successful < limitSuccessful) successful++;
      else out.push(run);
    } else if (UNSUCCESSFUL.has(phase)) {
      if (unsuccessful < limitUnsuccessful) unsuccessful++;
      else out.push(run);
    }
  }
  return out;
}

/**
 * Upstream conditions.RolloutProgressing for the canary strategy: the new status shows
 * progress over the old one (replicas updated, old ones scaled down, more ready or
 * available, the step or the stable ReplicaSet changed).
 */
export function progressMade(prev: RolloutStatus, next: RolloutStatus): boolean {
  const old = (st: RolloutStatus) => (st.replicas ?? 0) - (st.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) !== (prev.updatedReplicas ?? 0) ||
    old(next) < old(prev) ||
    (next.readyReplicas ?? 0) > (prev.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (prev.availableReplicas ?? 0) ||
    next.stableRS !== prev.stableRS ||
    (next.currentStepIndex !== undefined &&
      prev.currentStepIndex !== undefined &&
      next.currentStepIndex !== prev.currentStepIndex) ||
    next.currentStepHash !== prev.currentStepHash
  );
}
