/**
 * bench/sweep: the threshold-tuning sweep of the brief, 24 points x 10 repeats over the
 * 20-service one-week scenario (scenarios/sweep-week.yaml): 3 error-rate thresholds x
 * 2 canary weights x 2 windows x 2 p99 thresholds, wall time with 1 and 2 worker threads.
 * Target: under 2 minutes with both cores.
 *
 * The whole grid is 240 runs per worker count. GTB_BENCH_SWEEP=full runs it; by default the
 * bench runs the first 2 points x 2 repeats with 1 and 2 workers (same tasks, same per-run
 * cost), reports the measured figures, the cost of one run, and the full sweep's time
 * projected from them (labelled projected). GTB_BENCH_SWEEP_WORLD picks the world (default:
 * the scenario's gitops world if this build has it, else the manual world).
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { WORLD_RUNNERS } from "../cli/worlds.ts";
import { parseParam, runSweep, type SweepParam } from "../reports/sweep/index.ts";
import { report } from "./report.ts";

const SCENARIO = fileURLToPath(new URL("../scenarios/sweep-week.yaml", import.meta.url));
const WORLDS = new URL("../cli/worlds.ts", import.meta.url).href;
const FULL: SweepParam[] = [
  parseParam("analysis.errorRate=0.002,0.005,0.01"),
  parseParam("canary.weight=5,10"),
  parseParam("window=5m,10m"),
  parseParam("analysis.p99Latency=500ms,1s"),
];
const REPEATS = 10;

async function timed(
  params: SweepParam[],
  repeats: number,
  workers: number,
  sets: string[],
  shardOf?: number,
): Promise<{ seconds: number; runs: number; json: string }> {
  const t0 = performance.now();
  const r = await runSweep({
    file: SCENARIO,
    params,
    repeats,
    workers,
    sets,
    worldsModule: WORLDS,
    ...(shardOf === undefined ? {} : { shard: { index: 0, count: shardOf } }),
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, runs: r.points.length * repeats, json: JSON.stringify(r.points) };
}

export async function run(): Promise<void> {
  const full = process.env.GTB_BENCH_SWEEP === "full";
  const world =
    process.env.GTB_BENCH_SWEEP_WORLD ?? (WORLD_RUNNERS.gitops === undefined ? "manual" : "gitops");
  const sets = world === "gitops" ? [] : [`spec.worlds=[{name: ${world}, model: ${world}}]`];
  const cores = availableParallelism();
  const extra = { world, scenario: "sweep-week (20 services, 1 week)", cores };
  if (full) {
    for (const workers of [1, 2]) {
      const t = await timed(FULL, REPEATS, workers, sets);
      report("sweep", `24 points x 10 repeats, ${workers} worker(s)`, t.seconds, "s", {
        ...extra,
        runs: t.runs,
        target: workers === 2 ? "< 120 s" : undefined,
      });
    }
    return;
  }
  // per-run cost in steady state: in this thread (modules loaded, JIT warm after the first run)
  const warm = await timed(FULL, 1, 0, sets, 24);
  const steady = await timed(FULL, 2, 0, sets, 24);
  const perRun = steady.seconds / steady.runs;
  // 2 points x 2 repeats on threads (point index % 12 == 0 picks points 0 and 12): startup + scaling
  const one = await timed(FULL, 2, 1, sets, 12);
  const two = await timed(FULL, 2, 2, sets, 12);
  if (one.json !== two.json) throw new Error("bench/sweep: 1 and 2 workers disagree");
  report("sweep", "first run in a fresh thread (module load + JIT warm-up)", warm.seconds, "s", extra);
  report("sweep", "one run of sweep-week, steady state", perRun, "s", extra);
  report("sweep", "2 points x 2 repeats, 1 worker", one.seconds, "s", extra);
  report("sweep", "2 points x 2 repeats, 2 workers", two.seconds, "s", extra);
  report("sweep", "24 points x 10 repeats, 1 worker (projected)", perRun * 240, "s", {
    ...extra,
    how: "steady per-run cost x 240; GTB_BENCH_SWEEP=full measures it",
  });
  report("sweep", "24 points x 10 repeats, 2 workers (projected)", (perRun * 240) / Math.min(2, cores), "s", {
    ...extra,
    target: "< 120 s",
    how: "steady per-run cost x 240 / 2 (runs are independent); GTB_BENCH_SWEEP=full measures it",
  });
}
