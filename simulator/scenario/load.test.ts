import { describe, expect, it } from "vitest";
import { GtbError } from "../../engine/core/errors.ts";
import { loadScenario, parseScenario } from "./load.ts";

const base = `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 1d
  fleet: {services: 5, naming: indexed}
  worlds: [{name: gitops, model: gitops}]
`;

function err(text: string, sets: string[] = []): GtbError {
  try {
    parseScenario("t.yaml", text, { sets });
  } catch (e) {
    if (e instanceof GtbError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("scenario loading", () => {
  it("ships a valid case-study scenario with the case study's configuration", async () => {
    const s = await loadScenario("scenarios/case-study.yaml");
    expect(s.fleet.services).toBe(200);
    expect(s.durationMs).toBe(10 * 7 * 86_400_000);
    expect(s.worlds.map((w) => w.model)).toEqual(["manual", "gitops"]);
    expect(s.delivery.canary.steps[0]).toEqual({ setWeight: 5 });
    expect(s.delivery.canary.analysis).toMatchObject({
      intervalMs: 60_000,
      windowMs: 300_000,
      errorRate: 0.005,
      p99LatencyMs: 500,
    });
    expect(s.delivery.pollIntervalMs).toBe(180_000);
  });

  it("applies defaults and --set overrides", () => {
    const s = parseScenario("t.yaml", base, {
      sets: ["changes.badRatio=0.3", "spec.delivery.canary.analysis.errorRate=0.01"],
    });
    expect(s.changes.badRatio).toBe(0.3);
    expect(s.delivery.canary.analysis.errorRate).toBe(0.01);
    expect(s.changes.faults["error-spike"]).toBe(30);
    expect(s.people.acknowledge).toEqual({ medianMs: 240_000, p90Ms: 720_000 });
  });

  it.each([
    ["defaults", [], [true, true], false],
    ["analysis off for every world", ["delivery.canary.analysis.enabled=false"], [false, false], false],
    [
      "a world's own canaryAnalysis wins",
      ["delivery.canary.analysis.enabled=false", "worlds[1].canaryAnalysis=true"],
      [false, true],
      false,
    ],
    ["attribution requested", ["report.attribution=true"], [true, true], true],
  ])("canary analysis and attribution knobs: %s", (_name, sets, perWorld, attribution) => {
    const text = base.replace(
      "worlds: [{name: gitops, model: gitops}]",
      "worlds: [{name: a, model: gitops}, {name: b, model: gitops}]",
    );
    const s = parseScenario("t.yaml", text, { sets });
    expect(s.worlds.map((w) => w.canaryAnalysis)).toEqual(perWorld);
    expect(s.delivery.canary.analysis.enabled).toBe(perWorld[0]);
    expect(s.report.attribution).toBe(attribution);
  });

  it.each([
    ["unknown key", `${base}  speed: 3\n`, "GTB_SCENARIO_INVALID", "spec.speed", 8, /unknown field "speed"/],
    [
      "wrong type",
      base.replace("services: 5", "services: five"),
      "GTB_SCENARIO_INVALID",
      "spec.fleet.services",
      6,
      /integer/,
    ],
    [
      "unknown fault",
      `${base}  events:\n    - at: 1h\n      deploy: {service: 1, fault: cosmic-ray}\n`,
      "GTB_SCENARIO_INVALID",
      "spec.events[0].deploy.fault",
      10,
      /must be one of/,
    ],
    [
      "impossible schedule",
      `${base}  events:\n    - at: 2d\n      drift: {service: 1, kind: env-change}\n`,
      "GTB_SCENARIO_SCHEDULE",
      "spec.events[0].at",
      9,
      /after the end/,
    ],
    [
      "service out of range",
      `${base}  events:\n    - at: 1h\n      drift: {service: 9, kind: env-change}\n`,
      "GTB_SCENARIO_SERVICE",
      "spec.events[0].drift.service",
      10,
      /out of range/,
    ],
    [
      "two actions in one event",
      `${base}  events:\n    - at: 1h\n      drift: {service: 1, kind: env-change}\n      fault: {kind: watch-drop}\n`,
      "GTB_SCENARIO_INVALID",
      "spec.events[0]",
      9,
      /exactly one/,
    ],
    [
      "assertion without comparator",
      `${base}  assertions:\n    - {name: x, metric: dora.changeFailureRate}\n`,
      "GTB_SCENARIO_INVALID",
      "spec.assertions[0]",
      9,
      /needs below/,
    ],
    [
      "assertion on unknown world",
      `${base}  assertions:\n    - {name: x, world: nope, metric: a, below: 1}\n`,
      "GTB_SCENARIO_INVALID",
      "spec.assertions[0].world",
      9,
      /unknown world/,
    ],
  ])("%s", (_name, text, code, path, line, msg) => {
    const e = err(text);
    expect(e.code).toBe(code);
    expect(e.path).toBe(path);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
    expect(e.exitCode).toBe(2);
  });

  it("reports a missing file and a bad --set clearly", async () => {
    await expect(loadScenario("nope.yaml")).rejects.toMatchObject({ code: "GTB_SCENARIO_READ", exitCode: 2 });
    expect(err(base, ["noequals"]).code).toBe("GTB_SET_SYNTAX");
    expect(err(base, ["fleet.services=many"]).code).toBe("GTB_SCENARIO_INVALID");
  });
});
