/**
 * InfraFaults on a world's infrastructure (no world running): windows from the
 * scenario, fault.injected events, Prometheus faults set and cleared on the
 * clock, the Git and webhook adapters, and errors for bad params or faults the
 * world cannot deliver.
 */
import { describe, expect, it } from "vitest";
import type { EventBase } from "../../engine/core/events.ts";
import { isGtbError } from "../../engine/core/errors.ts";
import type { GitSource } from "../../engine/source/types.ts";
import { parseScenario } from "../../simulator/scenario/load.ts";
import { fleetFor } from "../../simulator/scenario/run.ts";
import { InfraFaults, scheduleInfraFaults } from "../../simulator/world/infra-faults.ts";
import { Infra } from "../../simulator/world/infra.ts";
import { drawPlan } from "../../simulator/world/plan.ts";

function infraFor(events: string): { infra: Infra; log: EventBase[] } {
  const text = `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 2h
  fleet: {services: 2, naming: indexed}
  worlds: [{name: gitops, model: gitops}]
  changes: {perServicePerWeek: 0}
  drift: {perWeek: 0}
  events:
${events}`;
  const scenario = parseScenario("t.yaml", text);
  const services = fleetFor(scenario);
  const log: EventBase[] = [];
  const infra = new Infra({
    scenario,
    world: scenario.worlds[0]!,
    services,
    plan: drawPlan(scenario, services),
    sink: { emit: (e) => void log.push(e) },
    workDir: "/nonexistent",
  });
  return { infra, log };
}

const fakeGit: GitSource = {
  resolve: async () => "sha",
  tree: async () => ({}) as never,
  commit: async () => ({}) as never,
  changedFiles: async () => [],
  close: async () => undefined,
};

describe("InfraFaults", () => {
  it("Prometheus fault windows: set at the start, cleared at the end, one fault.injected each", async () => {
    const { infra, log } = infraFor(
      "    - {at: 10m, fault: {kind: prometheus-slow, for: 20m, params: {delay: 5s}}}\n" +
        "    - {at: 15m, fault: {kind: prometheus-nan, for: 5m}}\n",
    );
    const start = infra.input.scenario.startMs;
    await infra.runUntil(start);
    scheduleInfraFaults(infra);
    const kindAt = async (min: number) => {
      await infra.runUntil(start + min * 60_000);
      return infra.prometheus.faultKind();
    };
    expect(await kindAt(9)).toBeUndefined();
    expect(await kindAt(11)).toBe("slow");
    expect(await kindAt(16)).toBe("nan");
    expect(await kindAt(21)).toBe("slow");
    expect(await kindAt(31)).toBeUndefined();
    const injected = log.filter((e) => e.type === "fault.injected");
    expect(injected).toEqual([
      {
        type: "fault.injected",
        time: start + 600_000,
        world: "gitops",
        fault: "prometheus-slow",
        params: { delay: "5s" },
        until: start + 1_800_000,
      },
      {
        type: "fault.injected",
        time: start + 900_000,
        world: "gitops",
        fault: "prometheus-nan",
        params: {},
        until: start + 1_200_000,
      },
    ]);
  });

  it("webhook-loss and git-unreachable inside their windows only", async () => {
    const { infra } = infraFor(
      "    - {at: 10m, fault: {kind: webhook-loss, for: 10m}}\n" +
        "    - {at: 30m, fault: {kind: git-unreachable, for: 10m}}\n",
    );
    const start = infra.input.scenario.startMs;
    const faults = new InfraFaults(infra);
    const git = faults.wrapGitSource(fakeGit);
    expect(faults.isWebhookLost(start + 5 * 60_000)).toBe(false);
    expect(faults.isWebhookLost(start + 15 * 60_000)).toBe(true);
    await infra.runUntil(start + 35 * 60_000);
    await expect(git.resolve("file:///repo", "HEAD")).rejects.toThrow(/Could not resolve host/);
    await infra.runUntil(start + 41 * 60_000);
    await expect(git.resolve("file:///repo", "HEAD")).resolves.toBe("sha");
  });

  it("API faults: every wrapped client, also one made inside the window; people's clients retry", async () => {
    const { infra } = infraFor(
      "    - {at: 10m, fault: {kind: api-errors, for: 10m, params: {code: 500, ratio: 1}}}\n",
    );
    const start = infra.input.scenario.startMs;
    await infra.runUntil(start);
    scheduleInfraFaults(infra);
    const early = infra.faults.wrapClient(infra.cluster.adminClient("early"));
    await infra.runUntil(start + 11 * 60_000);
    const late = infra.faults.wrapClient(infra.cluster.adminClient("late"));
    const ns = { apiVersion: "v1", kind: "Namespace", name: "default" };
    for (const c of [early, late]) await expect(c.get(ns)).rejects.toMatchObject({ code: 500 });
    // a person re-runs the command (30 s, 1m, 2m, 4m, 5m later) until the API recovers at 20m
    let doneAt = 0;
    const person = infra
      .client("alice")
      .get(ns)
      .then(() => (doneAt = infra.clock.now()));
    await infra.runUntil(start + 30 * 60_000);
    await person;
    expect(doneAt).toBeGreaterThanOrEqual(start + 20 * 60_000);
    expect(doneAt).toBeLessThanOrEqual(start + 25 * 60_000);
    for (const c of [early, late]) await expect(c.get(ns)).resolves.toBeDefined();
  });

  it("git-unreachable: when Git is back, the apps whose refresh failed are refreshed within one poll cycle", async () => {
    const { infra } = infraFor("    - {at: 10m, fault: {kind: git-unreachable, for: 10m}}\n");
    const start = infra.input.scenario.startMs;
    await infra.runUntil(start);
    const refreshed: Array<[string, number]> = [];
    const status = (failed: boolean) => ({
      status: { conditions: failed ? [{ type: "ComparisonError" }] : [{ type: "SyncError" }] },
    });
    const engine = {
      stop: async () => undefined,
      start: async () => undefined,
      refresh: (app: string) => void refreshed.push([app, infra.clock.now()]),
      controller: {
        appNames: () => ["svc-0", "svc-1", "svc-2"],
        application: (app: string) => status(app !== "svc-1"),
      },
    };
    infra.faults.wrapGitSource(fakeGit);
    scheduleInfraFaults(infra, { engine });
    await infra.runUntil(start + 19 * 60_000);
    expect(refreshed).toEqual([]);
    // pollInterval 3m + up to 60 s jitter
    await infra.runUntil(start + 24 * 60_000);
    expect(refreshed.map(([app]) => app).sort()).toEqual(["svc-0", "svc-2"]);
    for (const [, t] of refreshed) {
      expect(t).toBeGreaterThanOrEqual(start + 20 * 60_000);
      expect(t).toBeLessThan(start + 24 * 60_000);
    }
  });

  it.each([
    ["    - {at: 10m, fault: {kind: api-errors, for: 1m, params: {code: 404}}}\n", "GTB_FAULT_PARAMS"],
    ["    - {at: 10m, fault: {kind: api-latency, for: 1m, params: {delay: soon}}}\n", "GTB_FAULT_PARAMS"],
    ["    - {at: 10m, fault: {kind: webhook-loss, for: 1m, params: {ratio: 2}}}\n", "GTB_FAULT_PARAMS"],
    ["    - {at: 10m, fault: {kind: prometheus-down, params: {delay: 1s}}}\n", "GTB_FAULT_PARAMS"],
    ["    - {at: 10m, fault: {kind: git-unreachable, for: 1m}}\n", "GTB_FAULT_UNSUPPORTED"],
    ["    - {at: 10m, fault: {kind: notify-down, for: 1m}}\n", "GTB_FAULT_UNSUPPORTED"],
    ["    - {at: 10m, fault: {kind: engine-restart}}\n", "GTB_FAULT_UNSUPPORTED"],
  ])("%s -> %s with the field path", (events, code) => {
    let err: unknown;
    try {
      // bad params fail when the world's Infra is made; missing adapters when the faults are scheduled
      scheduleInfraFaults(infraFor(events).infra);
    } catch (e) {
      err = e;
    }
    expect(isGtbError(err) && err.code).toBe(code);
    expect(isGtbError(err) && err.path).toMatch(/^spec\.events\[0\]\.fault/);
  });
});
