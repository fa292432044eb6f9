/** apps/StatefulSet health (gitops-engine health_statefulset.go). */
import type { KubeObject } from "../kube/types.ts";
import { at, num, str } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function statefulSetHealth(obj: KubeObject): HealthStatus {
  const observed = num(obj, "status", "observedGeneration") ?? 0;
  if (observed === 0 || (obj.metadata.generation ?? 0) > observed) {
    return { status: "Progressing", message: "Waiting for statefulset spec update to be observed..." };
  }
  const replicas = num(obj, "spec", "replicas") ?? 1;
  const ready = num(obj, "status", "readyReplicas") ?? 0;
  const updated = num(obj, "status", "updatedReplicas") ?? 0;
  if (ready < replicas) {
    return { status: "Progressing", message: `Waiting for ${replicas - ready} pods to be ready...` };
  }
  const strategy = str(obj, "spec", "updateStrategy", "type") ?? "RollingUpdate";
  const rolling = at(obj, "spec", "updateStrategy", "rollingUpdate");
  if (strategy === "RollingUpdate" && rolling !== undefined) {
    const partition = num(rolling, "partition");
    if (partition !== undefined && updated < replicas - partition) {
      return {
        status: "Progressing",
        message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
      };
    }
    return {
      status: "Healthy",
      message: `partitioned roll out complete: ${updated} new pods have been updated...`,
    };
  }
  if (strategy === "OnDelete") return { status: "Healthy", message: `statefulset has ${ready} ready pods` };
  const updateRevision = str(obj, "status", "updateRevision") ?? "";
  const currentRevision = str(obj, "status", "currentRevision") ?? "";
  if (updateRevision !== currentRevision) {
    return {
      status: "Progressing",
      message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${updateRevision}...`,
    };
  }
  const current = num(obj, "status", "currentReplicas") ?? 0;
  return {
    status: "Healthy",
    message: `statefulset rolling update complete ${current} pods at revision ${currentRevision}...`,
  };
}
