/**
 * SyncOperation: a resumable state machine (gitops-engine sync_context.go).
 * Each step() advances one increment and never blocks on time:
 *   1. server-side dry run of every object (any error fails the whole sync, nothing applied);
 *   2. then per (phase, wave) group, in plan order: apply / create hooks / prune;
 *      the next group starts once the previous group's resources are healthy and
 *      its hooks completed (re-checked on every step);
 *   3. on failure, SyncFail hooks run, then the operation is Failed.
 * The caller drives step() on its clock (or uses run()); terminate() stops it.
 * Outcomes: Succeeded; Failed (dry-run / apply error, failed hook, Degraded
 * resource, terminated); Error (an unexpected exception, message kept).
 */
import type { Clock } from "../core/clock.ts";
import type { EventSink } from "../core/events.ts";
import { defaultHealthRegistry, type HealthRegistry } from "../health/registry.ts";
import { isNotFound, KubeApiError, type KubeClient, type KubeObject, type ObjectRef } from "../kube/types.ts";
import { clientSideApplyPatch, withLastApplied } from "./csa.ts";
import type { SyncEvent } from "./events.ts";
import type { SyncPlan } from "./plan.ts";
import {
  type HookPhase,
  isCompleted,
  type OperationPhase,
  type ResultCode,
  type SyncOperationState,
  type SyncResource,
  type SyncTask,
} from "./types.ts";

export interface SyncOperationOptions {
  client: KubeClient;
  clock: Clock;
  plan: SyncPlan;
  events?: EventSink<SyncEvent>;
  health?: HealthRegistry;
  /** Identifies the operation in events (default "<app>-<start ms>"). */
  operationId?: string;
  /** Only dry-run every object (`argocd app sync --dry-run`). */
  dryRun?: boolean;
}

type RunState = "pending" | "running" | "done";
type Stage = "dryRun" | "apply" | "syncFail";

interface Run {
  task: SyncTask;
  state: RunState;
  name: string;
  result?: SyncResource;
  failed?: string;
}

function resName(t: SyncTask, name: string): string {
  return `${t.kind.toLowerCase()}${t.group === "" ? "" : `.${t.group}`}/${name}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SyncOperation {
  private stage: Stage = "dryRun";
  private phase: OperationPhase = "Running";
  private message = "running";
  private failure = "";
  private terminating = false;
  private waiting = false;
  private readonly runs: Run[];
  private readonly startedAt: number;
  private finishedAt: number | undefined;
  private readonly health: HealthRegistry;
  readonly operationId: string;

  constructor(private readonly opts: SyncOperationOptions) {
    this.runs = opts.plan.tasks
      .filter((t) => t.action !== "skip")
      .map((t) => ({ task: t, state: "pending", name: t.name }));
    this.startedAt = opts.clock.now();
    this.health = opts.health ?? defaultHealthRegistry;
    this.operationId = opts.operationId ?? `${opts.plan.appName}-${this.startedAt}`;
  }

  state(): SyncOperationState {
    const s: SyncOperationState = {
      phase: this.terminating && !isCompleted(this.phase) ? "Terminating" : this.phase,
      message: this.message,
      resources: this.runs.flatMap((r) => (r.result === undefined ? [] : [{ ...r.result }])),
      startedAt: this.startedAt,
    };
    if (this.finishedAt !== undefined) s.finishedAt = this.finishedAt;
    return s;
  }

  /** Ask the operation to stop: running hooks are deleted at the next step, then it is Failed. */
  terminate(): void {
    if (!isCompleted(this.phase)) this.terminating = true;
  }

  /** Advance one increment. Never throws: unexpected errors end the operation in phase Error. */
  async step(): Promise<SyncOperationState> {
    if (isCompleted(this.phase)) return this.state();
    this.waiting = false;
    try {
      if (this.terminating) await this.doTerminate();
      else if (this.stage === "dryRun") await this.dryRunAll();
      else await this.advance(this.stage === "syncFail");
    } catch (e) {
      this.finish("Error", errorMessage(e));
    }
    return this.state();
  }

  /** Step until completed, sleeping `pollMs` of clock time whenever the operation is waiting. */
  async run(pollMs = 1000, timeoutMs = Number.POSITIVE_INFINITY): Promise<SyncOperationState> {
    const deadline = this.opts.clock.now() + timeoutMs;
    for (;;) {
      const s = await this.step();
      if (isCompleted(s.phase)) return s;
      if (this.opts.clock.now() >= deadline) this.terminate();
      else if (this.waiting) await this.opts.clock.sleep(pollMs);
    }
  }

  // ---- stages ------------------------------------------------------------------------------

  private async dryRunAll(): Promise<void> {
    const created = new Set(
      this.runs.filter((r) => r.task.kind === "Namespace" && r.task.group === "").map((r) => r.task.name),
    );
    const crds = new Set(
      this.runs
        .filter((r) => r.task.kind === "CustomResourceDefinition" && r.task.target !== undefined)
        .map((r) => {
          const spec = r.task.target?.spec as { group?: string; names?: { kind?: string } } | undefined;
          return `${spec?.group ?? ""}/${spec?.names?.kind ?? ""}`;
        }),
    );
    let failed = 0;
    for (const r of this.runs) {
      const t = r.task;
      if (t.action === "pruneSkip") continue;
      // Objects in a namespace, or of a CRD, that this very sync creates cannot be dry-run yet.
      if (t.namespace !== "" && created.has(t.namespace)) continue;
      if (crds.has(`${t.group}/${t.kind}`)) continue;
      try {
        await this.dryRunOne(r);
      } catch (e) {
        if (!(e instanceof KubeApiError)) throw e;
        failed++;
        this.setResult(r, "SyncFailed", e.message);
        r.state = "done";
        r.failed = e.message;
      }
    }
    if (failed > 0) return this.enterFailure("one or more objects failed to apply (dry run)");
    if (this.opts.dryRun === true) {
      for (const r of this.runs) {
        const t = r.task;
        if (t.action === "pruneSkip") this.setResult(r, "PruneSkipped", t.message ?? "");
        else if (t.action === "prune") this.setResult(r, "Pruned", "pruned (dry run)");
        else
          this.setResult(
            r,
            "Synced",
            `${resName(t, r.name)} ${t.live === undefined ? "created" : "configured"} (dry run)`,
          );
      }
      return this.finish("Succeeded", "successfully synced (dry run)");
    }
    this.stage = "apply";
    this.message = "dry run succeeded";
  }

  private async dryRunOne(r: Run): Promise<void> {
    const t = r.task;
    const { client, plan } = this.opts;
    if (t.action === "prune") {
      await client.delete(this.ref(t, r.name), { dryRun: true });
      return;
    }
    const target = t.target;
    if (target === undefined) return;
    if (t.action === "hook") {
      if (target.metadata.name === undefined) {
        await client.create(target, { dryRun: true, fieldManager: plan.manager });
        return;
      }
      // An earlier run of a named hook is deleted and recreated, so only a new one is dry-run.
      if ((await this.getLive(t, r.name)) === undefined) {
        await client.create(target, { dryRun: true, fieldManager: plan.manager });
      }
      return;
    }
    if (t.autoCreatedNamespace === true) {
      if ((await this.getLive(t, r.name)) === undefined) {
        try {
          await client.create(target, { dryRun: true });
        } catch (e) {
          // another app with the same destination created it meanwhile: nothing to do
          if (!(e instanceof KubeApiError && e.code === 409)) throw e;
        }
      }
      return;
    }
    if (t.replace === true && t.live !== undefined) {
      const rv = t.live.metadata.resourceVersion;
      const obj = {
        ...target,
        metadata: { ...target.metadata, ...(rv === undefined ? {} : { resourceVersion: rv }) },
      };
      await client.replace(obj, { dryRun: true, fieldManager: plan.manager });
      return;
    }
    if (!this.serverSide(t)) {
      await this.clientSideApply(r, target, true);
      return;
    }
    await client.apply(target, { fieldManager: plan.manager, force: true, dryRun: true });
  }

  private serverSide(t: SyncTask): boolean {
    return t.serverSideApply ?? this.opts.plan.serverSideApply;
  }

  /** kubectl-style apply: create with last-applied, or a three-way merge patch. Returns the verb. */
  private async clientSideApply(r: Run, target: KubeObject, dryRun: boolean): Promise<string> {
    const { client, plan } = this.opts;
    const desired = withLastApplied(target);
    const live = await this.getLive(r.task, r.name);
    if (live === undefined) {
      await client.create(desired, { fieldManager: plan.manager, dryRun });
      return "created";
    }
    const patch = clientSideApplyPatch(live, desired);
    if (patch === undefined) return "unchanged";
    await client.patch(this.ref(r.task, r.name), patch, "merge", { fieldManager: plan.manager, dryRun });
    return "configured";
  }

  private async advance(failMode: boolean): Promise<void> {
    const pool = this.runs.filter((r) => (r.task.phase === "SyncFail") === failMode);
    for (const r of pool) if (r.state === "running") await this.poll(r);
    if (!failMode) {
      const bad = pool.find((r) => r.failed !== undefined);
      if (bad !== undefined) {
        return this.enterFailure(
          `one or more synchronization tasks completed unsuccessfully, reason: ${bad.failed}`,
        );
      }
    }
    if (this.awaitRunning(pool)) return;
    const pending = pool.filter((r) => r.state === "pending");
    const first = pending[0];
    if (first === undefined) {
      if (failMode) return this.finish("Failed", this.failure);
      return this.finish("Succeeded", "successfully synced (all tasks run)");
    }
    const group = pending.filter((r) => r.task.phase === first.task.phase && r.task.wave === first.task.wave);
    const more = pending.length > group.length;
    this.emit({
      type: "syncop.wave",
      time: this.opts.clock.now(),
      app: this.opts.plan.appName,
      operationId: this.operationId,
      syncPhase: first.task.phase,
      wave: first.task.wave,
      tasks: group.length,
    });
    for (const r of group) await this.execute(r, more);
    this.message = `${first.task.phase} wave ${first.task.wave}: ${group.length} task(s) run`;
    if (!failMode) {
      const bad = group.find((r) => r.failed !== undefined);
      if (bad !== undefined)
        return this.enterFailure(`one or more objects failed to apply, reason: ${bad.failed}`);
    }
    this.awaitRunning(group);
  }

  /** When some runs still wait for health / hook completion, say so and mark the step as waiting. */
  private awaitRunning(runs: Run[]): boolean {
    const running = runs.filter((r) => r.state === "running");
    if (running.length === 0) return false;
    this.waiting = true;
    this.message = running
      .map((r) =>
        r.task.action === "hook"
          ? `waiting for completion of hook ${r.task.apiVersion}/${r.task.kind}/${r.name}`
          : `waiting for healthy state of ${r.task.group}/${r.task.kind}/${r.name}`,
      )
      .join(", ");
    return true;
  }

  private enterFailure(message: string): void {
    this.failure = message;
    this.message = message;
    if (this.stage !== "syncFail" && this.runs.some((r) => r.task.phase === "SyncFail")) {
      this.stage = "syncFail";
      return;
    }
    this.finish("Failed", message);
  }

  private async doTerminate(): Promise<void> {
    for (const r of this.runs) {
      if (r.state !== "running" || r.task.action !== "hook") continue;
      try {
        await this.opts.client.delete(this.ref(r.task, r.name), { propagationPolicy: "Background" });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      r.state = "done";
      this.setResult(r, "Synced", "terminated", "Failed");
    }
    this.finish("Failed", "Operation terminated");
  }

  // ---- tasks -------------------------------------------------------------------------------

  private async execute(r: Run, awaitHealth: boolean): Promise<void> {
    const t = r.task;
    const { client, plan } = this.opts;
    try {
      if (t.action === "pruneSkip") {
        this.setResult(r, "PruneSkipped", t.message ?? "ignored (requires pruning)");
        r.state = "done";
        return;
      }
      if (t.action === "prune") {
        try {
          await client.delete(this.ref(t, r.name), { propagationPolicy: plan.prunePropagationPolicy });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        this.setResult(r, "Pruned", "pruned");
        r.state = "done";
        return;
      }
      const target = t.target;
      if (target === undefined) throw new Error(`task ${t.kind}/${t.name} has no target`);
      if (t.action === "hook") return await this.startHook(r, target);
      let verb: string;
      if (t.autoCreatedNamespace === true) {
        // as gitops-engine's autoCreateNamespace: read the namespace, create it only when missing
        verb = "unchanged";
        if ((await this.getLive(t, r.name)) === undefined) {
          verb = "created";
          try {
            await client.create(target);
          } catch (e) {
            if (!(e instanceof KubeApiError && e.code === 409)) throw e;
            verb = "unchanged";
          }
        }
      } else if (t.replace === true) {
        const current = await this.getLive(t, r.name);
        if (current === undefined) {
          await client.create(target, { fieldManager: plan.manager });
          verb = "created";
        } else {
          const rv = current.metadata.resourceVersion;
          const obj = {
            ...target,
            metadata: { ...target.metadata, ...(rv === undefined ? {} : { resourceVersion: rv }) },
          };
          await client.replace(obj, { fieldManager: plan.manager });
          verb = "replaced";
        }
      } else if (!this.serverSide(t)) {
        verb = await this.clientSideApply(r, target, false);
      } else {
        await client.apply(target, { fieldManager: plan.manager, force: true });
        verb = t.live === undefined ? "created" : "serverside-applied";
      }
      this.setResult(r, "Synced", `${resName(t, r.name)} ${verb}`);
      const live = awaitHealth ? await this.getLive(t, r.name) : undefined;
      r.state = live !== undefined && this.health.health(live) !== undefined ? "running" : "done";
      if (r.state === "running") await this.poll(r);
    } catch (e) {
      if (!(e instanceof KubeApiError)) throw e;
      r.failed = e.message;
      r.state = "done";
      this.setResult(r, "SyncFailed", e.message, t.action === "hook" ? "Failed" : undefined);
    }
  }

  private async startHook(r: Run, target: KubeObject): Promise<void> {
    const t = r.task;
    const { client, plan } = this.opts;
    const policies = t.hookDeletePolicies ?? [];
    const named = target.metadata.name !== undefined && target.metadata.name !== "";
    if (named && policies.includes("BeforeHookCreation")) {
      let remaining: KubeObject | undefined;
      try {
        remaining = await client.delete(this.ref(t, r.name), { propagationPolicy: "Background" });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (remaining !== undefined) {
        this.waiting = true;
        this.message = `waiting for deletion of hook ${t.apiVersion}/${t.kind}/${r.name}`;
        return;
      }
    }
    let created: KubeObject;
    try {
      created = await client.create(target, { fieldManager: plan.manager });
    } catch (e) {
      if (!(named && e instanceof KubeApiError && e.code === 409)) throw e;
      created = await client.apply(target, { fieldManager: plan.manager, force: true });
    }
    r.name = created.metadata.name ?? r.name;
    r.state = "running";
    this.setResult(r, "Synced", `${resName(t, r.name)} created`, "Running");
    await this.poll(r);
  }

  private async poll(r: Run): Promise<void> {
    const t = r.task;
    const live = await this.getLive(t, r.name);
    if (t.action !== "hook") {
      const h = live === undefined ? { status: "Missing" as const } : this.health.health(live);
      if (h === undefined || h.status === "Healthy" || h.status === "Suspended") r.state = "done";
      else if (h.status === "Degraded") {
        r.state = "done";
        r.failed = `${t.group}/${t.kind}/${r.name} is Degraded${h.message === undefined ? "" : `: ${h.message}`}`;
      }
      return;
    }
    if (live === undefined) {
      r.state = "done";
      r.failed = `hook ${t.kind}/${r.name} was deleted before it completed`;
      this.setResult(r, "Synced", r.failed, "Failed");
      return;
    }
    const h = this.health.health(live);
    if (h !== undefined && h.status !== "Healthy" && h.status !== "Degraded") return;
    const ok = h === undefined || h.status === "Healthy";
    r.state = "done";
    const message = h?.message ?? `${resName(t, r.name)} ${ok ? "succeeded" : "failed"}`;
    if (!ok) r.failed = message;
    this.setResult(r, "Synced", message, ok ? "Succeeded" : "Failed");
    const policies = t.hookDeletePolicies ?? [];
    if (policies.includes(ok ? "HookSucceeded" : "HookFailed")) {
      try {
        await this.opts.client.delete(this.ref(t, r.name), { propagationPolicy: "Background" });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private ref(t: SyncTask, name: string): ObjectRef {
    const ref: ObjectRef = { apiVersion: t.apiVersion, kind: t.kind, name };
    if (t.namespace !== "") ref.namespace = t.namespace;
    return ref;
  }

  private async getLive(t: SyncTask, name: string): Promise<KubeObject | undefined> {
    if (name === "") return undefined;
    try {
      return await this.opts.client.get(this.ref(t, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private setResult(r: Run, status: ResultCode, message: string, hookPhase?: HookPhase): void {
    const t = r.task;
    const res: SyncResource = {
      group: t.group,
      kind: t.kind,
      namespace: t.namespace,
      name: r.name,
      status,
      message,
      syncPhase: t.phase,
    };
    if (t.hookType !== undefined) res.hookType = t.hookType;
    if (hookPhase !== undefined) res.hookPhase = hookPhase;
    const prev = r.result;
    r.result = res;
    if (
      prev !== undefined &&
      prev.status === res.status &&
      prev.message === res.message &&
      prev.hookPhase === res.hookPhase
    ) {
      return;
    }
    this.emit({
      type: "syncop.resource",
      time: this.opts.clock.now(),
      app: this.opts.plan.appName,
      operationId: this.operationId,
      ...res,
      wave: t.wave,
    });
  }

  private finish(phase: OperationPhase, message: string): void {
    this.phase = phase;
    this.message = message;
    this.finishedAt = this.opts.clock.now();
    this.emit({
      type: "syncop.completed",
      time: this.finishedAt,
      app: this.opts.plan.appName,
      operationId: this.operationId,
      phase,
      message,
      startedAt: this.startedAt,
      resources: this.runs.filter((r) => r.result !== undefined).length,
    });
  }

  private emit(e: SyncEvent): void {
    this.opts.events?.emit(e);
  }
}
