/**
 * Job controller (minimal): runs `parallelism` pods at a time until
 * `completions` succeeded (condition Complete) or more than `backoffLimit`
 * failed (condition Failed, reason BackoffLimitExceeded).
 */
import { type Clock, rfc3339 } from "../../../engine/core/clock.ts";
import type { KubeClient } from "../../../engine/kube/types.ts";
import type { Informer, ReconcileResult } from "./informer.ts";
import { isPodReady, splitKey } from "./kubelet.ts";
import { activePods, podFromTemplate } from "./replicaset.ts";
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
} from "./util.ts";
import { WorkloadController } from "./workload.ts";

export class JobController extends WorkloadController {
  constructor(
    client: KubeClient,
    clock: Clock,
    jobs: Informer,
    private readonly pods: Informer,
    onError: (key: string, err: unknown) => void,
  ) {
    super(client, clock, jobs, pods, onError);
  }

  protected async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [ns, name] = splitKey(key);
    const job = this.objects.get(ns, name);
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
      for (const p of active) await this.deletePod(this.pods, p);
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
        active.push(await this.createPod(this.pods, pod));
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
    await this.writeStatus(job, status);
    return undefined;
  }
}
