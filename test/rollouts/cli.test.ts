/** `gitops-testbed validate` and `gitops-testbed analysis dry-run` through the CLI entry point. */
import { describe, expect, it } from "vitest";
import { runCli } from "../../cli/testing.ts";

const run = runCli;

describe("gitops-testbed validate", () => {
  it("exits 0 for valid Rollout and AnalysisTemplate YAML", async () => {
    const r = await run([
      "validate",
      "fixtures/argo/rollout-canary.yaml",
      "fixtures/argo/analysis-template-slo.yaml",
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("2 document(s) checked, 0 error(s)");
  });

  it("exits 2 naming file, line, column, document, field path and rule", async () => {
    const r = await run(["validate", "fixtures/argo/invalid.yaml"]);
    expect(r.code).toBe(2);
    expect(r.out.split("\n")).toEqual(
      expect.arrayContaining([
        "fixtures/argo/invalid.yaml:9:14: error: doc 0 AnalysisTemplate/broken: spec.metrics[0].count: count must be >= failureLimit",
        "fixtures/argo/invalid.yaml:11:45: error: doc 0 AnalysisTemplate/broken: spec.metrics[0].successCondition: invalid expression: unexpected end of expression (1:21)",
        "fixtures/argo/invalid.yaml:32:22: error: doc 1 Rollout/broken: spec.strategy.canary.steps[0].setWeight: SetWeight needs to be between 0 and 100",
      ]),
    );
  });

  it("exits 2 with a coded error for a missing file", async () => {
    const r = await run(["validate", "fixtures/argo/nope.yaml"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("GTB_VALIDATE_UNREADABLE");
  });
});

describe("gitops-testbed analysis dry-run", () => {
  const base = [
    "analysis",
    "dry-run",
    "fixtures/argo/analysis-template-error-rate.yaml",
    "--series",
    "fixtures/argo/series-canary.yaml",
  ];

  it("a 2% error canary: Failed at the first measurement, the rollout would abort (exit 1)", async () => {
    const r = await run([...base, "--arg", "service=checkout", "--arg", "canary-hash=bad1", "--at", "300"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("1970-01-01T00:05:00Z  error-rate  Failed       value=[0.02]");
    expect(r.out).toContain(
      'verdict: AnalysisRun Failed: Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
    );
    expect(r.out).toContain("rollout: would ABORT");
  });

  it("a healthy version passes every measurement in the window (exit 0)", async () => {
    const r = await run([
      ...base,
      "--arg",
      "service=checkout",
      "--arg",
      "canary-hash=good1",
      "--at",
      "300",
      "--duration",
      "5m",
    ]);
    expect(r.code).toBe(0);
    expect(r.out.match(/error-rate {2}Successful/g)).toHaveLength(6);
    expect(r.out).toContain("rollout: would continue");
  });

  it("no data (an unknown hash) gives Error measurements 10 s apart and an Error verdict", async () => {
    const r = await run([
      ...base,
      "--arg",
      "service=checkout",
      "--arg",
      "canary-hash=none",
      "--at",
      "300",
      "--json",
    ]);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out) as {
      phase: string;
      measurements: Array<{ time: number; message: string }>;
    };
    expect(res.phase).toBe("Error");
    expect(res.measurements.map((m) => m.time / 1000)).toEqual([300, 310, 320, 330, 340]);
    expect(res.measurements[0]!.message).toContain("no data returned from the metric provider");
  });

  it("a missing argument is bad input (exit 2)", async () => {
    const r = await run([...base, "--arg", "service=checkout"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("canary-hash");
  });
});
