/** argoproj.io/AnalysisRun health: Argo CD's built-in Lua check. */
import type { KubeObject } from "../kube/types.ts";
import { isObject, str } from "./access.ts";
import type { HealthStatus } from "./types.ts";

export function analysisRunHealth(obj: KubeObject): HealthStatus {
  if (!isObject(obj.status)) {
    return {
      status: "Progressing",
      message: "Waiting for analysis run to finish: status has not been reconciled.",
    };
  }
  const msg = str(obj, "status", "message");
  const or = (d: string) => (msg === undefined || msg === "" ? d : msg);
  switch (str(obj, "status", "phase")) {
    case "Pending":
    case "Running":
      return { status: "Progressing", message: "Analysis run is running" };
    case "Successful":
      return { status: "Healthy", message: or("Analysis run completed successfully") };
    case "Failed":
      return { status: "Degraded", message: or("Analysis run failed") };
    case "Error":
      return { status: "Degraded", message: or("Analysis run had an error") };
    case "Inconclusive":
      return { status: "Unknown", message: or("Analysis run was inconclusive") };
    default:
      return {
        status: "Progressing",
        message: "Waiting for analysis run to finish: status has not been reconciled.",
      };
  }
}
