/**
 * argoproj.io/Rollout health: Argo CD's built-in Lua check
 * (resource_customizations/argoproj.io/Rollout/health.lua).
 */
import type { KubeObject } from "../kube/types.ts";
import { at, conditions, isObject, num, str } from "./access.ts";
import { type HealthStatus, isHealthStatusCode, withMessage } from "./types.ts";

function generationObserved(obj: KubeObject): boolean {
  if (!isObject(obj.status)) return false;
  const observed = num(obj, "status", "observedGeneration");
  const generation = obj.metadata.generation ?? 0;
  // v0.9 rollouts kept a hash there: treat as observed.
  if (observed === undefined || observed > generation) return true;
  return observed === generation;
}

function workloadObserved(obj: KubeObject): boolean {
  if (at(obj, "spec", "workloadRef") === undefined) return true;
  const wanted = str(obj, "metadata", "annotations", "rollout.argoproj.io/workload-generation");
  const seen = str(obj, "status", "workloadObservedGeneration");
  if (wanted === undefined) return true;
  return seen !== undefined && Number(seen) >= Number(wanted);
}

export function rolloutHealth(obj: KubeObject): HealthStatus {
  if (!generationObserved(obj) || !workloadObserved(obj)) {
    return { status: "Progressing", message: "Waiting for rollout spec update to be observed" };
  }
  const phase = str(obj, "status", "phase");
  const message = str(obj, "status", "message");
  if (phase !== undefined) {
    if (phase === "Paused") return withMessage("Suspended", message);
    if (isHealthStatusCode(phase)) return withMessage(phase, message);
    return { status: "Unknown", message: `unknown Rollout phase "${phase}"` };
  }
  // Pre-v1.0 controllers: derive from conditions and replica counts.
  for (const c of conditions(obj)) {
    if (c.type === "InvalidSpec") return withMessage("Degraded", c.message);
    if (
      c.type === "Progressing" &&
      (c.reason === "RolloutAborted" || c.reason === "ProgressDeadlineExceeded")
    ) {
      return withMessage("Degraded", c.message);
    }
  }
  if (at(obj, "spec", "paused") === true || at(obj, "status", "verifyingPreview") === true) {
    return { status: "Suspended", message: "Rollout is paused" };
  }
  const desired = num(obj, "spec", "replicas") ?? 1;
  const replicas = num(obj, "status", "replicas") ?? 0;
  const updated = num(obj, "status", "updatedReplicas") ?? 0;
  const available = num(obj, "status", "availableReplicas") ?? 0;
  if (updated < desired) {
    return {
      status: "Progressing",
      message: "Waiting for roll out to finish: More replicas need to be updated",
    };
  }
  if (isObject(at(obj, "spec", "strategy", "canary")) && replicas > updated) {
    return {
      status: "Progressing",
      message: "Waiting for roll out to finish: old replicas are pending termination",
    };
  }
  if (available < updated) {
    return {
      status: "Progressing",
      message: "Waiting for roll out to finish: updated replicas are still becoming available",
    };
  }
  return { status: "Healthy" };
}
