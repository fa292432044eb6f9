/**
 * Guard: engine/ and simulator/ never read the wall clock, use Math.random or
 * raw timers. Clock and Rng are injected; only the real-clock adapter
 * (simulator/clock/real.ts) touches the wall clock, and the virtual clock uses
 * setImmediate to detect idleness. Servers that must answer real sockets may use
 * the injected clock only.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const ALLOWED = new Set(["simulator/clock/real.ts", "simulator/clock/virtual.ts"]);
const FORBIDDEN = [
  /\bMath\.random\s*\(/,
  /\bDate\.now\s*\(/,
  /\bnew Date\(\s*\)/,
  // a call, not a method declaration such as `setTimeout(fn: () => void, ...)`
  /(?<![.\w])setTimeout\s*\((?!\s*\w+\??\s*:)/,
  /(?<![.\w])setInterval\s*\((?!\s*\w+\??\s*:)/,
  /\bperformance\.now\s*\(/,
];

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) out.push(p);
  }
}

describe("determinism guard", () => {
  it("engine/ and simulator/ use only the injected Clock and Rng", () => {
    const files: string[] = [];
    for (const d of ["engine", "simulator"]) walk(join(root, d), files);
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(root, f);
      if (ALLOWED.has(rel)) continue;
      const lines = readFileSync(f, "utf8").split("\n");
      lines.forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "");
        for (const re of FORBIDDEN) if (re.test(code)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
