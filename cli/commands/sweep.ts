/**
 * `gitops-testbed sweep SCENARIO --param analysis.errorRate=0.002,0.005,0.01 --param canary.weight=5,10
 *  [--param window=5m,10m] [--repeats K] [--workers N] [--shard I/N] [--out DIR] [--world NAME] [--set p=v]`
 * runs the grid (cartesian product of the params) x K seeds on worker threads and writes
 * sweep.json, sweep.csv and sweep.html into DIR (default out/sweep-<scenario>), all at once.
 * `gitops-testbed sweep merge DIR... [--out DIR]` joins the outputs of `--shard I/N` runs.
 * Exit 0 ok, 2 bad input (unknown param, bad value, shards of different sweeps, missing shards).
 */
import { resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { GtbError } from "../../engine/core/errors.ts";
import {
  KNOWN_PARAMS,
  mergeSweeps,
  parseParam,
  parseShard,
  readSweep,
  runSweep,
  type SweepResult,
  sweepFiles,
} from "../../reports/sweep/index.ts";
import { writeOutputDir } from "../../simulator/scenario/output.ts";

const collect = (v: string, acc: string[]) => [...acc, v];

function positiveInt(flag: string, min: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < min) {
      throw new GtbError("GTB_USAGE", `${flag} must be an integer >= ${min}, got "${v}"`, {
        hint: `e.g. ${flag} ${Math.max(min, 2)}`,
      });
    }
    return Number(v);
  };
}

function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(1)}%`;
}

/** The terminal summary: one line per point, then the recommendations. */
export function sweepSummary(r: SweepResult, out: string): string {
  const front = new Set(r.frontier);
  const lines = r.points.map((p) => {
    const m = p.metrics;
    const params = Object.entries(p.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    return (
      `${front.has(p.index) ? "*" : " "} #${String(p.index).padEnd(3)} ${params.padEnd(48)} ` +
      `detect ${pct(m.detectionRate.mean).padStart(6)}  false-abort ${pct(m.falseAbortRate.mean).padStart(6)}  ` +
      `bad traffic ${String(m.badTraffic.mean === null ? "n/a" : Math.round(m.badTraffic.mean)).padStart(7)}  ` +
      `lead ${m.leadTimeHours.mean === null ? "n/a" : `${m.leadTimeHours.mean.toFixed(2)} h`}`
    );
  });
  const recs = Object.values(r.recommendations).map((x) => `  ${x.reason}`);
  return [
    `sweep ${r.scenario.name} (world ${r.world}): ${r.points.length} points x ${r.grid.repeats} repeats (* = Pareto frontier)`,
    ...lines,
    "recommended:",
    ...recs,
    `outputs in ${out}`,
    "",
  ].join("\n");
}

function progressBar(quiet: boolean | undefined): ((done: number, total: number) => void) & { stop(): void } {
  const show = quiet !== true && process.stderr.isTTY === true && process.env.CI !== "true";
  const bar = show
    ? new SingleBar({
        format: " sweep [{bar}] {value}/{total} runs | {eta_formatted} left",
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined;
  let started = false;
  const update = (done: number, total: number) => {
    if (bar === undefined) return;
    if (!started) {
      bar.start(total, 0);
      started = true;
    }
    bar.update(done);
  };
  return Object.assign(update, { stop: () => bar?.stop() });
}

export function register(program: Command): void {
  const sweep = program
    .command("sweep")
    .description(
      "tune canary analysis thresholds offline: run a grid of params x seeds and write sweep.{json,csv,html}",
    )
    .argument("<scenario>", "scenario YAML file (e.g. scenarios/sweep-week.yaml)")
    .option(
      "--param <name=v1,v2>",
      `a swept param and its values (repeatable): ${Object.keys(KNOWN_PARAMS).join(", ")}, or spec.x.y`,
      collect,
      [],
    )
    .option("--repeats <k>", "seeds per point (seed_k = scenario seed + k)", positiveInt("--repeats", 1), 5)
    .option(
      "--workers <n>",
      "worker threads (default: available CPUs; 0 = in this thread)",
      positiveInt("--workers", 0),
    )
    .option("--shard <i/n>", "run only the points whose index % n == i (merge with `sweep merge`)")
    .option("--out <dir>", "output directory (default out/sweep-<scenario name>)")
    .option("--world <name>", "world to measure (default: the scenario's gitops world)")
    .option("--set <path=value>", "override a scenario field for every point (repeatable)", collect, [])
    .option("--quiet", "no progress bar and no summary")
    .action(
      async (
        file: string,
        o: {
          param: string[];
          repeats: number;
          workers?: number;
          shard?: string;
          out?: string;
          world?: string;
          set: string[];
          quiet?: boolean;
        },
      ) => {
        const params = o.param.map(parseParam);
        const shard = o.shard === undefined ? undefined : parseShard(o.shard);
        const bar = progressBar(o.quiet);
        let result: SweepResult;
        try {
          result = await runSweep({
            file,
            sets: o.set,
            params,
            repeats: o.repeats,
            ...(o.workers === undefined ? {} : { workers: o.workers }),
            ...(shard === undefined ? {} : { shard }),
            ...(o.world === undefined ? {} : { world: o.world }),
            worldsModule: new URL("../worlds.ts", import.meta.url).href,
            onProgress: bar,
          });
        } finally {
          bar.stop();
        }
        const suffix = shard === undefined ? "" : `-shard-${shard.index}-of-${shard.count}`;
        const out = resolve(o.out ?? `out/sweep-${result.scenario.name}${suffix}`);
        await writeOutputDir(out, sweepFiles(result));
        if (o.quiet !== true) process.stdout.write(sweepSummary(result, out));
      },
    );

  sweep
    .command("merge")
    .description("join the outputs of `sweep --shard I/N` runs into one sweep.{json,csv,html}")
    .argument("<dirs...>", "shard output directories (each with a sweep.json)")
    .option("--out <dir>", "output directory (default out/sweep-<scenario name>)")
    .option("--quiet", "no summary")
    .action(async (dirs: string[], _o: unknown, cmd: Command) => {
      // --out and --quiet also exist on `sweep`, so commander may hand them to the parent
      const o = cmd.optsWithGlobals<{ out?: string; quiet?: boolean }>();
      const parts = await Promise.all(dirs.map((d) => readSweep(d)));
      const result = mergeSweeps(parts, dirs);
      const out = resolve(o.out ?? `out/sweep-${result.scenario.name}`);
      await writeOutputDir(out, sweepFiles(result));
      if (o.quiet !== true) process.stdout.write(sweepSummary(result, out));
    });
}
