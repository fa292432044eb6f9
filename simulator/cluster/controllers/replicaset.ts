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
import { controllerRef, isDeleting, type Json, num, omitZero, specOf, statusOf } from "./util.ts";
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
    spec: { ...structuredClone((template.spec ?? {}) as Json), nodeName: NODE_NAME },
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

    if (pods.length < want) {
      const created: KubeObject[] = [];
      for (let i = pods.length; i < want; i++)
        created.push(await this.createPod(this.pods, podFromTemplate(rs, template, {})));
      pods = [...pods, ...created];
    } else if (pods.length > want) {
      const victims = [...pods].sort(deletionOrder).slice(0, pods.length - want);
      for (const p of victims) await this.deletePod(this.pods, p);
      pods = pods.filter((p) => !victims.includes(p));
    }

    const now = this.clock.now();
    const counts = podCounts(pods, num(spec.minReadySeconds, 0), now);
    const tmplLabels = (((template.metadata ?? {}) as Json).labels ?? {}) as Record<string, string>;
    const fullyLabeled = pods.filter((p) =>
      Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
    ).length;
    const old = statusOf(rs);
    const status = omitZero(
      {
        replicas: pods.length,
        fullyLabeledReplicas: fullyLabeled,
        readyReplicas: counts.ready,
        availableReplicas: counts.available,
        observedGeneration: rs.metadata.generation,
        ...(Array.isArray(old.conditions) ? { conditions: old.conditions } : {}),
      },
      ["replicas"],
    );
    await this.writeStatus(rs, status);
    return counts.nextAvailableInMs === undefined ? undefined : { requeueAfterMs: counts.nextAvailableInMs };
  }
}
