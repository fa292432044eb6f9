/**
 * reports/sweep: offline threshold tuning. A grid of canary analysis settings x repeated
 * seeds, run on worker threads, reduced to detection / false-abort / bad traffic / lead time /
 * CFR / recovery per point, with the Pareto frontier and a recommended point per tier.
 *
 *   runSweep(opts) -> SweepResult                 (run.ts)
 *   mergeSweeps(parts, sources) -> SweepResult    (merge.ts)
 *   sweepFiles(result) -> sweep.{json,csv,html}   (this file)
 */
import { renderSweepCsv, renderSweepHtml } from "./render.ts";
import { type SweepResult, sweepJson } from "./result.ts";

export * from "./frontier.ts";
export * from "./grid.ts";
export { mergeSweeps, readSweep } from "./merge.ts";
export { renderSweepCsv, renderSweepHtml } from "./render.ts";
export * from "./result.ts";
export { DEFAULT_REPEATS, defaultWorld, planSweep, runSweep, type SweepOptions } from "./run.ts";
export * from "./sample.ts";
export * from "./stats.ts";

export function sweepFiles(r: SweepResult): Record<"sweep.json" | "sweep.csv" | "sweep.html", string> {
  return { "sweep.json": sweepJson(r), "sweep.csv": renderSweepCsv(r), "sweep.html": renderSweepHtml(r) };
}
