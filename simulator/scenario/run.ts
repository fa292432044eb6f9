/**
 * Running a scenario: generate the fleet and the plan from the seed, run every
 * world on its own virtual clock, collect one event log, check the assertions.
 * Same scenario + seed -> byte-identical event log.
 */
import { accessSync, constants, statfsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventBase } from "../../engine/core/events.ts";
import { GtbError } from "../../engine/core/errors.ts";
import type { AssertionResult } from "../../reports/report.ts";
import type { ClusterSpec } from "../cluster/providers/types.ts";
import { type FleetService, generateFleet } from "../fleet/generate.ts";
import type { Worker } from "node:worker_threads";
import { fromThreadError, tsWorker } from "../threads.ts";
import type { WorldResult } from "../world/infra.ts";
import { runManualWorld } from "../world/manual.ts";
import { drawPlan } from "../world/plan.ts";
import { checkAssertions } from "./assertions.ts";
import type { Scenario, WorldSpec } from "./load.ts";
import type { WorldReply, WorldTask } from "./world-worker.ts";

const SHM = "/dev/shm";
/** Free space /dev/shm must have to hold a run's scratch files (a 10-week fleet repository is ~150 MB there). */
const SHM_MIN_FREE = 1 << 30;

/**
 * Where a run keeps its scratch files (the fleet's Git repository, written a few small files per
 * commit): the memory-backed /dev/shm when it has room and TMPDIR does not say otherwise (creating a
 * file costs ~20 us of kernel time there, ~0.4 ms on a journalling disk), else the temp directory.
 */
export function scratchBase(): string {
  if (process.env.TMPDIR === undefined || process.env.TMPDIR === "") {
    try {
      const st = statfsSync(SHM);
      if (st.bavail * st.bsize >= SHM_MIN_FREE) {
        accessSync(SHM, constants.W_OK);
        return SHM;
      }
    } catch {
      // no /dev/shm (macOS, Windows) or not writable: the temp directory
    }
  }
  return tmpdir();
}

export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  onProgress?: (world: string, fraction: number) => void;
  /** Worlds implemented elsewhere (gitops, migration) register here. */
  worldRunners?: Partial<Record<WorldSpec["model"], WorldRunner>>;
  /** virtual (default): in-process, discrete time; live: HTTP against a cluster, scaled wall clock. */
  mode?: "virtual" | "live";
  /** Live mode: clock ms per wall ms (default 60). */
  timeScale?: number;
  /** Live mode: the cluster provider (default embedded). */
  cluster?: ClusterSpec;
  /**
   * URL of a module exporting WORLD_RUNNERS (the CLI's cli/worlds.ts). Given, and in virtual mode
   * with several worlds, each world runs on its own worker thread (the worlds share nothing but
   * the plan); the event log is the same byte for byte as when they run one after the other.
   */
  worldsModule?: string;
}

export type WorldRunner = (input: Parameters<typeof runManualWorld>[0]) => Promise<WorldResult>;

export interface RunResult {
  events: EventBase[];
  assertions: AssertionResult[];
  stats: Record<string, Record<string, number>>;
}

/**
 * Events that happen at the same clock instant can reach the log in an order that depends on
 * real I/O (two reconciles waiting on Git). The log keeps them in a canonical order instead:
 * events are held until time moves on, then written sorted by their content. Same scenario and
 * seed -> byte-identical log.
 */
export class CanonicalOrderSink {
  private pending: Array<{ key: string; e: EventBase }> = [];
  private time = Number.NEGATIVE_INFINITY;

  constructor(private readonly out: EventBase[]) {}

  emit(e: EventBase): void {
    if (e.time !== this.time) this.flush();
    this.time = e.time;
    this.pending.push({ key: JSON.stringify(e), e });
  }

  flush(): void {
    if (this.pending.length > 1) this.pending.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const p of this.pending) this.out.push(p.e);
    this.pending = [];
  }
}

export function fleetFor(scenario: Scenario): FleetService[] {
  const fleet = generateFleet({
    seed: scenario.seed,
    services: scenario.fleet.services,
    tierShares: scenario.fleet.tiers,
    minRps: scenario.fleet.requestRate.min,
    maxRps: scenario.fleet.requestRate.max,
  });
  if (scenario.fleet.naming === "faker") return fleet.services;
  return fleet.services.map((s) => ({ ...s, name: `svc-${s.index}` }));
}

/** The fleet and the plan of changes and drift, drawn from the scenario's seed. */
export function prepareRun(scenario: Scenario): {
  services: FleetService[];
  plan: ReturnType<typeof drawPlan>;
} {
  const services = fleetFor(scenario);
  try {
    return { services, plan: drawPlan(scenario, services) };
  } catch (e) {
    throw new GtbError("GTB_SCENARIO_SERVICE", (e as Error).message, {
      file: scenario.file,
      hint: "refer to services by fleet index (0-based) or by a generated name",
    });
  }
}

export async function runScenario(input: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const scenario: Scenario = opts.seed === undefined ? input : { ...input, seed: opts.seed };
  const { services, plan } = prepareRun(scenario);
  const events: EventBase[] = [];
  const sink = new CanonicalOrderSink(events);
  const end = scenario.startMs + scenario.durationMs;
  sink.emit({
    type: "run.started",
    time: scenario.startMs,
    scenario: scenario.name,
    seed: scenario.seed,
    worlds: scenario.worlds.map((w) => w.name),
    services: services.length,
    startTime: scenario.startMs,
    endTime: end,
  } as EventBase);
  const runners: Partial<Record<WorldSpec["model"], WorldRunner>> = {
    manual: runManualWorld,
    ...opts.worldRunners,
  };
  const stats: RunResult["stats"] = {};
  for (const [i, world] of scenario.worlds.entries()) {
    if (runners[world.model] === undefined) {
      throw new GtbError(
        "GTB_WORLD_UNSUPPORTED",
        `world model "${world.model}" is not available in this build`,
        {
          file: scenario.file,
          path: `spec.worlds[${i}].model`,
        },
      );
    }
  }
  const workDir = await mkdtemp(join(scratchBase(), "gtb-run-"));
  try {
    if (
      opts.worldsModule !== undefined &&
      scenario.worlds.length > 1 &&
      (opts.mode ?? "virtual") === "virtual"
    ) {
      const results = await runWorldsOnThreads(scenario, opts.worldsModule, workDir, opts.onProgress);
      for (const [i, world] of scenario.worlds.entries()) {
        const r = results[i]!;
        for (const e of r.events) sink.emit(e);
        stats[world.name] = r.stats;
      }
    } else
      for (const world of scenario.worlds) {
        const runner = runners[world.model]!;
        const result = await runner({
          scenario,
          world,
          services,
          plan,
          sink,
          workDir: join(workDir, world.name),
          ...(opts.mode === undefined ? {} : { mode: opts.mode }),
          ...(opts.timeScale === undefined ? {} : { timeScale: opts.timeScale }),
          ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }),
          ...(opts.onProgress === undefined
            ? {}
            : { onProgress: (f: number) => opts.onProgress?.(world.name, f) }),
        });
        stats[world.name] = result.stats;
      }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  sink.flush();
  sink.emit({ type: "run.finished", time: end, scenario: scenario.name } as EventBase);
  sink.flush();
  return { events, assertions: checkAssertions(scenario, services, events), stats };
}

/** Run each world on its own worker thread; results in world order. */
async function runWorldsOnThreads(
  scenario: Scenario,
  worldsModule: string,
  workDir: string,
  onProgress: RunOptions["onProgress"],
): Promise<Array<{ events: EventBase[]; stats: Record<string, number> }>> {
  const workers: Worker[] = [];
  try {
    return await Promise.all(
      scenario.worlds.map(
        (world) =>
          new Promise<{ events: EventBase[]; stats: Record<string, number> }>((resolve, reject) => {
            const task: WorldTask = {
              scenario,
              world: world.name,
              workDir: join(workDir, world.name),
              worldsModule,
            };
            const w = tsWorker(new URL("./world-worker.ts", import.meta.url), task);
            workers.push(w);
            let settled = false;
            w.on("message", (m: WorldReply) => {
              if (m.kind === "progress") onProgress?.(world.name, m.fraction);
              else {
                settled = true;
                if (m.kind === "done") resolve({ events: m.events, stats: m.stats });
                else reject(fromThreadError(m.error, ""));
              }
            });
            w.on("error", (e) => reject(e));
            w.on("exit", (code) => {
              if (!settled) reject(new Error(`world ${world.name}: worker thread exited with code ${code}`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
