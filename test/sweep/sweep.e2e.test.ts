/**
 * End to end: a sweep of a tiny scenario (3 services, half a day) gives byte-identical
 * sweep.json / sweep.csv / sweep.html with 1 or 2 worker threads, and when its two shards
 * are run separately and merged. Merge refuses duplicates, gaps and foreign shards.
 * The manual world is built into the runner, so the test does not depend on other worlds.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { GtbError } from "../../engine/core/errors.ts";
import {
  mergeSweeps,
  parseParam,
  readSweep,
  runSweep,
  type SweepResult,
  sweepFiles,
} from "../../reports/sweep/index.ts";
import { writeOutputDir } from "../../simulator/scenario/output.ts";

const FILE = fileURLToPath(new URL("./tiny.yaml", import.meta.url));
// badRatio changes what the manual world sees, so the two points differ
const params = [parseParam("spec.changes.badRatio=0.2,0.6"), parseParam("analysis.errorRate=0.005")];
const base = { file: FILE, params, repeats: 2 };

let one: SweepResult;
let two: SweepResult;
let shard0: SweepResult;
let shard1: SweepResult;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gtb-sweep-"));
  [one, two] = [await runSweep({ ...base, workers: 1 }), await runSweep({ ...base, workers: 2 })];
  [shard0, shard1] = await Promise.all([
    runSweep({ ...base, workers: 1, shard: { index: 0, count: 2 } }),
    runSweep({ ...base, workers: 1, shard: { index: 1, count: 2 } }),
  ]);
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("sweep end to end", () => {
  it("runs 2 points x 2 repeats with seeds 3 and 4 and measures the manual world", () => {
    expect(one.world).toBe("manual");
    expect(one.points.map((p) => p.index)).toEqual([0, 1]);
    expect(one.points[0]!.samples.map((s) => s.seed)).toEqual([3, 4]);
    expect(one.points[0]!.params).toEqual({ "spec.changes.badRatio": "0.2", "analysis.errorRate": "0.005" });
    // the points really differ: more bad changes, more ground-truth failures
    const truth = one.points.map((p) => p.metrics.changeFailureRateTruth.mean!);
    expect(truth[1]!).toBeGreaterThan(truth[0]!);
    expect(one.points[1]!.metrics.badTraffic.mean!).toBeGreaterThan(0);
  });

  it("1 and 2 workers give identical outputs", () => {
    expect(sweepFiles(two)).toEqual(sweepFiles(one));
  });

  it("shards run separately and merged equal the unsharded sweep", async () => {
    expect(shard0.points.map((p) => p.index)).toEqual([0]);
    expect(shard1.points.map((p) => p.index)).toEqual([1]);
    expect(shard0.shard).toEqual({ index: 0, count: 2 });
    await writeOutputDir(join(dir, "s0"), sweepFiles(shard0));
    await writeOutputDir(join(dir, "s1"), sweepFiles(shard1));
    // order of the shard directories does not matter
    const merged = mergeSweeps(
      [await readSweep(join(dir, "s1")), await readSweep(join(dir, "s0"))],
      ["s1", "s0"],
    );
    expect(sweepFiles(merged)).toEqual(sweepFiles(one));
  });

  it.each([
    { name: "a duplicate shard", parts: () => [shard0, shard0, shard1], message: /grid point 0 is in both/ },
    { name: "a missing shard", parts: () => [shard1], message: /1 of 2 grid points are missing/ },
    {
      name: "a shard of another grid",
      parts: () => [shard0, { ...shard1, grid: { ...shard1.grid, repeats: 3 } }],
      message: /repeats \(3 vs 2\) differ/,
    },
    {
      name: "a shard of another scenario",
      parts: () => [shard0, { ...shard1, scenario: { ...shard1.scenario, sha256: "0".repeat(64) } }],
      message: /scenario .* differ/,
    },
  ])("merge refuses $name", ({ parts, message }) => {
    const ps = parts();
    expect(() =>
      mergeSweeps(
        ps,
        ps.map((_, i) => `dir${i}`),
      ),
    ).toThrow(message);
    expect(() =>
      mergeSweeps(
        ps,
        ps.map((_, i) => `dir${i}`),
      ),
    ).toThrow(GtbError);
  });

  it("writes a self-contained HTML with the frontier chart and a CSV row per point", () => {
    const f = sweepFiles(one);
    expect(f["sweep.html"]).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(f["sweep.html"]).toContain("Pareto frontier");
    expect(f["sweep.csv"].trim().split("\n")).toHaveLength(3);
    expect(JSON.parse(f["sweep.json"]).schema).toBe("gitops-testbed.dev/sweep/v1");
  });

  it("an unknown world is bad input", async () => {
    await expect(runSweep({ ...base, world: "nope", workers: 0 })).rejects.toThrow(/no world named "nope"/);
  });

  it("a bad param value names the grid point", async () => {
    await expect(runSweep({ ...base, params: [parseParam("window=5m,soon")], workers: 0 })).rejects.toThrow(
      /grid point 1 \(window=soon\)/,
    );
  });

  it("the CLI exits 2 on an unknown param and names the known ones", async () => {
    const write = process.stderr.write.bind(process.stderr);
    let err = "";
    process.stderr.write = ((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(["sweep", FILE, "--param", "threshold=0.1", "--quiet"])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err).toContain('GTB_SWEEP_PARAM: unknown sweep param "threshold"');
    expect(err).toContain("analysis.errorRate");
  });
});
