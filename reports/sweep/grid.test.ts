import { describe, expect, it } from "vitest";
import { GtbError } from "../../engine/core/errors.ts";
import { parseScenario } from "../../simulator/scenario/load.ts";
import { checkParams, expandGrid, parseParam, parseShard, pointSets, shardPoints } from "./grid.ts";

const BASE = `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: {name: grid}
spec:
  duration: 1d
  fleet: {services: 2}
  worlds: [{name: gitops, model: gitops}]
  delivery:
    canary:
      steps: [{pause: {duration: 1m}}, {setWeight: 5}, {pause: {duration: 10m}}, {setWeight: 50}]
`;
const base = parseScenario("grid.yaml", BASE);

describe("param mapping", () => {
  it.each([
    ["analysis.errorRate=0.002,0.005", "spec.delivery.canary.analysis.errorRate", ["0.002", "0.005"]],
    ["analysis.p99Latency=300ms,1s", "spec.delivery.canary.analysis.p99Latency", ["300ms", "1s"]],
    ["analysis.interval=30s", "spec.delivery.canary.analysis.interval", ["30s"]],
    ["window=5m,10m", "spec.delivery.canary.analysis.window", ["5m", "10m"]],
    ["analysis.failureLimit=0,1,2", "spec.delivery.canary.analysis.failureLimit", ["0", "1", "2"]],
    ["spec.changes.badRatio = 0.1, 0.3", "spec.changes.badRatio", ["0.1", "0.3"]],
  ])("%s -> %s", (option, path, values) => {
    expect(parseParam(option)).toMatchObject({ path, values });
  });

  it.each([
    ["errorRate=0.1", "unknown sweep param"],
    ["analysis.errorRate", "not of the form"],
    ["analysis.errorRate=", "not of the form"],
    ["window=5m,,10m", "empty value"],
    ["window=5m,5m", "lists a value twice"],
  ])("%s is rejected (%s)", (option, message) => {
    let err: unknown;
    try {
      parseParam(option);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GtbError);
    expect((err as GtbError).message).toContain(message);
    expect((err as GtbError).exitCode).toBe(2);
  });

  it("an unknown param lists the known ones", () => {
    expect(() => parseParam("threshold=1")).toThrow(GtbError);
    try {
      parseParam("threshold=1");
    } catch (e) {
      expect((e as GtbError).hint).toContain("analysis.errorRate");
      expect((e as GtbError).hint).toContain("canary.weight");
      expect((e as GtbError).hint).toContain("spec.x.y");
    }
  });

  it("window and analysis.window set the same field: refused", () => {
    expect(() => checkParams([parseParam("window=5m"), parseParam("analysis.window=10m")])).toThrow(
      /set the same field/,
    );
  });

  it.each([
    {
      param: "analysis.errorRate=0.01",
      field: (s: typeof base) => s.delivery.canary.analysis.errorRate,
      want: 0.01,
    },
    { param: "window=10m", field: (s: typeof base) => s.delivery.canary.analysis.windowMs, want: 600_000 },
    {
      param: "analysis.interval=30s",
      field: (s: typeof base) => s.delivery.canary.analysis.intervalMs,
      want: 30_000,
    },
    {
      param: "analysis.p99Latency=1s",
      field: (s: typeof base) => s.delivery.canary.analysis.p99LatencyMs,
      want: 1000,
    },
    {
      param: "analysis.failureLimit=2",
      field: (s: typeof base) => s.delivery.canary.analysis.failureLimit,
      want: 2,
    },
    { param: "spec.changes.badRatio=0.4", field: (s: typeof base) => s.changes.badRatio, want: 0.4 },
  ])("$param reaches the resolved scenario", ({ param, field, want }) => {
    const params = [parseParam(param)];
    const [point] = expandGrid(params);
    expect(field(parseScenario("grid.yaml", BASE, { sets: pointSets(base, params, point!) }))).toBe(want);
  });

  it("canary.weight rewrites the first setWeight step only", () => {
    const params = [parseParam("canary.weight=20")];
    const s = parseScenario("grid.yaml", BASE, { sets: pointSets(base, params, expandGrid(params)[0]!) });
    expect(s.delivery.canary.steps).toEqual([
      { pause: { duration: "1m" } },
      { setWeight: 20 },
      { pause: { duration: "10m" } },
      { setWeight: 50 },
    ]);
  });

  it.each(["0", "101", "x"])("canary.weight=%s is refused", (w) => {
    const params = [parseParam(`canary.weight=${w}`)];
    expect(() => pointSets(base, params, expandGrid(params)[0]!)).toThrow(GtbError);
  });
});

describe("grid expansion", () => {
  it("is the cartesian product, first param slowest", () => {
    const grid = expandGrid([
      parseParam("analysis.errorRate=0.002,0.005,0.01"),
      parseParam("canary.weight=5,10"),
      parseParam("window=5m,10m"),
    ]);
    expect(grid).toHaveLength(12);
    expect(grid.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(grid[0]!.params).toEqual({ "analysis.errorRate": "0.002", "canary.weight": "5", window: "5m" });
    expect(grid[1]!.params).toEqual({ "analysis.errorRate": "0.002", "canary.weight": "5", window: "10m" });
    expect(grid[2]!.params).toEqual({ "analysis.errorRate": "0.002", "canary.weight": "10", window: "5m" });
    expect(grid[11]!.params).toEqual({ "analysis.errorRate": "0.01", "canary.weight": "10", window: "10m" });
  });

  it("no params: one point (the base scenario)", () => {
    expect(expandGrid([])).toEqual([{ index: 0, params: {} }]);
  });

  it.each([
    { shard: "0/3", want: [0, 3, 6] },
    { shard: "1/3", want: [1, 4, 7] },
    { shard: "2/3", want: [2, 5] },
    { shard: "0/1", want: [0, 1, 2, 3, 4, 5, 6, 7] },
  ])("shard $shard of 8 points", ({ shard, want }) => {
    const grid = expandGrid([parseParam("spec.seed=1,2,3,4,5,6,7,8")]);
    expect(shardPoints(grid, parseShard(shard)).map((p) => p.index)).toEqual(want);
  });

  it.each(["3/3", "1", "a/b", "-1/2", "0/0"])("--shard %s is refused", (v) => {
    expect(() => parseShard(v)).toThrow(/I\/N/);
  });
});
