/** autoscaling/HorizontalPodAutoscaler health (gitops-engine health_hpa.go). */
import type { KubeObject } from "../kube/types.ts";
import { conditions, type Condition } from "./access.ts";
import type { HealthStatus } from "./types.ts";

const DEGRADED = new Set([
  "AbleToScale/FailedGetScale",
  "AbleToScale/FailedUpdateScale",
  "ScalingActive/FailedGetResourceMetric",
  "ScalingActive/InvalidSelector",
]);
const HEALTHY = new Set([
  "AbleToScale/SucceededRescale",
  "ScalingLimited/DesiredWithinRange",
  "ScalingLimited/TooFewReplicas",
  "ScalingLimited/TooManyReplicas",
]);

function hpaConditions(obj: KubeObject): Condition[] {
  // autoscaling/v1 keeps its conditions in an annotation.
  const ann = obj.metadata.annotations?.["autoscaling.alpha.kubernetes.io/conditions"];
  if (obj.apiVersion === "autoscaling/v1" && ann !== undefined) {
    const parsed: unknown = JSON.parse(ann);
    return conditions({ status: { conditions: parsed } });
  }
  return conditions(obj);
}

export function hpaHealth(obj: KubeObject): HealthStatus {
  for (const c of hpaConditions(obj)) {
    const key = `${c.type}/${c.reason}`;
    if (DEGRADED.has(key)) return { status: "Degraded", message: c.message };
    if (HEALTHY.has(key)) return { status: "Healthy", message: c.message };
  }
  return { status: "Progressing", message: "Waiting to Autoscale" };
}
