import { describe, expect, it } from "vitest";
import type { EventBase } from "../engine/core/events.ts";
import { parseScenario } from "../simulator/scenario/load.ts";
import {
  type AttributionComputedEvent,
  type AttributionFigures,
  attributionDeltas,
  changedRows,
  withAttribution,
} from "./attribution.ts";
import { attributionSummary, describeRow, formatDelta } from "./attribution-render.ts";
import { variantScenario } from "./attribution-run.ts";
import { buildReport, renderAll } from "./index.ts";
import { sampleLog } from "./testdata/sample-log.ts";

const figures = (over: Partial<AttributionFigures> = {}): AttributionFigures => ({
  changeFailureRate: 5,
  changeFailureRateTruth: 5,
  recoveryMinutesMedian: 3,
  recoveryMinutesP90: 6,
  leadTimeHoursMedian: 0.5,
  driftDetected: 4,
  driftHealed: 4,
  driftUndetected: 0,
  badVersionRequests: 1_000,
  trueAborts: 3,
  falseAborts: 0,
  ...over,
});

describe("attributionDeltas", () => {
  it.each<[string, Partial<AttributionFigures>, keyof AttributionFigures, number | null, boolean | null]>([
    [
      "a higher CFR is worse (percentage points)",
      { changeFailureRateTruth: 25 },
      "changeFailureRateTruth",
      20,
      true,
    ],
    [
      "more bad-version requests is worse",
      { badVersionRequests: 51_000 },
      "badVersionRequests",
      50_000,
      true,
    ],
    ["fewer drifts healed is worse", { driftHealed: 1 }, "driftHealed", -3, true],
    ["fewer drifts undetected is better", { driftUndetected: 0 }, "driftUndetected", 0, null],
    ["longer lead time is worse", { leadTimeHoursMedian: 0.55 }, "leadTimeHoursMedian", 0.05, true],
    ["fewer false aborts is better", { falseAborts: 0 }, "falseAborts", 0, null],
    ["fewer true aborts is worse", { trueAborts: 0 }, "trueAborts", -3, true],
    ["a lower recovery time is better", { recoveryMinutesMedian: 1 }, "recoveryMinutesMedian", -2, false],
    ["no data on one side: no delta", { recoveryMinutesP90: null }, "recoveryMinutesP90", null, null],
  ])("%s", (_name, without, key, delta, worse) => {
    const row = attributionDeltas(figures(), figures(without)).find((r) => r.key === key)!;
    expect(row.delta).toBe(delta);
    expect(row.worse).toBe(worse);
    expect(row.baseline).toBe(figures()[key]);
    expect(row.without).toBe(figures(without)[key]);
  });

  it("every figure gets a row, in a fixed order", () => {
    const rows = attributionDeltas(figures(), figures());
    expect(rows.map((r) => r.key)).toEqual(Object.keys(figures()));
    expect(rows.every((r) => r.delta === 0 && r.worse === null)).toBe(true);
  });
});

describe("changedRows and the summary line", () => {
  it("puts the mechanism's headline figures first and leaves unchanged ones out", () => {
    const rows = attributionDeltas(
      figures(),
      figures({ changeFailureRate: 30, badVersionRequests: 90_000, falseAborts: 0, trueAborts: 0 }),
    );
    expect(changedRows("canary-analysis", rows).map((r) => r.key)).toEqual([
      "badVersionRequests",
      "changeFailureRate",
      "trueAborts",
    ]);
    expect(changedRows("webhook", rows).map((r) => r.key)).toEqual([
      "changeFailureRate",
      "badVersionRequests",
      "trueAborts",
    ]);
  });

  it("a row moving from no data to data counts as changed", () => {
    const rows = attributionDeltas(figures({ recoveryMinutesMedian: null }), figures());
    expect(changedRows("self-heal", rows).map((r) => r.key)).toEqual(["recoveryMinutesMedian"]);
  });

  it.each([
    [{ key: "changeFailureRateTruth", unit: "%", delta: 22.5 }, "+22.5 pp"],
    [{ key: "badVersionRequests", unit: "", delta: -12_345 }, "-12,345"],
    [{ key: "leadTimeHoursMedian", unit: "h", delta: 0.05 }, "+0.05 h"],
    [{ key: "driftHealed", unit: "", delta: 0 }, "0"],
    [{ key: "recoveryMinutesP90", unit: "min", delta: null }, "n/a"],
  ])("formats the delta %j as %s", (row, text) => {
    const r = attributionDeltas(figures(), figures()).find((x) => x.key === row.key)!;
    expect(formatDelta({ ...r, unit: row.unit, delta: row.delta })).toBe(text);
  });

  it("describes a row as baseline -> variant (delta, verdict)", () => {
    const r = attributionDeltas(figures(), figures({ driftHealed: 1 })).find((x) => x.key === "driftHealed")!;
    expect(describeRow(r)).toBe("Drift auto-corrected 4 -> 1 (-3, worse)");
  });

  it("says so when nothing moved or the variant was skipped", () => {
    const base = { mechanism: "webhook" as const, name: "Push webhook", off: "", world: "gitops" };
    expect(attributionSummary({ ...base, rows: attributionDeltas(figures(), figures()) })).toBe(
      "no change in this run",
    );
    expect(
      attributionSummary({ ...base, skipped: "the mechanism is already off in this world", rows: [] }),
    ).toBe("not run: the mechanism is already off in this world");
  });
});

/** The sample log's gitops world with three hand-made variants. */
function attributed(): EventBase[] {
  const log = sampleLog();
  const end = log[log.length - 1]!.time;
  const ev: AttributionComputedEvent = {
    type: "attribution.computed",
    time: end,
    seed: 7,
    variants: [
      {
        mechanism: "webhook",
        world: "gitops",
        figures: figures({ changeFailureRate: 0, changeFailureRateTruth: 0, leadTimeHoursMedian: 9 }),
      },
      {
        mechanism: "canary-analysis",
        world: "gitops",
        figures: figures({ changeFailureRate: 20, changeFailureRateTruth: 20, badVersionRequests: 500_000 }),
      },
      { mechanism: "self-heal", world: "gitops", skipped: "the mechanism is already off in this world" },
    ],
  };
  const finished = log.some((e) => e.type === "run.finished");
  return withAttribution(finished ? log : [...log, { type: "run.finished", time: end } as EventBase], ev);
}

describe("the attribution section of the report", () => {
  it("sits just before run.finished in the log, once", () => {
    const events = attributed();
    expect(events.at(-1)!.type).toBe("run.finished");
    expect(events.at(-2)!.type).toBe("attribution.computed");
    const again = withAttribution(events, events.at(-2) as AttributionComputedEvent);
    expect(again.filter((e) => e.type === "attribution.computed")).toHaveLength(1);
  });

  it("compares each variant with the world's own metrics from the same log", () => {
    const r = buildReport(attributed());
    expect(r.attribution?.entries.map((e) => [e.world, e.mechanism, e.skipped ?? "run"])).toEqual([
      ["gitops", "canary-analysis", "run"],
      ["gitops", "self-heal", "the mechanism is already off in this world"],
      ["gitops", "webhook", "run"],
    ]);
    const canary = r.attribution!.entries[0]!;
    const row = (k: string) => canary.rows.find((x) => x.key === k)!;
    // sample log, gitops: 8 production deploys, none failed, 2 bad versions aborted, 1 drift healed
    expect(row("changeFailureRate")).toMatchObject({ baseline: 0, without: 20, delta: 20, worse: true });
    expect(row("trueAborts")).toMatchObject({ baseline: 2, without: 3, delta: 1, worse: false });
    expect(row("driftHealed")).toMatchObject({ baseline: 1, without: 4, delta: 3 });
    expect(r.attribution!.entries[1]!.rows).toEqual([]);
  });

  it("is absent without an attribution event (v1 readers see the same report)", () => {
    expect(buildReport(sampleLog()).attribution).toBeUndefined();
    expect(renderAll(sampleLog()).files["report.md"]).not.toContain("What each mechanism contributed");
  });

  it("renders in report.md, report.html and the terminal summary", () => {
    const { files, terminal } = renderAll(attributed());
    const md = files["report.md"];
    expect(md).toContain("### What each mechanism contributed");
    expect(md).toContain("| mechanism | world | what turning it off changes |");
    expect(md).toMatch(
      /\| Canary analysis \| gitops \| Requests served by bad versions [\d,]+ -> 500,000 \(\+[\d,]+, worse\); Change failure rate \(ground truth\) 0% -> 20% \(\+20 pp, worse\)/,
    );
    expect(md).toContain("| Self-heal | gitops | not run: the mechanism is already off in this world |");
    expect(md).toContain("| metric | gitops | Canary analysis off | Push webhook off |");
    expect(files["report.html"]).toContain('<table id="attribution">');
    expect(files["report.html"]).toContain("Canary analysis off</th>");
    expect(terminal).toContain("what each mechanism contributed (turned off, same seed):");
    expect(terminal).toMatch(/Push webhook \[gitops\]: Change lead time \(median\) [\d.]+ h -> 9 h/);
    expect(JSON.parse(files["report.json"]).attribution.entries).toHaveLength(3);
  });
});

describe("variantScenario", () => {
  const scenario = parseScenario(
    "t.yaml",
    `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 1d
  fleet: {services: 3, naming: indexed}
  worlds:
    - {name: manual, model: manual}
    - {name: gitops, model: gitops}
    - {name: polled, model: gitops, webhook: false}
  assertions:
    - {name: a, metric: dora.changeFailureRate, below: 1}
`,
  );

  it.each([
    ["canary-analysis", "canaryAnalysis", ["gitops", "polled"], []],
    ["self-heal", "selfHeal", ["gitops", "polled"], []],
    ["webhook", "webhook", ["gitops"], ["polled"]],
  ] as const)("%s: only gitops worlds with it on, turned off", (mechanism, flag, run, skipped) => {
    const v = variantScenario(scenario, mechanism);
    expect(v.scenario.worlds.map((w) => w.name)).toEqual(run);
    expect(v.scenario.worlds.every((w) => w[flag] === false)).toBe(true);
    expect(v.skipped.map((s) => s.world)).toEqual(skipped);
    expect(v.scenario.assertions).toEqual([]);
    // everything that decides what happens is the baseline's
    expect(v.scenario.seed).toBe(scenario.seed);
    expect(v.scenario.events).toBe(scenario.events);
    expect(v.scenario.changes).toBe(scenario.changes);
    // the other mechanisms stay as they were
    for (const other of ["canaryAnalysis", "selfHeal", "webhook"] as const) {
      if (other === flag) continue;
      for (const w of v.scenario.worlds)
        expect(w[other]).toBe(scenario.worlds.find((x) => x.name === w.name)![other]);
    }
    expect(scenario.worlds.find((w) => w.name === "gitops")![flag]).toBe(true);
  });
});
