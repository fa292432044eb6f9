/** core/Pod health (gitops-engine health_pod.go). */
import type { KubeObject } from "../kube/types.ts";
import { arr, at, isObject, num, str } from "./access.ts";
import { type HealthStatus, withMessage } from "./types.ts";

function failMessage(ctr: unknown): string {
  const term = at(ctr, "state", "terminated");
  if (!isObject(term)) return "";
  const message = str(term, "message") ?? "";
  if (message !== "") return message;
  if (str(term, "reason") === "OOMKilled") return "OOMKilled";
  const exit = num(term, "exitCode") ?? 0;
  if (exit !== 0) return `container "${str(ctr, "name") ?? ""}" failed with exit code ${exit}`;
  return "";
}

export function podHealth(obj: KubeObject): HealthStatus {
  const restartPolicy = str(obj, "spec", "restartPolicy") ?? "Always";
  const podMessage = str(obj, "status", "message");
  const containers = arr(obj, "status", "containerStatuses");
  if (restartPolicy === "Always") {
    const messages: string[] = [];
    for (const c of containers) {
      const reason = str(c, "state", "waiting", "reason");
      if (
        reason !== undefined &&
        (reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff"))
      ) {
        messages.push(str(c, "state", "waiting", "message") ?? reason);
      }
    }
    if (messages.length > 0) return { status: "Degraded", message: messages.join(", ") };
  }
  switch (str(obj, "status", "phase")) {
    case "Pending":
      return withMessage("Progressing", podMessage);
    case "Succeeded":
      return withMessage("Healthy", podMessage);
    case "Failed": {
      if (podMessage !== undefined && podMessage !== "") return { status: "Degraded", message: podMessage };
      for (const c of [...arr(obj, "status", "initContainerStatuses"), ...containers]) {
        const msg = failMessage(c);
        if (msg !== "") return { status: "Degraded", message: msg };
      }
      return { status: "Degraded" };
    }
    case "Running": {
      if (restartPolicy !== "Always") return withMessage("Progressing", podMessage);
      const ready = arr(obj, "status", "conditions").some(
        (c) => str(c, "type") === "Ready" && str(c, "status") === "True",
      );
      if (ready) return withMessage("Healthy", podMessage);
      if (containers.some((c) => isObject(at(c, "lastState", "terminated")))) {
        return withMessage("Degraded", podMessage);
      }
      return withMessage("Progressing", podMessage);
    }
    default:
      return withMessage("Unknown", podMessage);
  }
}
