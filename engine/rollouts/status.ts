/** Pure status helpers: conditions and the phase, in upstream's order of evaluation. */
import { rfc3339 } from "../core/clock.ts";
import type { RolloutCondition, RolloutStatus } from "./types.ts";

/** Set (or replace) a condition; lastTransitionTime moves only when status changes. */
export function setCondition(
  status: RolloutStatus,
  type: RolloutCondition["type"],
  s: RolloutCondition["status"],
  reason: string,
  message: string,
  nowMs: number,
): void {
  const conds = status.conditions ?? [];
  const i = conds.findIndex((c) => c.type === type);
  const prev = conds[i];
  if (prev !== undefined && prev.status === s && prev.reason === reason && prev.message === message) return;
  const now = rfc3339(nowMs);
  const next: RolloutCondition = {
    type,
    status: s,
    reason,
    message,
    lastUpdateTime: now,
    lastTransitionTime: prev !== undefined && prev.status === s ? prev.lastTransitionTime : now,
  };
  status.conditions = i >= 0 ? conds.map((c, j) => (j === i ? next : c)) : [...conds, next];
}

export function removeCondition(status: RolloutStatus, type: RolloutCondition["type"]): void {
  if (status.conditions === undefined) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

export function getCondition(
  status: RolloutStatus,
  type: RolloutCondition["type"],
): RolloutCondition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

export interface PhaseInput {
  status: RolloutStatus;
  specPaused: boolean;
  replicas: number;
}

/**
 * Upstream rolloututil.CalculateRolloutPhase order: InvalidSpec or Progressing
 * RolloutAborted / ProgressDeadlineExceeded -> Degraded; paused -> Paused;
 * replicas not updated / available -> Progressing; stable not the new version ->
 * Progressing; else Healthy.
 */
export function calculatePhase(p: PhaseInput): {
  phase: NonNullable<RolloutStatus["phase"]>;
  message: string;
} {
  const s = p.status;
  const invalid = getCondition(s, "InvalidSpec");
  if (invalid !== undefined && invalid.status === "True")
    return { phase: "Degraded", message: `InvalidSpec: ${invalid.message}` };
  const prog = getCondition(s, "Progressing");
  if (
    prog !== undefined &&
    (prog.reason === "RolloutAborted" || prog.reason === "ProgressDeadlineExceeded")
  ) {
    return { phase: "Degraded", message: `${prog.reason}: ${prog.message}` };
  }
  if (p.specPaused) return { phase: "Paused", message: "manually paused" };
  const pc = s.pauseConditions?.[0];
  if (pc !== undefined) return { phase: "Paused", message: pc.reason };
  if ((s.updatedReplicas ?? 0) < p.replicas && s.stableRS === s.currentPodHash) {
    return { phase: "Progressing", message: "more replicas need to be updated" };
  }
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0) && s.stableRS === s.currentPodHash) {
    return { phase: "Progressing", message: "updated replicas are still becoming available" };
  }
  if ((s.replicas ?? 0) > p.replicas && s.stableRS === s.currentPodHash) {
    return { phase: "Progressing", message: "old replicas are pending termination" };
  }
  if (s.stableRS !== s.currentPodHash)
    return { phase: "Progressing", message: "waiting for all steps to complete" };
  if ((s.availableReplicas ?? 0) < p.replicas)
    return { phase: "Progressing", message: "updated replicas are still becoming available" };
  return { phase: "Healthy", message: "" };
}
