/** batch/Job health (gitops-engine health_job.go). */
import type { KubeObject } from "../kube/types.ts";
import { at, conditions } from "./access.ts";
import { type HealthStatus, withMessage } from "./types.ts";

export function jobHealth(obj: KubeObject): HealthStatus {
  let failed = false;
  let failMsg = "";
  let complete = false;
  let message = "";
  let suspended = false;
  for (const c of conditions(obj)) {
    if (c.status !== "True") continue;
    if (c.type === "Failed") {
      failed = true;
      complete = true;
      failMsg = c.message;
    } else if (c.type === "Complete") {
      complete = true;
      message = c.message;
    } else if (c.type === "Suspended") {
      complete = true;
      message = c.message;
      suspended = true;
    }
  }
  if (!complete) {
    if (at(obj, "spec", "suspend") === true) return { status: "Suspended", message: "Job is suspended" };
    return withMessage("Progressing", message);
  }
  if (failed) return { status: "Degraded", message: failMsg };
  if (suspended) return { status: "Suspended", message };
  return withMessage("Healthy", message);
}
