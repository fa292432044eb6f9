/** A small hand-made two-world event log for renderer tests (answers worked out in the tests). */
import type { EventBase } from "../../engine/core/events.ts";

const H = 3_600_000;
const M = 60_000;
const START = Date.UTC(2026, 0, 5);

export function sampleLog(): EventBase[] {
  const ev: EventBase[] = [];
  const push = (e: Record<string, unknown> & { type: string; time: number }) => ev.push(e as EventBase);
  push({
    type: "run.started",
    time: START,
    scenario: "case-study",
    seed: 7,
    worlds: ["manual", "gitops"],
    services: 2,
    startTime: START,
    endTime: START + 14 * 24 * H,
  });
  let n = 0;
  for (const world of ["manual", "gitops"]) {
    for (let d = 0; d < 10; d++) {
      const t = START + d * 24 * H + 10 * H;
      const bad = d % 5 === 0;
      const id = `${world}-d${++n}`;
      const svc = d % 2 === 0 ? "payments-api" : "search-api";
      push({
        type: "change.committed",
        time: t - 2 * H,
        world,
        service: svc,
        tier: "tier-1",
        changeId: `c${n}`,
        version: `v${n}`,
        author: "dev",
        bad,
        rework: false,
      });
      push({
        type: "deploy.started",
        time: t,
        world,
        service: svc,
        tier: "tier-1",
        deployId: id,
        changeId: `c${n}`,
        version: `v${n}`,
        previousVersion: "",
        method: world === "manual" ? "kubectl" : "gitops",
        bad,
        faultKind: bad ? "error-spike" : undefined,
        rework: false,
      });
      const aborted = world === "gitops" && bad;
      push({
        type: "deploy.finished",
        time: t + (aborted ? 3 : 5) * M,
        world,
        service: svc,
        deployId: id,
        outcome: aborted ? "aborted" : "succeeded",
        maxWeight: aborted ? 5 : 100,
      });
      if (bad) {
        push({
          type: "incident.opened",
          time: t + (aborted ? 2 : 10) * M,
          world,
          service: svc,
          incidentId: `i${n}`,
          cause: "bad-deploy",
          deployId: id,
          detectedBy: aborted ? "canary" : "alert",
          impactStartedAt: t,
        });
        push({
          type: "incident.resolved",
          time: t + (aborted ? 3 : 25) * M,
          world,
          service: svc,
          incidentId: `i${n}`,
          resolution: aborted ? "canary-abort" : "rollback",
        });
        push({
          type: "exposure",
          time: t + 25 * M,
          world,
          service: svc,
          deployId: id,
          requests: aborted ? 300 : 60_000,
          failedRequests: aborted ? 9 : 1800,
          errorBudgetMinutes: aborted ? 0 : 25,
          maxWeight: aborted ? 5 : 100,
        });
      }
      if (world === "gitops") {
        push({
          type: "canary.verdict",
          time: t + 3 * M,
          world,
          service: svc,
          deployId: id,
          verdict: aborted ? "aborted" : "promoted",
          bad,
          timeToVerdictMs: aborted ? 2 * M : 20 * M,
          weightAtVerdict: aborted ? 5 : 100,
        });
      }
    }
    const r = { apiVersion: "v1", kind: "ConfigMap", namespace: "prod", name: "cfg" };
    push({
      type: "drift.injected",
      time: START + 3 * 24 * H,
      world,
      service: "payments-api",
      driftId: `${world}-x1`,
      kind: "configmap-edit",
      identity: "alice",
      allowed: true,
      resource: r,
    });
    push({
      type: "drift.resolved",
      time: START + 14 * 24 * H,
      world,
      service: "payments-api",
      driftId: `${world}-x1`,
      detected: world === "gitops",
      healed: world === "gitops",
      ...(world === "gitops"
        ? { detectedAt: START + 3 * 24 * H + 1000, healedAt: START + 3 * 24 * H + 3000 }
        : {}),
    });
  }
  push({ type: "run.finished", time: START + 14 * 24 * H, scenario: "case-study" });
  return ev;
}
