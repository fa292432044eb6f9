/**
 * Same scenario + seed -> byte-identical events.jsonl and report.json; another seed ->
 * different numbers. Bad scenario files through the CLI: exit 2, an error naming
 * file, line and field path, and no output directory left behind.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toJsonl } from "../../engine/core/events.ts";
import { renderAll } from "../../reports/index.ts";
import { WORLD_RUNNERS } from "../../cli/worlds.ts";
import { parseScenario } from "../../simulator/scenario/load.ts";
import { runScenario } from "../../simulator/scenario/run.ts";
import { ROOT, runCi, SCENARIOS } from "./ci.ts";

async function outputs(seed?: number): Promise<{ events: string; report: string }> {
  const r = await runCi("ci-canary-load-regression.yaml", [], seed);
  const { files } = renderAll(r.events, r.assertions);
  return { events: toJsonl(r.events), report: String(files["report.json"]) };
}

describe("determinism", () => {
  it("same seed: byte-identical events.jsonl and report.json; another seed: different numbers", async () => {
    const a = await outputs();
    const b = await outputs();
    expect(a.events.length).toBeGreaterThan(1000);
    expect(b.events).toBe(a.events);
    expect(b.report).toBe(a.report);
    const c = await outputs(12345);
    expect(c.events).not.toBe(a.events);
    expect(c.report).not.toBe(a.report);
  });

  it("worlds on worker threads: the same log as worlds run one after the other", async () => {
    // the two-world scenario of the case study, cut to a few services and a day
    const scenario = parseScenario(
      join(SCENARIOS, "case-study.yaml"),
      readFileSync(join(SCENARIOS, "case-study.yaml"), "utf8"),
      {
        sets: ["fleet.services=4", "duration=12h", "changes.perServicePerWeek=21"],
      },
    );
    expect(scenario.worlds.length).toBe(2);
    const one = await runScenario(scenario, { worldRunners: WORLD_RUNNERS });
    const progress = new Set<string>();
    const threaded = await runScenario(scenario, {
      worldRunners: WORLD_RUNNERS,
      worldsModule: new URL("../../cli/worlds.ts", import.meta.url).href,
      onProgress: (world) => progress.add(world),
    });
    const worlds = new Set(
      one.events.map((e) => (e as { world?: string }).world).filter((w) => w !== undefined),
    );
    expect([...worlds].sort()).toEqual(["gitops", "manual"]);
    expect(toJsonl(threaded.events)).toBe(toJsonl(one.events));
    expect(threaded.stats).toEqual(one.stats);
    expect([...progress].sort()).toEqual(["gitops", "manual"]);
  }, 180_000);
});

const work = mkdtempSync(join(tmpdir(), "gtb-bad-scenarios-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const HEAD = `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  duration: 2h
  fleet: {services: 3, naming: indexed}
  worlds:
    - {name: gitops, model: gitops}
`;

const BAD: Array<{ name: string; text: string; line: number; path: RegExp; code: string }> = [
  {
    name: "unknown key",
    text: `${HEAD}  delivery:\n    canary:\n      analysis:\n        errorRat: 0.01\n`,
    line: 12,
    path: /spec\.delivery\.canary\.analysis/,
    code: "GTB_SCENARIO_INVALID",
  },
  {
    name: "wrong type",
    text: `${HEAD}  changes:\n    perServicePerWeek: lots\n`,
    line: 10,
    path: /spec\.changes\.perServicePerWeek/,
    code: "GTB_SCENARIO_INVALID",
  },
  {
    name: "unknown fault",
    text: `${HEAD}  events:\n    - {at: 10m, fault: {kind: dns-outage, for: 5m}}\n`,
    line: 10,
    path: /spec\.events\[0\]\.fault\.kind/,
    code: "GTB_SCENARIO_INVALID",
  },
  {
    name: "impossible schedule",
    text: `${HEAD}  events:\n    - {at: 1h, fault: {kind: prometheus-down, for: 3h}}\n`,
    line: 10,
    path: /spec\.events\[0\]\.fault\.for/,
    code: "GTB_SCENARIO_SCHEDULE",
  },
];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin", "gitops-testbed.js"), ...args],
      { cwd: work },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.concurrent("bad scenario files through the CLI", () => {
  it.each(BAD)("$name: exit 2, file:line and path, no output directory", async (bad) => {
    const file = join(work, `${bad.name.replace(/ /g, "-")}.yaml`);
    writeFileSync(file, bad.text);
    const out = join(work, `out-${bad.name.replace(/ /g, "-")}`);
    const r = await cli(["run", file, "--out", out, "--quiet"]);
    expect(r.code).toBe(2);
    const text = r.stderr + r.stdout;
    expect(text).toContain(bad.code);
    expect(text).toContain(`${file}:${bad.line}`);
    expect(text).toMatch(bad.path);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.startsWith(".out-"))).toEqual([]);
  });
});
