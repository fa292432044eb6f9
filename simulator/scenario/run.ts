/**
 * Running a scenario: generate the fleet and the plan from the seed, run every
 * world on its own virtual clock, collect one event log, check the assertions.
 * Same scenario + seed -> byte-identical event log.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventBase } from "../../engine/core/events.ts";
import { GtbError } from "../../engine/core/errors.ts";
import type { AssertionResult } from "../../reports/report.ts";
import type { ClusterSpec } from "../cluster/providers/types.ts";
import { type FleetService, generateFleet } from "../fleet/generate.ts";
import type { WorldResult } from "../world/infra.ts";
import { runManualWorld } from "../world/manual.ts";
import { drawPlan } from "../world/plan.ts";
import { checkAssertions } from "./assertions.ts";
import type { Scenario, WorldSpec } from "./load.ts";

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

export async function runScenario(input: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const scenario: Scenario = opts.seed === undefined ? input : { ...input, seed: opts.seed };
  const services = fleetFor(scenario);
  let plan: ReturnType<typeof drawPlan>;
  try {
    plan = drawPlan(scenario, services);
  } catch (e) {
    throw new GtbError("GTB_SCENARIO_SERVICE", (e as Error).message, {
      file: scenario.file,
      hint: "refer to services by fleet index (0-based) or by a generated name",
    });
  }
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
  const workDir = await mkdtemp(join(tmpdir(), "gtb-run-"));
  try {
    for (const world of scenario.worlds) {
      const runner = runners[world.model];
      if (runner === undefined) {
        throw new GtbError(
          "GTB_WORLD_UNSUPPORTED",
          `world model "${world.model}" is not available in this build`,
          {
            file: scenario.file,
            path: `spec.worlds[${scenario.worlds.indexOf(world)}].model`,
          },
        );
      }
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
