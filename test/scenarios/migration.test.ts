/**
 * The migration world through scenarios/ci-migration.yaml (its pass/twin pair runs with the other
 * CI scenarios, see ci.ts TWINS): who runs each service when, what the revocation denies, where
 * queued kubectl changes go after a cutover, and same seed -> the same log byte for byte.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { toJsonl } from "../../engine/core/events.ts";
import type { EventBase } from "../../engine/core/events.ts";
import type {
  DeployStartedEvent,
  DriftInjectedEvent,
  DriftResolvedEvent,
  IncidentOpenedEvent,
} from "../../simulator/events.ts";
import type { AccessRevokedEvent, MigrationCutoverEvent } from "../../simulator/world/migration.ts";
import type { RunResult } from "../../simulator/scenario/run.ts";
import { failedNames, runCi } from "./ci.ts";

const FILE = "ci-migration.yaml";
const START = Date.parse("2026-01-05T00:00:00Z");
const H = 3_600_000;
/** ci-migration.yaml: tier of each service (indexed naming) and when its phase starts. */
const PHASE: Record<string, number> = {
  "svc-2": 0,
  "svc-4": 0,
  "svc-1": 12 * H,
  "svc-3": 12 * H,
  "svc-0": 24 * H,
  "svc-5": 24 * H,
};

function of<T extends EventBase>(r: RunResult, type: string): T[] {
  return r.events.filter((e) => e.type === type) as T[];
}

describe("migration world (ci-migration.yaml)", () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runCi(FILE);
  }, 300_000);

  it("passes its assertions", () => {
    expect(failedNames(run)).toEqual([]);
  });

  it("cuts every service over once, at its phase start, in one commit per phase", () => {
    const cut = of<MigrationCutoverEvent>(run, "migration.cutover");
    expect(cut.map((c) => c.service).sort()).toEqual(Object.keys(PHASE).sort());
    for (const c of cut) {
      expect(c.phaseStartedAt - START, c.service).toBe(PHASE[c.service]);
      expect(c.time, c.service).toBeGreaterThanOrEqual(c.phaseStartedAt);
    }
    const commits = new Map(cut.map((c) => [c.phaseStartedAt, c.commit]));
    for (const c of cut) expect(c.commit).toBe(commits.get(c.phaseStartedAt));
    expect(new Set(cut.map((c) => c.commit)).size).toBe(3);
  });

  it("deploys by kubectl before a service's cutover and by Git after it", () => {
    const cutAt = new Map(
      of<MigrationCutoverEvent>(run, "migration.cutover").map((c) => [c.service, c.time]),
    );
    const deploys = of<DeployStartedEvent>(run, "deploy.started");
    expect(deploys.some((d) => d.method === "kubectl")).toBe(true);
    expect(deploys.some((d) => d.method === "gitops")).toBe(true);
    for (const d of deploys)
      expect(d.method, `${d.deployId} at ${(d.time - START) / H}h`).toBe(
        d.time >= cutAt.get(d.service)! ? "gitops" : "kubectl",
      );
  });

  it("the bad kubectl release before the cutover is noticed by an alert, its fix ships as a commit after it", () => {
    const inc = of<IncidentOpenedEvent>(run, "incident.opened");
    expect(inc.find((i) => i.service === "svc-5")?.detectedBy).toBe("alert");
    expect(inc.find((i) => i.service === "svc-0")?.detectedBy).toBe("canary");
    const fix = of<DeployStartedEvent>(run, "deploy.started").find(
      (d) => d.service === "svc-5" && d.changeId.includes("/fix-"),
    );
    // the fix was queued for kubectl before the cutover; it shipped through Git
    expect(fix?.method).toBe("gitops");
  });

  it("revokes a namespace once all its services are under Argo CD; only people's writes are denied", () => {
    const revoked = of<AccessRevokedEvent>(run, "access.revoked");
    const cutAt = new Map(
      of<MigrationCutoverEvent>(run, "migration.cutover").map((c) => [c.service, c.time]),
    );
    // access.revokeAt is 12h: the internal namespaces (migrated at 0s) wait for it
    expect(revoked.map((r) => [r.namespace, (r.time - START) / H])).toEqual([
      ["growth", 12],
      ["insights", 12],
      ["observability", 12],
      ["platform", 12],
      ["edge", 24],
    ]);
    const drifts = of<DriftInjectedEvent>(run, "drift.injected");
    const denied = drifts.filter((d) => !d.allowed);
    expect(denied.map((d) => [d.service, d.identity, d.kind])).toEqual([["svc-1", "ivan", "env-change"]]);
    // the autoscaler's write in a revoked namespace is allowed
    expect(drifts.find((d) => d.kind === "replicas-frozen")?.allowed).toBe(true);
    // before the revocation a person may still write on a migrated service (and is healed)
    const early = drifts.find((d) => d.service === "svc-2");
    expect(early?.allowed).toBe(true);
    expect(early!.time).toBeLessThan(cutAt.get("svc-1")!);
  });

  it("drift made by hand before the cutover is never detected: the first sync overwrites it", () => {
    const out = new Map(of<DriftResolvedEvent>(run, "drift.resolved").map((d) => [d.driftId, d]));
    const before = of<DriftInjectedEvent>(run, "drift.injected").find((d) => d.service === "svc-0");
    expect(before).toBeDefined();
    const r = out.get(before!.driftId);
    expect(r).toMatchObject({ detected: false, healed: false });
    expect(r!.time - START).toBe(PHASE["svc-0"]);
    expect(
      run.events.some((e) => e.type === "drift.detected" && (e as { app?: string }).app === "svc-0"),
    ).toBe(false);
  });

  it("same seed: the same log byte for byte", async () => {
    const again = await runCi(FILE);
    expect(toJsonl(again.events)).toBe(toJsonl(run.events));
    expect(again.stats).toEqual(run.stats);
  }, 300_000);
});
