/**
 * ReplicaSet controller: keeps `spec.replicas` pods (from `spec.template`,
 * controller ownerReference to the ReplicaSet) for every ReplicaSet, whoever
 * owns it (Deployments, Rollouts, nobody), and reports status: replicas,
 * fullyLabeledReplicas, readyReplicas, availableReplicas (Ready for
 * minReadySeconds), observedGeneration.
 */
import type { Clock } from "../../../engine/core/clock.ts";
import type { KubeClient, KubeObject } from "../../../engine/kube/types.ts";
import type { Informer, ReconcileResult } from "./informer.ts";
import { isPodReady, NODE_NAME, readySince, splitKey } from "./kubelet.ts";
import {
  type Condition,
  controllerRef,
  isDeleting,
  type Json,
  num,
  omitZero,
  setCondition,
  specOf,
  statusOf,
} from "./util.ts";
import { WorkloadController } from "./workload.ts";

/** Active pods controlled by `owner` (not terminating, not finished). */
export function activePods(pods: Informer, owner: KubeObject): KubeObject[] {
  return pods
    .byIndex("controller", owner.metadata.uid ?? "")
    .filter((p) => !isDeleting(p) && statusOf(p).phase !== "Succeeded" && statusOf(p).phase !== "Failed");
}

/** A pod of `owner` from its template (the fake scheduler binds it to the one node at once). */
export function podFromTemplate(
  owner: KubeObject,
  template: Json,
  meta: { name?: string; labels?: Json },
): KubeObject {
  const tmeta = (template.metadata ?? {}) as Json;
  const labels = {
    ...((tmeta.labels ?? {}) as Record<string, string>),
    ...((meta.labels ?? {}) as Record<string, string>),
  };
  const metadata: KubeObject["metadata"] = {
    namespace: owner.metadata.namespace ?? "default",
    labels,
    ownerReferences: [controllerRef(owner)],
  };
  if (meta.name !== undefined) metadata.name = meta.name;
  else metadata.generateName = `${owner.metadata.name ?? ""}-`;
  if (tmeta.annotations !== undefined)
    metadata.annotations = { ...(tmeta.annotations as Record<string, string>) };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    // the template's members are shared, not copied: the pod is only ever sent (clients copy what they send)
    spec: { ...((template.spec ?? {}) as Json), nodeName: NODE_NAME },
  };
}

/** Counters of a pod set, and when the next pod becomes available (minReadySeconds). */
export function podCounts(
  pods: KubeObject[],
  minReadySeconds: number,
  now: number,
): { ready: number; available: number; nextAvailableInMs?: number } {
  let ready = 0;
  let available = 0;
  let next: number | undefined;
  for (const p of pods) {
    if (!isPodReady(p)) continue;
    ready++;
    const since = readySince(p) ?? now;
    const at = since + minReadySeconds * 1000;
    if (minReadySeconds <= 0 || at <= now) available++;
    else next = Math.min(next ?? Number.POSITIVE_INFINITY, at - now);
  }
  return next === undefined ? { ready, available } : { ready, available, nextAvailableInMs: next };
}

/** Deletion order (upstream ActivePods ranking, simplified): not ready, then newest first. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ca = a.metadata.creationTimestamp ?? "";
  const cb = b.metadata.creationTimestamp ?? "";
  if (ca !== cb) return ca < cb ? 1 : -1;
  return (b.metadata.name ?? "") < (a.metadata.name ?? "") ? -1 : 1;
}

export class ReplicaSetController extends WorkloadController {
  constructor(
    client: KubeClient,
    clock: Clock,
    replicaSets: Informer,
    private readonly pods: Informer,
    onError: (key: string, err: unknown) => void,
  ) {
    super(client, clock, replicaSets, pods, onError);
  }

  protected async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [ns, name] = splitKey(key);
    const rs = this.objects.get(ns, name);
    if (rs === undefined || isDeleting(rs)) return undefined;
    const spec = specOf(rs);
    const want = num(spec.replicas, 1);
    let pods = activePods(this.pods, rs);
    const template = (spec.template ?? {}) as Json;

    // Pods created or deleted: their events re-run this key at this same instant, and that run
    // writes the status once for the whole burst (the Deployment may scale us again meanwhile).
    // When creating or deleting fails, the status reports it (ReplicaFailure) before the retry.
    let failure: { reason: string; error: unknown } | undefined;
    try {
      if (pods.length < want) {
        for (let i = pods.length; i < want; i++)
          await this.createPod(this.pods, podFromTemplate(rs, template, {}));
        return undefined;
      }
      if (pods.length > want) {
        for (const p of [...pods].sort(deletionOrder).slice(0, pods.length - want))
          await this.deletePod(this.pods, p);
        return undefined;
      }
    } catch (error) {
      failure = { reason: pods.length < want ? "FailedCreate" : "FailedDelete", error };
      pods = activePods(this.pods, rs);
    }

    const now = this.clock.now();
    const counts = podCounts(pods, num(spec.minReadySeconds, 0), now);
    const tmplLabels = (((template.metadata ?? {}) as Json).labels ?? {}) as Record<string, string>;
    const fullyLabeled = pods.filter((p) =>
      Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
    ).length;
    const old = statusOf(rs);
    let conds = (Array.isArray(old.conditions) ? old.conditions : []) as Condition[];
    if (failure !== undefined) {
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      const c: Condition = { type: "ReplicaFailure", status: "True", reason: failure.reason, message };
      conds = setCondition(conds, c, now);
    } else conds = conds.filter((c) => c.type !== "ReplicaFailure");
    const status = omitZero(
      {
        replicas: pods.length,
        fullyLabeledReplicas: fullyLabeled,
        readyReplicas: counts.ready,
        availableReplicas: counts.available,
        observedGeneration: rs.metadata.generation,
        ...(conds.length > 0 ? { conditions: conds } : {}),
      },
      ["replicas"],
    );
    await this.writeStatus(rs, status);
    if (failure !== undefined) throw failure.error;
    return counts.nextAvailableInMs === undefined ? undefined : { requeueAfterMs: counts.nextAvailableInMs };
  }
}
