/**
 * `npm run bench [-- NAME...]`: runs bench/<NAME>.ts (all when none named).
 * Each benchmark module exports `run(): Promise<void>` and prints one JSON line per figure
 * via `report()` from bench/report.ts. Results are recorded in docs/BENCHMARKS.md.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !["run.ts", "report.ts"].includes(f) && !f.endsWith(".test.ts"))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  process.stderr.write(
    `error GTB_BENCH_UNKNOWN: no benchmark named ${unknown.join(", ")}\n  hint: available: ${available.join(", ")}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  const mod = (await import(join(here, `${name}.ts`))) as { run: () => Promise<void> };
  await mod.run();
}
process.exit(0);
