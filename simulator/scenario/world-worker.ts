/**
 * Worker thread running one world of a scenario (runScenario with `worldsModule`): it redraws the
 * fleet and the plan from the scenario (deterministic), runs the world, and sends back the
 * world's events in the order they were emitted plus its stats, so the parent replays them into
 * its canonical sink exactly as if the world had run in the parent.
 */
import type { EventBase } from "../../engine/core/events.ts";
import { parentPort, workerData } from "node:worker_threads";
import { toThreadError } from "../threads.ts";
import type { Scenario } from "./load.ts";
import { prepareRun, type WorldRunner } from "./run.ts";
import type { WorldSpec } from "./load.ts";

export interface WorldTask {
  scenario: Scenario;
  world: string;
  workDir: string;
  worldsModule: string;
}

export type WorldReply =
  | { kind: "progress"; fraction: number }
  | { kind: "done"; events: EventBase[]; stats: Record<string, number> }
  | { kind: "error"; error: ReturnType<typeof toThreadError> };

async function main(task: WorldTask): Promise<void> {
  const port = parentPort!;
  try {
    const mod = (await import(task.worldsModule)) as {
      WORLD_RUNNERS?: Partial<Record<WorldSpec["model"], WorldRunner>>;
    };
    const world = task.scenario.worlds.find((w) => w.name === task.world)!;
    const runner = mod.WORLD_RUNNERS?.[world.model];
    if (runner === undefined) throw new Error(`no runner for world model ${world.model}`);
    const { services, plan } = prepareRun(task.scenario);
    const events: EventBase[] = [];
    const result = await runner({
      scenario: task.scenario,
      world,
      services,
      plan,
      sink: { emit: (e) => events.push(e) },
      workDir: task.workDir,
      onProgress: (fraction) => port.postMessage({ kind: "progress", fraction } satisfies WorldReply),
    });
    port.postMessage({ kind: "done", events, stats: result.stats } satisfies WorldReply);
  } catch (e) {
    port.postMessage({ kind: "error", error: toThreadError(e) } satisfies WorldReply);
  }
}

void main(workerData as WorldTask);
