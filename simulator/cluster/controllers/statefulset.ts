/**
 * StatefulSet controller (minimal): pods `<name>-0 .. <name>-(n-1)` with
 * stable names, OrderedReady (one at a time, each after the previous is
 * Ready) or Parallel pod management, RollingUpdate from the highest ordinal
 * down (controller-revision-hash), and status.
 */
import { podTemplateHash } from "../../../engine/rollouts/replicas.ts";
import type { Clock } from "../../../engine/core/clock.ts";
import type { KubeClient, KubeObject } from "../../../engine/kube/types.ts";
import type { Informer, ReconcileResult } from "./informer.ts";
import { isPodReady, splitKey } from "./kubelet.ts";
import { activePods, podCounts, podFromTemplate } from "./replicaset.ts";
import { isDeleting, type Json, num, omitZero, specOf, statusOf } from "./util.ts";
import { WorkloadController } from "./workload.ts";

const REVISION_LABEL = "controller-revision-hash";

export class StatefulSetController extends WorkloadController {
  constructor(
    client: KubeClient,
    clock: Clock,
    sets: Informer,
    private readonly pods: Informer,
    onError: (key: string, err: unknown) => void,
  ) {
    super(client, clock, sets, pods, onError);
  }

  protected async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [ns, name] = splitKey(key);
    const sts = this.objects.get(ns, name);
    if (sts === undefined || isDeleting(sts)) return undefined;
    const spec = specOf(sts);
    const replicas = num(spec.replicas, 1);
    const template = (spec.template ?? {}) as Json;
    const updateRevision = `${name}-${podTemplateHash(template)}`;
    const parallel = spec.podManagementPolicy === "Parallel";
    const onDelete = ((spec.updateStrategy ?? {}) as Json).type === "OnDelete";
    const byOrdinal = new Map<number, KubeObject>();
    for (const p of activePods(this.pods, sts)) {
      const m = /-(\d+)$/.exec(p.metadata.name ?? "");
      if (m !== null) byOrdinal.set(Number(m[1]), p);
    }
    const podRef = (p: KubeObject) => ({
      apiVersion: "v1",
      kind: "Pod",
      name: p.metadata.name ?? "",
      namespace: ns,
    });
    const remove = async (p: KubeObject) => {
      await this.clock.track(this.client.delete(podRef(p)));
      this.pods.forget(p);
      for (const [i, q] of byOrdinal) if (q === p) byOrdinal.delete(i);
    };

    // create missing ordinals
    for (let i = 0; i < replicas; i++) {
      if (byOrdinal.has(i)) {
        if (!parallel && !isPodReady(byOrdinal.get(i)!)) break;
        continue;
      }
      const pod = podFromTemplate(sts, template, {
        name: `${name}-${i}`,
        labels: {
          [REVISION_LABEL]: updateRevision,
          "statefulset.kubernetes.io/pod-name": `${name}-${i}`,
          "apps.kubernetes.io/pod-index": String(i),
        },
      });
      const podSpec = pod.spec as Json;
      podSpec.hostname = `${name}-${i}`;
      if (typeof spec.serviceName === "string" && spec.serviceName !== "")
        podSpec.subdomain = spec.serviceName;
      byOrdinal.set(i, await this.createPod(this.pods, pod));
      if (!parallel) break;
    }
    // scale down from the highest ordinal
    const extra = [...byOrdinal.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
    for (const i of parallel ? extra : extra.slice(0, 1)) await remove(byOrdinal.get(i)!);
    // rolling update: replace the highest outdated pod once every pod is Ready
    const inRange = [...byOrdinal.entries()].filter(([i]) => i < replicas);
    const allReady = inRange.length === replicas && inRange.every(([, p]) => isPodReady(p));
    if (!onDelete && allReady && extra.length === 0) {
      const outdated = inRange
        .filter(([, p]) => p.metadata.labels?.[REVISION_LABEL] !== updateRevision)
        .sort(([a], [b]) => b - a)[0];
      if (outdated !== undefined) await remove(outdated[1]);
    }

    const pods = [...byOrdinal.values()];
    const counts = podCounts(pods, num(spec.minReadySeconds, 0), this.clock.now());
    const updated = pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length;
    const old = statusOf(sts);
    const currentRevision =
      updated === replicas && pods.length === replicas
        ? updateRevision
        : (old.currentRevision ?? updateRevision);
    const status = omitZero(
      {
        observedGeneration: sts.metadata.generation,
        replicas: pods.length,
        readyReplicas: counts.ready,
        currentReplicas: pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length,
        updatedReplicas: updated,
        currentRevision,
        updateRevision,
        collisionCount: 0,
        availableReplicas: counts.available,
      },
      ["replicas", "collisionCount", "availableReplicas"],
    );
    await this.writeStatus(sts, status);
    return counts.nextAvailableInMs === undefined ? undefined : { requeueAfterMs: counts.nextAvailableInMs };
  }
}
