/**
 * The compiled CLI (bin/build.js -> dist/): built once per source state, no TypeScript specifier
 * left behind, and the same answers as the sources run through tsx, worker threads included (a
 * two-world run, whose worlds run on threads, and a two-worker sweep).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain JavaScript module without declarations
import { DIST, ensureBuilt } from "../../bin/build.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/gitops-testbed.js");
const SCENARIO = join(import.meta.dirname, "two-worlds.yaml");
const SWEEP = join(import.meta.dirname, "../sweep/tiny.yaml");
const tmp = mkdtempSync(join(tmpdir(), "gtb-build-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** A script that runs dist/cli/main.js on its arguments (a file: worker threads inherit `-e`'s flags). */
function distEntry(): string {
  const file = join(tmp, "run-dist.mjs");
  const main = pathToFileURL(join(DIST, "cli", "main.js")).href;
  writeFileSync(
    file,
    `const { main } = await import(${JSON.stringify(main)});\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );
  return file;
}

/**
 * The CLI on `args`: compiled, dist/cli/main.js itself (so a build that could not be used fails the
 * test instead of falling back to the sources); else the sources through the bin's tsx fallback.
 */
async function cli(args: string[], compiled: boolean): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, GTB_NO_DIST: "1", CI: "true" };
  const argv = compiled ? [distEntry(), ...args] : [BIN, ...args];
  try {
    const r = await run(process.execPath, argv, { env, encoding: "utf8", maxBuffer: 1 << 26 });
    return { code: 0, stdout: r.stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? "" };
  }
}

describe("the compiled CLI", () => {
  it("is built once per source state, with every TypeScript specifier rewritten", async () => {
    expect(await ensureBuilt()).toBe(DIST);
    const stamp = statSync(join(DIST, ".fingerprint")).mtimeMs;
    expect(await ensureBuilt()).toBe(DIST);
    expect(statSync(join(DIST, ".fingerprint")).mtimeMs).toBe(stamp);
    const js = files(DIST).filter((f) => f.endsWith(".js"));
    expect(js.length).toBeGreaterThan(100);
    expect(js.some((f) => f.endsWith(join("simulator", "scenario", "world-worker.js")))).toBe(true);
    const leftovers = js.filter((f) =>
      /["']\.\.?\/[^"'\n]*\.ts["']/.test(readFileSync(f, "utf8").split("\n//# sourceMappingURL")[0]!),
    );
    expect(leftovers).toEqual([]);
  }, 60_000);

  it("runs a two-world scenario (worlds on threads) exactly as the sources do", async () => {
    const out = { compiled: join(tmp, "compiled"), sources: join(tmp, "sources") };
    const [a, b] = await Promise.all([
      cli(["run", SCENARIO, "--out", out.compiled], true),
      cli(["run", SCENARIO, "--out", out.sources], false),
    ]);
    expect(a.code).toBe(b.code);
    expect([0, 1]).toContain(a.code);
    const events = readFileSync(join(out.compiled, "events.jsonl"), "utf8");
    expect(events).toContain('"world":"gitops"');
    expect(events).toContain('"world":"manual"');
    expect(events).toBe(readFileSync(join(out.sources, "events.jsonl"), "utf8"));
    expect(readFileSync(join(out.compiled, "report.json"), "utf8")).toBe(
      readFileSync(join(out.sources, "report.json"), "utf8"),
    );
  }, 240_000);

  it("runs a sweep on two worker threads exactly as the sources do", async () => {
    const args = (dir: string) => [
      "sweep",
      SWEEP,
      "--param",
      "spec.changes.badRatio=0.2,0.6",
      "--repeats",
      "2",
      "--workers",
      "2",
      "--out",
      dir,
      "--quiet",
    ];
    const [a, b] = await Promise.all([
      cli(args(join(tmp, "sweep-compiled")), true),
      cli(args(join(tmp, "sweep-sources")), false),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const results = (dir: string) => readFileSync(join(tmp, dir, "sweep.json"), "utf8");
    expect(results("sweep-compiled")).toBe(results("sweep-sources"));
  }, 240_000);
});
