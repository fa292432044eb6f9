/** networking.k8s.io/Ingress health (gitops-engine health_ingress.go). */
import type { KubeObject } from "../kube/types.ts";
import { arr } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function ingressHealth(obj: KubeObject): HealthStatus {
  return arr(obj, "status", "loadBalancer", "ingress").length > 0
    ? { status: "Healthy" }
    : { status: "Progressing" };
}
