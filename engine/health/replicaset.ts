/** apps/ReplicaSet health (gitops-engine health_replicaset.go). */
import type { KubeObject } from "../kube/types.ts";
import { condition, num } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function replicaSetHealth(obj: KubeObject): HealthStatus {
  const observed = num(obj, "status", "observedGeneration") ?? 0;
  if ((obj.metadata.generation ?? 0) > observed) {
    return {
      status: "Progressing",
      message: "Waiting for rollout to finish: observed replica set generation less than desired generation",
    };
  }
  const failure = condition(obj, "ReplicaFailure");
  if (failure?.status === "True") return { status: "Degraded", message: failure.message };
  const replicas = num(obj, "spec", "replicas") ?? 1;
  const available = num(obj, "status", "availableReplicas") ?? 0;
  if (available < replicas) {
    return {
      status: "Progressing",
      message: `Waiting for rollout to finish: ${available} out of ${replicas} new replicas are available...`,
    };
  }
  return { status: "Healthy" };
}
