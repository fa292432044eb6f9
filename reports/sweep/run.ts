/**
 * Running a sweep: validate the base scenario and every grid point up front, then run
 * points x repeats on worker threads (node:worker_threads, TypeScript through tsx's loader)
 * and aggregate in point/repeat order, so 1 or N workers and any sharding give the same result.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { fromThreadError, type ThreadError, tsWorker } from "../../simulator/threads.ts";
import { GtbError, isGtbError } from "../../engine/core/errors.ts";
import { parseScenario, type Scenario } from "../../simulator/scenario/load.ts";
import { checkParams, expandGrid, type GridPoint, pointSets, type SweepParam, shardPoints } from "./grid.ts";
import { buildSweepResult, pointResult, type SweepMeta, type SweepResult } from "./result.ts";
import { type RunTask, runOne, type WorldRunners } from "./run-one.ts";
import type { RunSample } from "./sample.ts";

export interface SweepOptions {
  /** Scenario file; its text is read unless given. */
  file: string;
  text?: string;
  /** `--set` overrides applied to every point. */
  sets?: readonly string[];
  params: readonly SweepParam[];
  /** Seeds per point: repeat k runs with the scenario seed + k (default 5). */
  repeats?: number;
  /** Worker threads (default os.availableParallelism()); 0 runs everything in the calling thread. */
  workers?: number;
  /** Run only the points whose index % count == index. */
  shard?: { index: number; count: number };
  /** World to measure (default: the scenario's only world, else its first gitops, migration, or first world). */
  world?: string;
  /** URL of a module exporting WORLD_RUNNERS (e.g. the CLI's cli/worlds.ts); the manual world is built in. */
  worldsModule?: string;
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_REPEATS = 5;

/** The world a sweep measures when none is named. */
export function defaultWorld(s: Scenario): string {
  const pick =
    s.worlds.length === 1
      ? s.worlds[0]
      : (s.worlds.find((w) => w.model === "gitops") ??
        s.worlds.find((w) => w.model === "migration") ??
        s.worlds[0]);
  return pick!.name;
}

function describe(p: GridPoint): string {
  return Object.entries(p.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** Validate the base scenario and every point; returns the base and each point's overrides. */
export function planSweep(
  file: string,
  text: string,
  opts: Pick<SweepOptions, "sets" | "params" | "repeats" | "world">,
): { base: Scenario; meta: SweepMeta; points: Array<GridPoint & { sets: string[] }> } {
  const baseSets = [...(opts.sets ?? [])];
  const base = parseScenario(file, text, { sets: baseSets });
  const repeats = opts.repeats ?? DEFAULT_REPEATS;
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new GtbError("GTB_SWEEP_REPEATS", `--repeats must be a positive integer, got ${repeats}`, {
      hint: "e.g. --repeats 10",
    });
  }
  const world = opts.world ?? defaultWorld(base);
  if (!base.worlds.some((w) => w.name === world)) {
    throw new GtbError("GTB_SWEEP_WORLD", `the scenario has no world named "${world}"`, {
      file,
      path: "spec.worlds",
      hint: `worlds: ${base.worlds.map((w) => w.name).join(", ")}`,
    });
  }
  checkParams(opts.params);
  const points = expandGrid(opts.params).map((p) => {
    const sets = [...baseSets, ...pointSets(base, opts.params, p)];
    try {
      parseScenario(file, text, { sets });
    } catch (e) {
      if (!isGtbError(e)) throw e;
      throw new GtbError(e.code, `grid point ${p.index} (${describe(p)}): ${e.message}`, {
        ...(e.file === undefined ? {} : { file: e.file }),
        ...(e.line === undefined ? {} : { line: e.line }),
        ...(e.path === undefined ? {} : { path: e.path }),
        hint: e.hint ?? "check the values given to --param",
      });
    }
    return { ...p, sets };
  });
  const meta: SweepMeta = {
    scenario: {
      name: base.name,
      file,
      seed: base.seed,
      sha256: createHash("sha256").update(text).digest("hex"),
    },
    world,
    baseSets,
    grid: {
      params: opts.params.map((p) => ({ ...p, values: [...p.values] })),
      points: points.length,
      repeats,
    },
  };
  return { base, meta, points };
}

export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const text = opts.text ?? (await readScenario(opts.file));
  const { base, meta, points } = planSweep(opts.file, text, opts);
  const selected = opts.shard === undefined ? points : shardPoints(points, opts.shard);
  const tasks: RunTask[] = [];
  for (const p of selected) {
    for (let k = 0; k < meta.grid.repeats; k++) {
      tasks.push({ file: opts.file, text, sets: p.sets, seed: base.seed + k, world: meta.world });
    }
  }
  const workers = opts.workers ?? availableParallelism();
  const samples =
    workers === 0
      ? await runInProcess(tasks, opts)
      : await runOnWorkers(tasks, Math.min(workers, Math.max(1, tasks.length)), opts);
  const results = selected.map((p, i) =>
    pointResult(p.index, p.params, p.sets, samples.slice(i * meta.grid.repeats, (i + 1) * meta.grid.repeats)),
  );
  return buildSweepResult(meta, results, opts.shard);
}

async function readScenario(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new GtbError(
      "GTB_SCENARIO_READ",
      `cannot read scenario ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file, hint: "pass the path of a scenario YAML file, e.g. scenarios/sweep-week.yaml" },
    );
  }
}

async function runInProcess(tasks: readonly RunTask[], opts: SweepOptions): Promise<RunSample[]> {
  const runners: WorldRunners =
    opts.worldsModule === undefined
      ? {}
      : (((await import(opts.worldsModule)) as { WORLD_RUNNERS?: WorldRunners }).WORLD_RUNNERS ?? {});
  const out: RunSample[] = [];
  for (const t of tasks) {
    out.push(await runOne(t, runners));
    opts.onProgress?.(out.length, tasks.length);
  }
  return out;
}

interface WorkerReply {
  id: number;
  sample?: RunSample;
  error?: ThreadError;
}

/** Run tasks on `n` worker threads; results come back in task order. */
function runOnWorkers(tasks: readonly RunTask[], n: number, opts: SweepOptions): Promise<RunSample[]> {
  const results: RunSample[] = new Array(tasks.length);
  const pool: Worker[] = [];
  let next = 0;
  let done = 0;
  return new Promise<RunSample[]>((resolve, reject) => {
    let failed = false;
    const stopAll = () => Promise.all(pool.map((w) => w.terminate()));
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      void stopAll().then(() => reject(e));
    };
    const feed = (w: Worker) => {
      if (next >= tasks.length) return;
      const id = next++;
      w.postMessage({ id, task: tasks[id] });
    };
    for (let i = 0; i < n; i++) {
      const w = tsWorker(new URL("./worker.ts", import.meta.url), { worldsModule: opts.worldsModule });
      pool.push(w);
      w.on("message", (m: WorkerReply) => {
        if (failed) return;
        if (m.error !== undefined || m.sample === undefined) {
          const task = tasks[m.id]!;
          const err = m.error ?? { name: "Error", message: "worker sent no sample" };
          fail(
            fromThreadError(
              err,
              err.gtb === undefined
                ? `sweep run failed (seed ${task.seed}, sets ${task.sets.join(" ")}): `
                : `seed ${task.seed}: `,
            ),
          );
          return;
        }
        results[m.id] = m.sample;
        done++;
        opts.onProgress?.(done, tasks.length);
        if (done === tasks.length) void stopAll().then(() => resolve(results));
        else feed(w);
      });
      w.on("error", (e) => fail(e));
      w.on("exit", (code) => {
        if (!failed && done < tasks.length && code !== 0)
          fail(new Error(`sweep worker exited with code ${code}`));
      });
      feed(w);
    }
  });
}
