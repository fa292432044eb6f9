import { describe, expect, it } from "vitest";
import type { EventBase } from "../engine/core/events.ts";
import { doraCluster, worldMetrics } from "./dora.ts";
import { quantile } from "./stats.ts";

const H = 3_600_000;
const M = 60_000;
const D = 24 * H;
const W = "manual";

/** A tiny builder for hand-made logs whose answers are worked out in each test. */
function log() {
  const events: EventBase[] = [
    {
      type: "run.started",
      time: 0,
      scenario: "t",
      seed: 1,
      worlds: [W],
      services: 2,
      startTime: 0,
      endTime: 10 * D,
    } as EventBase,
  ];
  let n = 0;
  const api = {
    events,
    deploy(
      service: string,
      committedAt: number,
      startedAt: number,
      finishedAt: number,
      o: { bad?: boolean; rework?: boolean; outcome?: string } = {},
    ) {
      const id = `d${++n}`;
      events.push({
        type: "change.committed",
        time: committedAt,
        world: W,
        service,
        tier: "tier-2",
        changeId: `c${n}`,
        version: `v${n}`,
        author: "a",
        bad: o.bad ?? false,
        rework: o.rework ?? false,
      } as EventBase);
      events.push({
        type: "deploy.started",
        time: startedAt,
        world: W,
        service,
        tier: "tier-2",
        deployId: id,
        changeId: `c${n}`,
        version: `v${n}`,
        previousVersion: "",
        method: "kubectl",
        bad: o.bad ?? false,
        rework: o.rework ?? false,
      } as EventBase);
      events.push({
        type: "deploy.finished",
        time: finishedAt,
        world: W,
        service,
        deployId: id,
        outcome: o.outcome ?? "succeeded",
        maxWeight: 100,
      } as EventBase);
      return id;
    },
    incident(
      service: string,
      openedAt: number,
      impactAt: number,
      resolvedAt: number | undefined,
      o: { deployId?: string; by?: string } = {},
    ) {
      const id = `i${++n}`;
      events.push({
        type: "incident.opened",
        time: openedAt,
        world: W,
        service,
        incidentId: id,
        cause: "bad-deploy",
        deployId: o.deployId,
        detectedBy: o.by ?? "alert",
        impactStartedAt: impactAt,
      } as EventBase);
      if (resolvedAt !== undefined)
        events.push({
          type: "incident.resolved",
          time: resolvedAt,
          world: W,
          service,
          incidentId: id,
          resolution: "rollback",
        } as EventBase);
      return id;
    },
  };
  return api;
}

describe("worldMetrics (DORA)", () => {
  it("no deploys: rates are null, counts zero, cluster rule still stated", () => {
    const m = worldMetrics(log().events, W);
    expect(m.dora.productionDeployments).toBe(0);
    expect(m.dora.changeFailureRate).toBeNull();
    expect(m.dora.reworkRate).toBeNull();
    expect(m.dora.leadTimeHours).toEqual({ n: 0, median: null, p90: null, mean: null });
    expect(m.dora.cluster.rule).toMatch(/worst of its four/);
  });

  it("no failures: CFR 0, lead time median and p90 worked out", () => {
    const l = log();
    l.deploy("a", 0, 1 * H, 2 * H); // lead 2h
    l.deploy("a", 0, 3 * H, 4 * H); // lead 4h
    l.deploy("b", 10 * H, 11 * H, 16 * H); // lead 6h
    const m = worldMetrics(l.events, W);
    expect(m.dora.productionDeployments).toBe(3);
    expect(m.dora.changeFailureRate).toBe(0);
    expect(m.dora.leadTimeHours.median).toBe(4);
    expect(m.dora.leadTimeHours.p90).toBeCloseTo(5.6, 10); // 4 + 0.8 * (6 - 4)
    expect(m.dora.deploymentsPerDay).toBe(0.3); // 3 deploys / 10 days
    expect(m.dora.deploymentsPerServicePerWeek).toBeCloseTo(1.05, 10); // 3 / 2 / 10 * 7
  });

  it("DevLake attribution: an incident spanning two deploys counts against the latest one finished before it", () => {
    const l = log();
    const d1 = l.deploy("a", 0, 0, 1 * H, { bad: true });
    const d2 = l.deploy("a", 0, 2 * H, 3 * H); // good, but the incident opens after it
    l.incident("a", 4 * H, 1 * H, 5 * H, { deployId: d1 });
    const m = worldMetrics(l.events, W);
    // observed: d2 is blamed (latest finished before 4h): 1 of 2; truth: d1 was bad: 1 of 2
    expect(m.dora.changeFailureRate).toBe(0.5);
    expect(m.dora.changeFailureRateTruth).toBe(0.5);
    expect(m.dora.recoveryTimeMinutes.median).toBe(240); // resolved 5h - impact 1h
    expect(d2).toBe("d2");
  });

  it("unresolved incidents are counted, not given a recovery time; canary incidents are not blamed on production", () => {
    const l = log();
    l.deploy("a", 0, 0, 1 * H, { bad: true });
    l.incident("a", 2 * H, 1 * H, undefined);
    l.deploy("b", 0, 0, 1 * H);
    const aborted = l.deploy("b", 0, 2 * H, 2 * H + 5 * M, { bad: true, outcome: "aborted" });
    l.incident("b", 2 * H + 3 * M, 2 * H, 2 * H + 5 * M, { deployId: aborted, by: "canary" });
    const m = worldMetrics(l.events, W);
    expect(m.dora.productionDeployments).toBe(2);
    expect(m.dora.unresolvedIncidents).toBe(1);
    expect(m.dora.recoveryTimeMinutes.n).toBe(1);
    expect(m.dora.recoveryTimeMinutes.median).toBe(5);
    expect(m.dora.changeFailureRate).toBe(0.5); // only the alert incident on "a" counts
    expect(m.dora.changeFailureRateTruth).toBe(0.5);
  });

  it("truth vs observed gap: a bad deploy nobody noticed", () => {
    const l = log();
    l.deploy("a", 0, 0, 1 * H, { bad: true });
    l.deploy("a", 0, 2 * H, 3 * H);
    l.deploy("b", 0, 2 * H, 3 * H);
    l.deploy("b", 0, 4 * H, 5 * H, { rework: true });
    const m = worldMetrics(l.events, W);
    expect(m.dora.changeFailureRate).toBe(0);
    expect(m.dora.changeFailureRateTruth).toBe(0.25);
    expect(m.dora.changeFailureRateGap).toBe(0.25);
    expect(m.dora.reworkRate).toBe(0.25);
  });

  it("drift and canary outcomes", () => {
    const l = log();
    const r = { apiVersion: "v1", kind: "ConfigMap", namespace: "p", name: "c" };
    l.events.push(
      {
        type: "drift.injected",
        time: 0,
        world: W,
        service: "a",
        driftId: "x1",
        kind: "configmap-edit",
        identity: "alice",
        allowed: true,
        resource: r,
      } as EventBase,
      {
        type: "drift.injected",
        time: 0,
        world: W,
        service: "a",
        driftId: "x2",
        kind: "configmap-edit",
        identity: "bob",
        allowed: false,
        resource: r,
      } as EventBase,
      {
        type: "drift.injected",
        time: 0,
        world: W,
        service: "b",
        driftId: "x3",
        kind: "env-change",
        identity: "carol",
        allowed: true,
        resource: r,
      } as EventBase,
      {
        type: "drift.resolved",
        time: 9,
        world: W,
        service: "a",
        driftId: "x1",
        detected: true,
        healed: true,
        detectedAt: 1000,
        healedAt: 3000,
      } as EventBase,
      {
        type: "drift.resolved",
        time: 9,
        world: W,
        service: "b",
        driftId: "x3",
        detected: false,
        healed: false,
      } as EventBase,
      {
        type: "canary.verdict",
        time: 1,
        world: W,
        service: "a",
        deployId: "z",
        verdict: "aborted",
        bad: true,
        timeToVerdictMs: 2 * M,
        weightAtVerdict: 5,
      } as EventBase,
      {
        type: "canary.verdict",
        time: 1,
        world: W,
        service: "a",
        deployId: "z",
        verdict: "aborted",
        bad: false,
        timeToVerdictMs: 1 * M,
        weightAtVerdict: 5,
      } as EventBase,
      {
        type: "canary.verdict",
        time: 1,
        world: W,
        service: "a",
        deployId: "z",
        verdict: "promoted",
        bad: true,
        timeToVerdictMs: 30 * M,
        weightAtVerdict: 100,
      } as EventBase,
      {
        type: "canary.verdict",
        time: 1,
        world: W,
        service: "a",
        deployId: "z",
        verdict: "promoted",
        bad: false,
        timeToVerdictMs: 30 * M,
        weightAtVerdict: 100,
      } as EventBase,
    );
    const m = worldMetrics(l.events, W);
    expect(m.drift).toMatchObject({ injected: 2, denied: 1, detected: 1, healed: 1, undetected: 1 });
    expect(m.drift.byKind["configmap-edit"]).toEqual({ injected: 1, denied: 1, detected: 1, healed: 1 });
    expect(m.drift.timeToDetectSeconds.median).toBe(1);
    expect(m.drift.timeToHealSeconds.median).toBe(3);
    expect(m.canary).toMatchObject({
      trueAborts: 1,
      falseAborts: 1,
      escapedBadVersions: 1,
      correctPromotions: 1,
      detectionRate: 0.5,
      falseAbortRate: 0.5,
    });
    expect(m.canary.timeToDetectionMinutes.median).toBe(2);
  });
});

describe("doraCluster", () => {
  it.each([
    [
      {
        deploysPerServicePerDay: 2,
        leadTimeHoursMedian: 1,
        changeFailureRate: 0.03,
        recoveryMinutesMedian: 4,
      },
      "elite",
    ],
    [
      {
        deploysPerServicePerDay: 0.5,
        leadTimeHoursMedian: 1,
        changeFailureRate: 0.03,
        recoveryMinutesMedian: 4,
      },
      "high",
    ],
    [
      {
        deploysPerServicePerDay: 2,
        leadTimeHoursMedian: 1,
        changeFailureRate: 0.18,
        recoveryMinutesMedian: 22,
      },
      "low",
    ],
    [
      {
        deploysPerServicePerDay: 0.05,
        leadTimeHoursMedian: 200,
        changeFailureRate: 0.12,
        recoveryMinutesMedian: 120,
      },
      "medium",
    ],
  ])("%j -> %s", (input, expected) => {
    expect(doraCluster(input).overall).toBe(expected);
  });
});

describe("quantile", () => {
  it("interpolates like numpy", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 10);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
});
