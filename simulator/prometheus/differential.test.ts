/**
 * THE acceptance test: the corpus in fixtures/promql is evaluated by the mock and by promtool
 * 2.42 (`promtool test rules`), which must agree on every (query, time). Without promtool the
 * test fails in CI (CI=true) and is skipped with a printed reason locally.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findPromtool, parsePromtoolSamples, promDurationString, runDifferential } from "./promtool.ts";

const CORPUS = join(import.meta.dirname, "../../fixtures/promql/corpus.yaml");
const promtool = findPromtool();
const ci = process.env.CI === "true";
if (promtool === undefined && !ci) {
  process.stdout.write(
    "SKIP differential PromQL test: promtool not on PATH (apt-get install -y prometheus)\n",
  );
}

describe("differential: mock Prometheus vs promtool 2.42", () => {
  it.skipIf(promtool === undefined && !ci)("agrees with promtool on every corpus query and time", () => {
    expect(promtool, "promtool must be installed in CI (.ci/run installs Debian's prometheus)").toBeDefined();
    const r = runDifferential(CORPUS, promtool);
    const queries = new Set(r.cases.map((c) => c.expr));
    expect(queries.size).toBeGreaterThanOrEqual(60);
    const report = r.mismatches.map(
      (m) => `${m.c.expr} @ ${m.c.time}s\n  ours: ${JSON.stringify(m.c.ours)}\n  promtool: ${m.promtool}`,
    );
    expect(report).toEqual([]);
  });

  it.skipIf(promtool === undefined && !ci)("detects a wrong answer (the harness can fail)", () => {
    const r = runDifferential(CORPUS, promtool, (cases) => {
      const c = cases.find(
        (x) => x.expr.startsWith("histogram_quantile(0.99") && !("error" in x.ours) && x.ours.length > 0,
      );
      if (c === undefined || "error" in c.ours) throw new Error("corpus lost its P99 case");
      c.ours[0]!.value *= 1.001;
    });
    expect(r.mismatches.length).toBe(1);
  });
});

describe("promtool output parsing", () => {
  it("parses sample lists", () => {
    expect(parsePromtoolSamples('{__name__="x", a="1, 2"} 1.5E+00, {} NaN')).toEqual([
      { labels: { __name__: "x", a: "1, 2" }, value: 1.5 },
      { labels: {}, value: Number.NaN },
    ]);
    expect(parsePromtoolSamples("nil")).toEqual([]);
  });
  it.each([
    [0, "0s"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [604_800_000, "1w"],
    [691_200_000, "8d"],
  ])("duration %d", (ms, s) => {
    expect(promDurationString(ms)).toBe(s);
  });
});
