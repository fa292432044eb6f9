/** Health statuses as Argo CD reports them, ordered from best to worst. */
import type { KubeObject } from "../kube/types.ts";

export type HealthStatusCode = "Healthy" | "Suspended" | "Progressing" | "Missing" | "Degraded" | "Unknown";

export interface HealthStatus {
  status: HealthStatusCode;
  message?: string;
}

/** A per-kind check. Returning undefined means "this object has no health". Throwing yields Unknown. */
export type HealthCheck = (obj: KubeObject) => HealthStatus | undefined;

/** Argo CD's order (gitops-engine health.go healthOrder): Healthy < Suspended < Progressing < Missing < Degraded < Unknown. */
export const HEALTH_ORDER: readonly HealthStatusCode[] = [
  "Healthy",
  "Suspended",
  "Progressing",
  "Missing",
  "Degraded",
  "Unknown",
];

/** True when `a` is strictly worse than `b`. */
export function isWorse(a: HealthStatusCode, b: HealthStatusCode): boolean {
  return HEALTH_ORDER.indexOf(a) > HEALTH_ORDER.indexOf(b);
}

export function isHealthStatusCode(s: unknown): s is HealthStatusCode {
  return typeof s === "string" && (HEALTH_ORDER as readonly string[]).includes(s);
}

/** A HealthStatus, leaving `message` out when it is empty. */
export function withMessage(status: HealthStatusCode, message: string | undefined): HealthStatus {
  return message === undefined || message === "" ? { status } : { status, message };
}
