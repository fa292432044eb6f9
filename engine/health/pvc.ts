/** core/PersistentVolumeClaim health (gitops-engine health_pvc.go). */
import type { KubeObject } from "../kube/types.ts";
import { str } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function pvcHealth(obj: KubeObject): HealthStatus {
  const phase = str(obj, "status", "phase");
  switch (phase) {
    case "Lost":
      return { status: "Degraded" };
    case "Pending":
      return { status: "Progressing" };
    case "Bound":
      return { status: "Healthy" };
    default:
      return { status: "Unknown", message: `unknown PersistentVolumeClaim phase "${phase ?? ""}"` };
  }
}
