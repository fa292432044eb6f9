/** argoproj.io/Application health (app of apps): the child app's own status.health. */
import type { KubeObject } from "../kube/types.ts";
import { str } from "./access.ts";
import { type HealthStatus, isHealthStatusCode, withMessage } from "./types.ts";

export function applicationHealth(obj: KubeObject): HealthStatus {
  const status = str(obj, "status", "health", "status");
  const message = str(obj, "status", "health", "message");
  if (status === undefined) return { status: "Unknown" };
  if (!isHealthStatusCode(status)) return { status: "Unknown", message: `unknown health status "${status}"` };
  return withMessage(status, message);
}
