/** core/Service health (gitops-engine health_service.go): a LoadBalancer waits for an ingress point. */
import type { KubeObject } from "../kube/types.ts";
import { arr, str } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function serviceHealth(obj: KubeObject): HealthStatus {
  if (
    str(obj, "spec", "type") === "LoadBalancer" &&
    arr(obj, "status", "loadBalancer", "ingress").length === 0
  ) {
    return { status: "Progressing" };
  }
  return { status: "Healthy" };
}
