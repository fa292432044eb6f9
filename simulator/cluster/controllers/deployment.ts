/**
 * Deployment controller, after kube-controller-manager's
 * pkg/controller/deployment: one ReplicaSet per pod template (named
 * `<deployment>-<pod-template-hash>`), RollingUpdate with maxSurge /
 * maxUnavailable (25% each by default) or Recreate, revision annotations,
 * old ReplicaSets pruned past revisionHistoryLimit, and status with the
 * Available and Progressing conditions (NewReplicaSetCreated,
 * FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
 * ProgressDeadlineExceeded after progressDeadlineSeconds).
 */
import { podTemplateHash } from "../../../engine/rollouts/replicas.ts";
import type { Clock } from "../../../engine/core/clock.ts";
import type { EventSink } from "../../../engine/core/events.ts";
import { isNotFound, type KubeClient, type KubeObject } from "../../../engine/kube/types.ts";
import { stableStringify } from "../patch/json.ts";
import type { DeploymentEvent } from "./events.ts";
import type { Informer, ReconcileResult } from "./informer.ts";
import { parseTime, splitKey } from "./kubelet.ts";
import { FIELD_MANAGER, WorkloadController } from "./workload.ts";
import {
  type Condition,
  controllerRef,
  getCondition,
  isDeleting,
  type Json,
  num,
  omitZero,
  scaledValue,
  setCondition,
  specOf,
  statusOf,
} from "./util.ts";

export const REVISION = "deployment.kubernetes.io/revision";
const DESIRED = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
export const HASH_LABEL = "pod-template-hash";

const revisionOf = (rs: KubeObject): number => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const replicasOf = (rs: KubeObject): number => num(specOf(rs).replicas, 1);
const sum = (rss: KubeObject[], f: (rs: KubeObject) => number) => rss.reduce((n, rs) => n + f(rs), 0);
const statusNum = (field: string) => (rs: KubeObject) => num(statusOf(rs)[field], 0);
/** The ReplicaSet controller has not reported on this ReplicaSet's current spec yet. */
const unobserved = (rs: KubeObject) => statusOf(rs).observedGeneration !== rs.metadata.generation;
const byAge = (a: KubeObject, b: KubeObject) => {
  const ca = a.metadata.creationTimestamp ?? "";
  const cb = b.metadata.creationTimestamp ?? "";
  if (ca !== cb) return ca < cb ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
};

function withoutHash(template: unknown): string {
  const t = (template ?? {}) as Json;
  const meta = (t.metadata ?? {}) as Json;
  const labels = { ...((meta.labels ?? {}) as Record<string, string>) };
  delete labels[HASH_LABEL];
  return stableStringify({ ...t, metadata: { ...meta, labels } });
}

interface Params {
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
  recreate: boolean;
  deadlineS: number | undefined;
  historyLimit: number;
  minReadySeconds: number;
}

function paramsOf(d: KubeObject): Params {
  const spec = specOf(d);
  const replicas = num(spec.replicas, 1);
  const strategy = (spec.strategy ?? {}) as Json;
  const recreate = strategy.type === "Recreate";
  const ru = (strategy.rollingUpdate ?? {}) as Json;
  let maxSurge = recreate ? 0 : scaledValue(ru.maxSurge, replicas, true, "25%");
  let maxUnavailable = recreate ? 0 : scaledValue(ru.maxUnavailable, replicas, false, "25%");
  if (!recreate && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (maxUnavailable > replicas) maxUnavailable = replicas;
  if (maxSurge < 0) maxSurge = 0;
  return {
    replicas,
    maxSurge,
    maxUnavailable,
    recreate,
    deadlineS: spec.progressDeadlineSeconds === undefined ? 600 : num(spec.progressDeadlineSeconds, 600),
    historyLimit: num(spec.revisionHistoryLimit, 10),
    minReadySeconds: num(spec.minReadySeconds, 0),
  };
}

export class DeploymentController extends WorkloadController {
  constructor(
    client: KubeClient,
    clock: Clock,
    deployments: Informer,
    private readonly replicaSets: Informer,
    private readonly sink: EventSink<DeploymentEvent> | undefined,
    onError: (key: string, err: unknown) => void,
  ) {
    super(client, clock, deployments, replicaSets, onError);
    const forget = (type: string, o: KubeObject) => {
      if (type === "DELETED") this.templates.delete(o.metadata.uid ?? "");
    };
    replicaSets.on(forget);
    deployments.on(forget);
  }

  /**
   * withoutHash(template) of each ReplicaSet and Deployment by uid, valid for
   * one generation (templates change rarely).
   */
  private readonly templates = new Map<string, { generation: number; value: string }>();

  /**
   * withoutHash(template) by the template object itself: in-process objects are
   * frozen and share their template from version to version (a scale only
   * replaces spec.replicas), so this hits even when the generation moved on.
   */
  private readonly byTemplate = new WeakMap<object, string>();

  private templateOf(rs: KubeObject): string {
    const template = specOf(rs).template;
    const shared = typeof template === "object" && template !== null ? template : undefined;
    const known = shared === undefined ? undefined : this.byTemplate.get(shared);
    if (known !== undefined) return known;
    const uid = rs.metadata.uid ?? "";
    const generation = rs.metadata.generation ?? 0;
    const hit = this.templates.get(uid);
    let value: string;
    if (hit !== undefined && hit.generation === generation) value = hit.value;
    else {
      value = withoutHash(template);
      this.templates.set(uid, { generation, value });
    }
    if (shared !== undefined) this.byTemplate.set(shared, value);
    return value;
  }

  /** Scale a ReplicaSet (and record the deployment's desired/max replicas on it). */
  private async scale(rs: KubeObject, replicas: number, p: Params): Promise<KubeObject> {
    const annotations: Record<string, string> = {};
    if (rs.metadata.annotations?.[DESIRED] !== String(p.replicas)) annotations[DESIRED] = String(p.replicas);
    if (rs.metadata.annotations?.[MAX_REPLICAS] !== String(p.replicas + p.maxSurge))
      annotations[MAX_REPLICAS] = String(p.replicas + p.maxSurge);
    if (replicasOf(rs) === replicas && Object.keys(annotations).length === 0) return rs;
    const patch: Json = { spec: { replicas } };
    if (Object.keys(annotations).length > 0) patch.metadata = { annotations };
    const out = await this.clock.track(
      this.client.patch(this.refOf(rs), patch, "merge", { fieldManager: FIELD_MANAGER }),
    );
    this.replicaSets.set(out);
    return out;
  }

  private async createNewRS(
    d: KubeObject,
    p: Params,
    revision: number,
    replicas: number,
  ): Promise<KubeObject> {
    const status = statusOf(d);
    const collisionCount = status.collisionCount === undefined ? undefined : num(status.collisionCount, 0);
    const template = structuredClone((specOf(d).template ?? {}) as Json);
    const hash = podTemplateHash(template, collisionCount);
    const tmeta = (template.metadata ?? {}) as Json;
    const labels = { ...((tmeta.labels ?? {}) as Record<string, string>), [HASH_LABEL]: hash };
    template.metadata = { ...tmeta, labels };
    const selector = structuredClone((specOf(d).selector ?? {}) as Json);
    selector.matchLabels = {
      ...((selector.matchLabels ?? {}) as Record<string, string>),
      [HASH_LABEL]: hash,
    };
    const rs: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${d.metadata.name ?? ""}-${hash}`,
        namespace: d.metadata.namespace ?? "default",
        labels,
        annotations: {
          [DESIRED]: String(p.replicas),
          [MAX_REPLICAS]: String(p.replicas + p.maxSurge),
          [REVISION]: String(revision),
        },
        ownerReferences: [controllerRef(d)],
      },
      spec: { replicas, minReadySeconds: p.minReadySeconds, selector, template },
    };
    const out = await this.clock.track(this.client.create(rs, { fieldManager: FIELD_MANAGER }));
    this.replicaSets.set(out);
    return out;
  }

  protected async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [ns, name] = splitKey(key);
    const d = this.objects.get(ns, name);
    if (d === undefined || isDeleting(d)) return undefined;
    const p = paramsOf(d);
    const now = this.clock.now();
    const seen = this.replicaSets.byIndex("controller", d.metadata.uid ?? "");
    const owned = seen.filter((rs) => !isDeleting(rs));
    owned.sort(byAge);
    const want = this.templateOf(d);
    let newRS = owned.find((rs) => this.templateOf(rs) === want);
    let oldRSs = owned.filter((rs) => rs !== newRS);
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    let conds = [...((statusOf(d).conditions ?? []) as Condition[])];
    const paused = specOf(d).paused === true;
    const progressing = (reason: string, message: string, status: "True" | "False" = "True") => {
      conds = setCondition(conds, { type: "Progressing", status, reason, message }, now, {
        updateTime: true,
      });
    };

    if (newRS !== undefined && revisionOf(newRS) < maxOld + 1) {
      const out = await this.clock.track(
        this.client.patch(
          this.refOf(newRS),
          { metadata: { annotations: { [REVISION]: String(maxOld + 1) } } },
          "merge",
          { fieldManager: FIELD_MANAGER },
        ),
      );
      this.replicaSets.set(out);
      newRS = out;
    }
    if (
      newRS !== undefined &&
      getCondition(statusOf(d), "Progressing") === undefined &&
      p.deadlineS !== undefined
    ) {
      progressing("FoundNewReplicaSet", `Found new replica set "${newRS.metadata.name}"`);
    }

    /** A new ReplicaSet's name was taken: collisionCount moved on, try again with the next hash. */
    let collided = false;
    /** This run created the new ReplicaSet: like upstream, it reports NewReplicaSetCreated at once. */
    let created = false;
    if (!paused) {
      const ensureNew = async (replicas: number) => {
        if (newRS !== undefined) return newRS;
        try {
          newRS = await this.createNewRS(d, p, maxOld + 1, replicas);
        } catch (e) {
          if (!(e instanceof Error && "code" in e && (e as { code: unknown }).code === 409)) throw e;
          // a ReplicaSet of that name exists and is not ours: change the hash (upstream collisionCount)
          const cc = num(statusOf(d).collisionCount, 0) + 1;
          await this.writeStatus(d, { ...statusOf(d), collisionCount: cc });
          collided = true;
          return undefined;
        }
        progressing("NewReplicaSetCreated", `Created new replica set "${newRS.metadata.name}"`);
        created = true;
        return newRS;
      };
      if (p.recreate) {
        const active = oldRSs.filter((rs) => replicasOf(rs) > 0);
        for (const rs of active) await this.scale(rs, 0, p);
        const oldPods = sum(oldRSs, statusNum("replicas"));
        if (active.length === 0 && oldPods === 0) {
          const rs = await ensureNew(p.replicas);
          if (rs !== undefined) newRS = await this.scale(rs, p.replicas, p);
        }
      } else {
        const all = () => [...oldRSs, ...(newRS ? [newRS] : [])];
        const current = sum(all(), replicasOf);
        const maxTotal = p.replicas + p.maxSurge;
        const firstScale = newRS === undefined ? Math.max(0, Math.min(maxTotal - current, p.replicas)) : 0;
        const rs = await ensureNew(firstScale);
        if (rs !== undefined) {
          const scaledUp = await this.reconcileNew(all(), rs, p);
          if (!scaledUp) oldRSs = await this.reconcileOld(oldRSs, newRS ?? rs, p);
        }
      }
    }

    // Our ReplicaSets changed while we ran (we scaled one), or one has a spec its controller has
    // not acted on yet: their events run this key again at this instant, and that run reports
    // the status once the burst has settled.
    if (!created && this.replicaSetsUnsettled(d, seen)) return collided ? { requeueAfterMs: 0 } : undefined;

    // status, from the ReplicaSets as they are now
    const fresh = (rs: KubeObject) => this.replicaSets.get(ns, rs.metadata.name ?? "") ?? rs;
    const allNow = [...oldRSs, ...(newRS ? [newRS] : [])].map(fresh);
    const newNow = newRS ? fresh(newRS) : undefined;
    const available = sum(allNow, statusNum("availableReplicas"));
    const next: Json = {
      observedGeneration: d.metadata.generation,
      replicas: sum(allNow, statusNum("replicas")),
      updatedReplicas: newNow ? statusNum("replicas")(newNow) : 0,
      readyReplicas: sum(allNow, statusNum("readyReplicas")),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, p.replicas - available),
    };
    if (statusOf(d).collisionCount !== undefined) next.collisionCount = statusOf(d).collisionCount;
    const minAvailable = p.replicas - p.maxUnavailable;
    conds = setCondition(
      conds,
      available >= minAvailable
        ? {
            type: "Available",
            status: "True",
            reason: "MinimumReplicasAvailable",
            message: "Deployment has minimum availability.",
          }
        : {
            type: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
          },
      now,
      { updateTime: true },
    );
    const nsNum = (k: string, s: Json) => num(s[k], 0);
    const complete =
      nsNum("updatedReplicas", next) === p.replicas &&
      nsNum("replicas", next) === p.replicas &&
      available === p.replicas &&
      num(next.observedGeneration, 0) >= num(d.metadata.generation, 0);
    let requeue: number | undefined;
    const rsName = newNow?.metadata.name ?? "";
    const before = getCondition({ conditions: conds }, "Progressing");
    if (paused) {
      conds = setCondition(
        conds,
        {
          type: "Progressing",
          status: "Unknown",
          reason: "DeploymentPaused",
          message: "Deployment is paused",
        },
        now,
        { updateTime: true },
      );
    } else if (p.deadlineS === undefined) {
      conds = conds.filter((c) => c.type !== "Progressing");
    } else if (!(next.replicas === next.updatedReplicas && before?.reason === "NewReplicaSetAvailable")) {
      const old = statusOf(d);
      const oldOld = nsNum("replicas", old) - nsNum("updatedReplicas", old);
      const newOld = nsNum("replicas", next) - nsNum("updatedReplicas", next);
      const progressed =
        nsNum("updatedReplicas", next) > nsNum("updatedReplicas", old) ||
        nsNum("readyReplicas", next) > nsNum("readyReplicas", old) ||
        available > nsNum("availableReplicas", old) ||
        newOld < oldOld;
      const lastUpdate = parseTime(before?.lastUpdateTime);
      const timedOut =
        before !== undefined &&
        before.reason !== "NewReplicaSetAvailable" &&
        (before.reason === "ProgressDeadlineExceeded" ||
          (lastUpdate !== undefined && lastUpdate + p.deadlineS * 1000 < now));
      if (complete) {
        progressing("NewReplicaSetAvailable", `ReplicaSet "${rsName}" has successfully progressed.`);
      } else if (progressed) {
        const c: Condition = {
          type: "Progressing",
          status: "True",
          reason: "ReplicaSetUpdated",
          message: `ReplicaSet "${rsName}" is progressing.`,
        };
        conds = setCondition(conds, c, now, { updateTime: true, alwaysUpdate: true });
      } else if (timedOut) {
        progressing("ProgressDeadlineExceeded", `ReplicaSet "${rsName}" has timed out progressing.`, "False");
      }
      const cur = getCondition({ conditions: conds }, "Progressing");
      const curUpdate = parseTime(cur?.lastUpdateTime);
      if (
        !complete &&
        cur !== undefined &&
        cur.reason !== "ProgressDeadlineExceeded" &&
        curUpdate !== undefined
      ) {
        requeue = Math.max(0, curUpdate + p.deadlineS * 1000 - now) + 1000;
      }
    }
    if (conds.length > 0) next.conditions = orderConds(conds);
    await this.writeDeploymentStatus(d, omitZero(next), newNow);
    const was = getCondition(statusOf(d), "Progressing");
    this.emitTransition(d, was, getCondition({ conditions: conds }, "Progressing"), newNow, now);

    if (!paused && complete) await this.cleanup(oldRSs.map(fresh), p.historyLimit);
    if (collided) return { requeueAfterMs: 0 };
    return requeue === undefined ? undefined : { requeueAfterMs: requeue };
  }

  /**
   * Whether the cached ReplicaSets of `d` are no longer exactly `before`, or
   * one's status has not observed its generation yet (the ReplicaSet
   * controller always reports that generation, also when creating pods fails).
   */
  private replicaSetsUnsettled(d: KubeObject, before: KubeObject[]): boolean {
    const now = this.replicaSets.byIndex("controller", d.metadata.uid ?? "");
    if (now.length !== before.length) return true;
    const was = new Set(before);
    return now.some((rs) => !was.has(rs) || (!isDeleting(rs) && unobserved(rs)));
  }

  /** Scale the new ReplicaSet up within maxSurge (or down to spec.replicas). Returns whether it scaled. */
  private async reconcileNew(all: KubeObject[], newRS: KubeObject, p: Params): Promise<boolean> {
    const cur = replicasOf(newRS);
    if (cur === p.replicas) {
      await this.scale(newRS, cur, p);
      return false;
    }
    if (cur > p.replicas) {
      await this.scale(newRS, p.replicas, p);
      return true;
    }
    const current = sum(all, replicasOf);
    const maxTotal = p.replicas + p.maxSurge;
    if (current >= maxTotal) return false;
    const up = Math.min(maxTotal - current, p.replicas - cur);
    await this.scale(newRS, cur + up, p);
    return up > 0;
  }

  /** Scale old ReplicaSets down within maxUnavailable (unhealthy replicas first). Returns them as they are now. */
  private async reconcileOld(oldRSs: KubeObject[], newRS: KubeObject, p: Params): Promise<KubeObject[]> {
    let olds = [...oldRSs];
    const oldPods = sum(olds, replicasOf);
    if (oldPods === 0) return olds;
    const allPods = oldPods + replicasOf(newRS);
    const minAvailable = p.replicas - p.maxUnavailable;
    const newUnavailable = replicasOf(newRS) - statusNum("availableReplicas")(newRS);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return olds;
    const replace = (from: KubeObject, to: KubeObject) => {
      olds = olds.map((o) => (o === from ? to : o));
    };
    // clean up unhealthy replicas first
    let cleaned = 0;
    for (const rs of [...olds].sort(byAge)) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = replicasOf(rs) - statusNum("availableReplicas")(rs);
      if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      replace(rs, await this.scale(rs, replicasOf(rs) - down, p));
      cleaned += down;
    }
    // then scale down available replicas while keeping minAvailable
    const availableNow = sum([...olds, newRS], statusNum("availableReplicas"));
    if (availableNow <= minAvailable) return olds;
    const total = availableNow - minAvailable;
    let done = 0;
    for (const rs of [...olds].sort(byAge)) {
      if (done >= total) break;
      if (replicasOf(rs) === 0) continue;
      const down = Math.min(replicasOf(rs), total - done);
      replace(rs, await this.scale(rs, replicasOf(rs) - down, p));
      done += down;
    }
    return olds;
  }

  /** The revision annotation (main resource), then the status. */
  private async writeDeploymentStatus(
    d: KubeObject,
    status: Json,
    newRS: KubeObject | undefined,
  ): Promise<void> {
    const rev = newRS?.metadata.annotations?.[REVISION];
    if (rev !== undefined && d.metadata.annotations?.[REVISION] !== rev) {
      const out = await this.clock.track(
        this.client.patch(this.refOf(d), { metadata: { annotations: { [REVISION]: rev } } }, "merge", {
          fieldManager: FIELD_MANAGER,
        }),
      );
      this.objects.set(out);
    }
    await this.writeStatus(d, status);
  }

  /** Delete old, scaled-down ReplicaSets beyond revisionHistoryLimit (oldest revisions first). */
  private async cleanup(oldRSs: KubeObject[], limit: number): Promise<void> {
    const idle = oldRSs
      .filter((rs) => replicasOf(rs) === 0 && statusNum("replicas")(rs) === 0 && !isDeleting(rs))
      .sort((a, b) => revisionOf(a) - revisionOf(b) || byAge(a, b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        await this.clock.track(this.client.delete(this.refOf(rs)));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      this.replicaSets.forget(rs);
    }
  }

  private emitTransition(
    d: KubeObject,
    before: Condition | undefined,
    after: Condition | undefined,
    newRS: KubeObject | undefined,
    now: number,
  ): void {
    if (this.sink === undefined || after === undefined || before?.reason === after.reason) return;
    const base = {
      time: now,
      namespace: d.metadata.namespace ?? "",
      name: d.metadata.name ?? "",
      replicaSet: newRS?.metadata.name ?? "",
      revision: newRS?.metadata.annotations?.[REVISION] ?? "",
    };
    if (after.reason === "NewReplicaSetAvailable")
      this.sink.emit({ type: "cluster.deployment.complete", ...base });
    if (after.reason === "ProgressDeadlineExceeded")
      this.sink.emit({ type: "cluster.deployment.progressDeadlineExceeded", ...base });
  }
}

function orderConds(cs: Condition[]): Condition[] {
  const order = ["Available", "Progressing", "ReplicaFailure"];
  return [...cs].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}
