/**
 * Job controller (minimal): runs `parallelism` pods at a time until
 * `completions` succeeded (condition Complete) or more than `backoffLimit`
 * failed (condition Failed, reason BackoffLimitExceeded).
 */
import { type Clock, rfc3339 } from "../../../engine/core/clock.ts";
import type { KubeClient } from "../../../engine/kube/types.ts";
import { type Informer, keyOf, type ReconcileResult, WorkQueue } from "./informer.ts";
import { isPodReady, splitKey } from "./kubelet.ts";
import { activePods, FIELD_MANAGER, podFromTemplate } from "./replicaset.ts";
import {
  type Condition,
  getCondition,
  isDeleting,
  type Json,
  num,
  omitZero,
  setCondition,
  specOf,
  statusOf,
  statusPatch,
} from "./util.ts";

export class JobController {
  readonly queue: WorkQueue;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly jobs: Informer,
    private readonly pods: Informer,
    onError: (key: string, err: unknown) => void,
  ) {
    this.queue = new WorkQueue(clock, (k) => this.reconcile(k), onError);
    jobs.on((type, j) => {
      if (type !== "DELETED") this.queue.add(keyOf(j));
    });
    pods.on((_type, pod) => {
      const ref = pod.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === "Job");
      if (ref !== undefined) this.queue.add(`${pod.metadata.namespace ?? ""}/${ref.name}`);
    });
  }

  stop(): void {
    this.queue.stop();
  }

  private async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [ns, name] = splitKey(key);
    const job = this.jobs.get(ns, name);
    if (job === undefined || isDeleting(job)) return undefined;
    const old = statusOf(job);
    const finished = ["Complete", "Failed"].some((t) => getCondition(old, t)?.status === "True");
    if (finished) return undefined;
    const spec = specOf(job);
    const completions = num(spec.completions, 1);
    const parallelism = num(spec.parallelism, 1);
    const backoffLimit = num(spec.backoffLimit, 6);
    const all = this.pods.byIndex("controller", job.metadata.uid ?? "");
    const phase = (p: (typeof all)[number]) => statusOf(p).phase;
    const succeeded = all.filter((p) => phase(p) === "Succeeded").length;
    const failed = all.filter((p) => phase(p) === "Failed").length;
    let active = activePods(this.pods, job);
    const now = this.clock.now();
    let conds = [...((old.conditions ?? []) as Condition[])];
    let completionTime: string | undefined;

    if (failed > backoffLimit) {
      for (const p of active) {
        await this.clock.track(
          this.client.delete({ apiVersion: "v1", kind: "Pod", name: p.metadata.name ?? "", namespace: ns }),
        );
        this.pods.forget(p);
      }
      active = [];
      conds = setCondition(
        conds,
        {
          type: "Failed",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
          lastProbeTime: rfc3339(now),
        },
        now,
      );
    } else if (succeeded >= completions) {
      completionTime = rfc3339(now);
      conds = setCondition(conds, { type: "Complete", status: "True", lastProbeTime: rfc3339(now) }, now);
    } else {
      const want = Math.min(parallelism, completions - succeeded);
      const uid = job.metadata.uid ?? "";
      for (let i = active.length; i < want; i++) {
        const pod = podFromTemplate(job, (spec.template ?? {}) as Json, {
          labels: {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
          },
        });
        const created = await this.clock.track(this.client.create(pod, { fieldManager: FIELD_MANAGER }));
        this.pods.set(created);
        active.push(created);
      }
    }
    const status = omitZero({
      ...(conds.length > 0 ? { conditions: conds } : {}),
      startTime: old.startTime ?? rfc3339(now),
      completionTime: completionTime ?? old.completionTime,
      active: active.length,
      ready: active.filter(isPodReady).length,
      succeeded,
      failed,
    });
    const patch = statusPatch(old, status);
    if (patch !== undefined) {
      const written = await this.clock.track(
        this.client.patch({ apiVersion: "batch/v1", kind: "Job", name, namespace: ns }, patch, "merge", {
          subresource: "status",
          fieldManager: FIELD_MANAGER,
        }),
      );
      this.jobs.set(written);
    }
    return undefined;
  }
}
