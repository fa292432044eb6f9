/** apps/Deployment health (gitops-engine health_deployment.go, kubectl rollout status). */
import type { KubeObject } from "../kube/types.ts";
import { at, condition, num } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function deploymentHealth(obj: KubeObject): HealthStatus {
  if (at(obj, "spec", "paused") === true) return { status: "Suspended", message: "Deployment is paused" };
  const generation = obj.metadata.generation ?? 0;
  const observed = num(obj, "status", "observedGeneration") ?? 0;
  if (generation > observed) {
    return {
      status: "Progressing",
      message: "Waiting for rollout to finish: observed deployment generation less than desired generation",
    };
  }
  const progressing = condition(obj, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return {
      status: "Degraded",
      message: `Deployment "${obj.metadata.name}" exceeded its progress deadline`,
    };
  }
  const replicas = num(obj, "spec", "replicas") ?? 1;
  const statusReplicas = num(obj, "status", "replicas") ?? 0;
  const updated = num(obj, "status", "updatedReplicas") ?? 0;
  const available = num(obj, "status", "availableReplicas") ?? 0;
  if (updated < replicas) {
    return {
      status: "Progressing",
      message: `Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
    };
  }
  if (statusReplicas > updated) {
    return {
      status: "Progressing",
      message: `Waiting for rollout to finish: ${statusReplicas - updated} old replicas are pending termination...`,
    };
  }
  if (available < updated) {
    return {
      status: "Progressing",
      message: `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`,
    };
  }
  return { status: "Healthy" };
}
