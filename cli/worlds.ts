/** The operating worlds available to `run` and `sweep` (the simulator's registry lives here, not in library code). */
import type { WorldRunner } from "../simulator/scenario/run.ts";
import type { WorldSpec } from "../simulator/scenario/load.ts";

export const WORLD_RUNNERS: Partial<Record<WorldSpec["model"], WorldRunner>> = {};
