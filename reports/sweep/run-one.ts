/**
 * One run of a sweep: a point's scenario (the base file with the point's `--set` overrides)
 * at one seed, restricted to the measured world, reduced to its sample. Runs in a worker thread
 * or in-process; the result depends only on the task.
 */
import { GtbError } from "../../engine/core/errors.ts";
import { parseScenario, type Scenario } from "../../simulator/scenario/load.ts";
import { runScenario, type WorldRunner } from "../../simulator/scenario/run.ts";
import type { WorldSpec } from "../../simulator/scenario/load.ts";
import { type RunSample, runSample } from "./sample.ts";

export type WorldRunners = Partial<Record<WorldSpec["model"], WorldRunner>>;

export interface RunTask {
  /** Scenario file name (for messages) and its text. */
  file: string;
  text: string;
  sets: string[];
  seed: number;
  world: string;
}

/** The scenario with only `world` in it (its scheduled events and no assertions). */
export function onlyWorld(s: Scenario, world: string): Scenario {
  const w = s.worlds.find((x) => x.name === world);
  if (w === undefined) {
    throw new GtbError("GTB_SWEEP_WORLD", `the scenario has no world named "${world}"`, {
      file: s.file,
      path: "spec.worlds",
      hint: `worlds: ${s.worlds.map((x) => x.name).join(", ")}`,
    });
  }
  return {
    ...s,
    worlds: [w],
    events: s.events.filter((e) => e.world === undefined || e.world === world),
    assertions: [],
  };
}

export async function runOne(task: RunTask, worldRunners: WorldRunners): Promise<RunSample> {
  const scenario = onlyWorld(parseScenario(task.file, task.text, { sets: task.sets }), task.world);
  const { events } = await runScenario(scenario, { seed: task.seed, worldRunners });
  return runSample(events, task.world, task.seed);
}
