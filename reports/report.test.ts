import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { toJsonl } from "../engine/core/events.ts";
import { buildReport, renderAll, renderMarkdown } from "./index.ts";
import { type ComparisonRow, change } from "./report.ts";
import { sampleLog } from "./testdata/sample-log.ts";

const run = promisify(execFile);

describe("buildReport", () => {
  it("holds the per-world fields the README promises", () => {
    const r = buildReport(sampleLog());
    expect(r.schema).toBe("gitops-testbed.dev/report/v1");
    expect(r.worldOrder).toEqual(["manual", "gitops"]);
    const m = r.worlds.manual!;
    const g = r.worlds.gitops!;
    // manual: 10 production deploys, 2 bad, both alerted -> CFR 20%; recovery 25 min each
    expect(m.dora.changeFailureRate).toBe(0.2);
    expect(m.dora.recoveryTimeMinutes.median).toBe(25);
    expect(m.dora.leadTimeHours.median).toBe(2.0833);
    expect(m.dora.deploymentsPerDay).toBeCloseTo(10 / 14, 4);
    expect(m.dora.reworkRate).toBe(0);
    expect(m.drift).toMatchObject({ detected: 0, healed: 0, undetected: 1 });
    // gitops: the 2 bad versions were aborted at 5%: 8 production deploys, none failed; recovery 3 min
    expect(g.dora.productionDeployments).toBe(8);
    expect(g.dora.changeFailureRate).toBe(0);
    expect(g.dora.recoveryTimeMinutes.median).toBe(3);
    expect(g.drift).toMatchObject({ detected: 1, healed: 1 });
    expect(g.canary).toMatchObject({ trueAborts: 2, escapedBadVersions: 0, detectionRate: 1 });
    expect(r.reference?.rows).toHaveLength(4);
  });

  it("is deterministic: same log, byte-identical outputs", () => {
    const a = renderAll(sampleLog()).files;
    const b = renderAll(sampleLog()).files;
    expect(a).toEqual(b);
  });

  it("Markdown starts with the before/after table", () => {
    const md = renderMarkdown(buildReport(sampleLog()));
    const lines = md.split("\n");
    expect(lines[0]).toMatch(/^## gitops-testbed report: case-study \(seed 7, 2 services, 2 weeks\)/);
    expect(lines[2]).toBe("| metric | manual | gitops | change |");
    expect(md).toContain("| Change failure rate (observed) | 20% | 0% | -100% (better) |");
    expect(md).toContain("| Recovery time on a bad deploy (median) | 25 min | 3 min | -88% (better) |");
  });

  it("HTML is self-contained: no external URLs", () => {
    const html = renderAll(sampleLog()).files["report.html"];
    expect(html).not.toMatch(/(src|href)=["']https?:/);
    expect(html).not.toMatch(/sourceMappingURL/);
    expect(html).toContain("new Chart(");
  });
});

describe("the change column", () => {
  const row = (a: number | null, b: number | null, unit: string, lowerIsBetter: boolean): ComparisonRow => ({
    key: "k",
    label: "k",
    unit,
    values: [a, b],
    lowerIsBetter,
  });
  it.each([
    // [first world, last world, unit, lower is better, shown]
    [0.2, 0.05, "%", true, "-75% (better)"],
    [25, 3, "min", true, "-88% (better)"],
    [63, 63, "", false, "0%"],
    [2, 63, "", false, "+3050% (better)"],
    [0, 63, "", false, "new"],
    [0, 0, "", false, "="],
    [null, 3, "min", true, ""],
    // a base that shows as 0 but is not: the difference, not a percentage of almost nothing
    [0.0018, 1.24, "h", true, "+1.24 h (worse)"],
    [0.004, 0.001, "h", true, "="],
    [0.003, 150, "/day", false, "+150/day (better)"],
  ] as const)("%s -> %s %s (lower is better: %s): %s", (a, b, unit, lower, shown) => {
    expect(change(row(a, b, unit, lower))).toBe(shown);
  });
});

describe("gitops-testbed report", () => {
  it("re-renders a saved run and rejects a broken log with exit 2 and the line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gtb-report-"));
    await writeFile(join(dir, "events.jsonl"), toJsonl(sampleLog()));
    const ok = await run("node", ["bin/gitops-testbed.js", "report", join(dir, "events.jsonl")]);
    expect(ok.stdout).toContain("Change failure rate (observed)");
    const json = JSON.parse(await readFile(join(dir, "report.json"), "utf8"));
    expect(json.worlds.gitops.dora.recoveryTimeMinutes.median).toBe(3);
    expect(await readFile(join(dir, "report.md"), "utf8")).toContain("| metric | manual | gitops | change |");

    await writeFile(join(dir, "bad.jsonl"), `${toJsonl(sampleLog().slice(0, 3))}{not json\n`);
    const bad = await run("node", [
      "bin/gitops-testbed.js",
      "report",
      join(dir, "bad.jsonl"),
      "--out",
      join(dir, "o"),
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(
      /GTB_EVENTS_PARSE: line 4 is not JSON[\s\S]*bad\.jsonl:4/,
    );
  });
});
