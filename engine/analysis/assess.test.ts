import { describe, expect, it } from "vitest";
import {
  assessMetricStatus,
  assessRunStatus,
  effectiveCount,
  evaluateResult,
  formatMetricValue,
  nextMeasurementAt,
  recordMeasurement,
  trimMeasurements,
} from "./assess.ts";
import type { AnalysisPhase, Measurement, Metric, MetricResult, MetricValue } from "./types.ts";

const prom = { prometheus: { query: "q" } };

describe("evaluateResult (one measurement)", () => {
  const table: Array<
    [string, string | undefined, string | undefined, MetricValue | undefined, AnalysisPhase]
  > = [
    ["no conditions -> Successful", undefined, undefined, [1], "Successful"],
    ["no conditions on empty -> Successful", undefined, undefined, [], "Successful"],
    ["success true", "result[0] < 0.005", undefined, [0.001], "Successful"],
    ["only success set: failure = !success", "result[0] < 0.005", undefined, [0.02], "Failed"],
    ["only failure set: success = !failure", undefined, "result[0] > 0.005", [0.001], "Successful"],
    ["only failure set, true -> Failed", undefined, "result[0] > 0.005", [0.02], "Failed"],
    ["both true: failure wins", "result[0] > 0", "result[0] > 0", [1], "Failed"],
    ["neither true -> Inconclusive", "result[0] > 10", "result[0] < 0", [1], "Inconclusive"],
    ["NaN compares false (success only) -> Failed", "result[0] < 0.005", undefined, [Number.NaN], "Failed"],
    [
      "NaN with both conditions -> Inconclusive",
      "result[0] < 0.005",
      "result[0] >= 0.005",
      [Number.NaN],
      "Inconclusive",
    ],
    ["empty result indexed -> Error", "result[0] < 0.005", undefined, [], "Error"],
    [
      "guarded empty -> Successful",
      "len(result) == 0 || isNaN(result[0]) || result[0] < 0.005",
      undefined,
      [],
      "Successful",
    ],
    [
      "guarded NaN -> Successful",
      "len(result) == 0 || isNaN(result[0]) || result[0] < 0.005",
      undefined,
      [Number.NaN],
      "Successful",
    ],
    [
      "guarded bad value -> Failed",
      "len(result) == 0 || isNaN(result[0]) || result[0] < 0.005",
      undefined,
      [0.02],
      "Failed",
    ],
    ["non-bool -> Error", "result[0]", undefined, [1], "Error"],
    ["scalar", "result < 500", undefined, 120, "Successful"],
  ];
  it.each(table)("%s", (_name, sc, fc, value, want) => {
    const m: Pick<Metric, "successCondition" | "failureCondition"> = {};
    if (sc !== undefined) m.successCondition = sc;
    if (fc !== undefined) m.failureCondition = fc;
    expect(evaluateResult(m, value).phase).toBe(want);
  });

  it("an empty result says no data was returned (upstream wording)", () => {
    expect(evaluateResult({ successCondition: "result[0] < 0.005" }, []).message).toBe(
      'could not evaluate successCondition "result[0] < 0.005": metric result is nil or empty: no data returned from the metric provider',
    );
  });
  it("other evaluation errors carry the expression error", () => {
    expect(evaluateResult({ failureCondition: "result[0]" }, [1]).message).toBe(
      'could not evaluate failureCondition "result[0]": expected bool, but got int',
    );
  });
});

function m(phase: AnalysisPhase, finishedAt = "2026-01-05T00:00:00Z"): Measurement {
  return { phase, startedAt: finishedAt, finishedAt };
}
function run(phases: AnalysisPhase[]): MetricResult {
  let r: MetricResult = { name: "x", phase: "Running" };
  for (const p of phases) r = recordMeasurement(r, m(p));
  return r;
}

describe("counting", () => {
  it("Successful/Failed/Inconclusive add to count and reset consecutiveError; Error does not count", () => {
    const r = run(["Error", "Error", "Successful", "Failed", "Inconclusive", "Error"]);
    expect(r).toMatchObject({
      count: 3,
      successful: 1,
      failed: 1,
      inconclusive: 1,
      error: 3,
      consecutiveError: 1,
    });
  });
  it("consecutiveSuccess resets on a non-success", () => {
    expect(run(["Successful", "Successful"]).consecutiveSuccess).toBe(2);
    expect(run(["Successful", "Failed", "Successful"]).consecutiveSuccess).toBe(1);
  });
});

describe("assessMetricStatus (limits)", () => {
  const base: Metric = { name: "x", interval: "60s", provider: prom };
  const table: Array<[string, Partial<Metric>, AnalysisPhase[], boolean, AnalysisPhase]> = [
    ["no measurements -> Pending", {}, [], false, "Pending"],
    ["no measurements, terminating -> Successful", {}, [], true, "Successful"],
    ["failureLimit 0: first failure fails", {}, ["Failed"], false, "Failed"],
    [
      "failureLimit 1: one failure still running (off-by-one)",
      { failureLimit: 1 },
      ["Failed"],
      false,
      "Running",
    ],
    [
      "failureLimit 1: second failure fails",
      { failureLimit: 1 },
      ["Failed", "Successful", "Failed"],
      false,
      "Failed",
    ],
    [
      "failureLimit -1 disables failure",
      { failureLimit: -1, consecutiveSuccessLimit: 2 },
      ["Failed", "Failed"],
      false,
      "Running",
    ],
    ["inconclusiveLimit 0: first inconclusive", {}, ["Inconclusive"], false, "Inconclusive"],
    ["inconclusiveLimit 1: one tolerated", { inconclusiveLimit: 1 }, ["Inconclusive"], false, "Running"],
    [
      "4 consecutive errors tolerated (default 4)",
      {},
      ["Error", "Error", "Error", "Error"],
      false,
      "Running",
    ],
    ["5 consecutive errors -> Error", {}, ["Error", "Error", "Error", "Error", "Error"], false, "Error"],
    [
      "errors interrupted by success reset",
      {},
      ["Error", "Error", "Error", "Error", "Successful", "Error"],
      false,
      "Running",
    ],
    ["consecutiveErrorLimit 0: first error", { consecutiveErrorLimit: 0 }, ["Error"], false, "Error"],
    [
      "Error beats Inconclusive beats Failed",
      { consecutiveErrorLimit: 0 },
      ["Failed", "Inconclusive", "Error"],
      false,
      "Error",
    ],
    ["Inconclusive beats Failed", {}, ["Failed", "Inconclusive"], false, "Inconclusive"],
    [
      "count reached -> Successful",
      { count: 3 },
      ["Successful", "Successful", "Successful"],
      false,
      "Successful",
    ],
    [
      "count reached with tolerated failure -> Successful",
      { count: 3, failureLimit: 1 },
      ["Successful", "Failed", "Successful"],
      false,
      "Successful",
    ],
    ["count as a string", { count: "2" }, ["Successful", "Successful"], false, "Successful"],
    [
      "consecutiveSuccessLimit reached -> Successful",
      { count: 5, consecutiveSuccessLimit: 2, failureLimit: 3 },
      ["Failed", "Successful", "Successful"],
      false,
      "Successful",
    ],
    [
      "count reached, csl not reached, failure applicable -> Inconclusive",
      { count: 3, consecutiveSuccessLimit: 2, failureLimit: 1 },
      ["Successful", "Failed", "Successful"],
      false,
      "Inconclusive",
    ],
    [
      "count reached, csl not reached, failure disabled -> Failed",
      { count: 3, consecutiveSuccessLimit: 2, failureLimit: -1 },
      ["Successful", "Failed", "Successful"],
      false,
      "Failed",
    ],
    ["no count: runs until terminated", {}, ["Successful", "Successful"], false, "Running"],
    ["no count, terminating -> Successful", {}, ["Successful"], true, "Successful"],
    ["in-flight measurement -> Running", {}, ["Running"], false, "Running"],
  ];
  it.each(table)("%s", (_n, over, phases, terminating, want) => {
    expect(assessMetricStatus({ ...base, ...over }, run(phases), terminating)).toBe(want);
  });
  it("effective count: no interval and no count runs once", () => {
    expect(effectiveCount({ name: "x", provider: prom })).toBe(1);
    expect(effectiveCount({ name: "x", interval: "1m", provider: prom })).toBeUndefined();
    expect(effectiveCount({ name: "x", interval: "1m", count: 10, provider: prom })).toBe(10);
  });
});

describe("assessRunStatus", () => {
  const a: Metric = { name: "error-rate", interval: "60s", provider: prom };
  const b: Metric = { name: "p99", interval: "60s", provider: prom };
  const res = (name: string, phases: AnalysisPhase[], message?: string): MetricResult => {
    const r = { ...run(phases), name };
    if (message !== undefined) r.measurements = r.measurements!.map((x) => ({ ...x, message }));
    return r;
  };
  it("running while any metric is running", () => {
    const out = assessRunStatus(
      [a, b],
      [res("error-rate", ["Successful"]), res("p99", ["Successful"])],
      new Set(),
      false,
    );
    expect(out.phase).toBe("Running");
  });
  it("a failed metric fails and terminates the run with upstream's message", () => {
    const out = assessRunStatus(
      [a, b],
      [res("error-rate", ["Failed"]), res("p99", ["Successful"])],
      new Set(),
      false,
    );
    expect(out.phase).toBe("Failed");
    expect(out.message).toBe('Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)');
    expect(out.results.find((r) => r.name === "p99")!.phase).toBe("Successful");
  });
  it("the worst metric decides: Failed is worse than Error", () => {
    const out = assessRunStatus(
      [a, { ...b, consecutiveErrorLimit: 0 }],
      [res("error-rate", ["Failed"]), res("p99", ["Error"], "boom")],
      new Set(),
      false,
    );
    expect(out.phase).toBe("Failed");
  });
  it("an Error message carries the last measurement's message", () => {
    const out = assessRunStatus(
      [a],
      [res("error-rate", Array(5).fill("Error"), "connection refused")],
      new Set(),
      false,
    );
    expect(out.phase).toBe("Error");
    expect(out.message).toBe(
      'Metric "error-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: connection refused"',
    );
  });
  it("a dry-run metric never fails the run", () => {
    const out = assessRunStatus(
      [a, { ...b, count: 1 }],
      [res("error-rate", ["Failed"]), res("p99", ["Successful"])],
      new Set(["error-rate"]),
      false,
    );
    expect(out.phase).toBe("Successful");
    expect(out.dryRunSummary).toMatchObject({ count: 1, failed: 1 });
    expect(out.runSummary).toMatchObject({ count: 1, successful: 1 });
  });
  it("terminate with an indefinite metric -> Successful, Run Terminated", () => {
    const out = assessRunStatus([a], [res("error-rate", ["Successful"])], new Set(), true);
    expect(out.phase).toBe("Successful");
    expect(out.message).toBe("Run Terminated");
  });
  it("inconclusive run", () => {
    const out = assessRunStatus([a], [res("error-rate", ["Inconclusive"])], new Set(), false);
    expect(out.phase).toBe("Inconclusive");
    expect(out.message).toBe(
      'Metric "error-rate" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
    );
  });
});

describe("scheduling", () => {
  const t0 = Date.parse("2026-01-05T00:00:00Z");
  const metric: Metric = { name: "x", interval: "60s", initialDelay: "30s", provider: prom };
  it("first measurement after initialDelay", () => {
    expect(nextMeasurementAt(metric, undefined, t0, false)).toBe(t0 + 30_000);
  });
  it("next at previous finishedAt + interval", () => {
    expect(nextMeasurementAt(metric, run(["Successful"]), t0, false)).toBe(t0 + 60_000);
  });
  it("10 s after an Error", () => {
    expect(nextMeasurementAt(metric, run(["Error"]), t0, false)).toBe(t0 + 10_000);
  });
  it("nothing after count is reached, nor when terminating", () => {
    expect(nextMeasurementAt({ ...metric, count: 1 }, run(["Successful"]), t0, false)).toBeUndefined();
    expect(nextMeasurementAt(metric, run(["Successful"]), t0, true)).toBeUndefined();
  });
  it("keeps the last N measurements", () => {
    const r = run(Array(12).fill("Successful"));
    expect(trimMeasurements(r, 10).measurements).toHaveLength(10);
    expect(trimMeasurements(r, 10).count).toBe(12);
  });
});

describe("formatMetricValue", () => {
  it("formats like Go", () => {
    expect(formatMetricValue([0.01, Number.NaN, Number.POSITIVE_INFINITY])).toBe("[0.01,NaN,+Inf]");
    expect(formatMetricValue([])).toBe("[]");
    expect(formatMetricValue(3)).toBe("3");
  });
});
