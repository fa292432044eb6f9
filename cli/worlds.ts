/** The operating worlds available to `run` and `sweep` (the simulator's registry lives here, not in library code). */
import type { WorldSpec } from "../simulator/scenario/load.ts";
import type { WorldRunner } from "../simulator/scenario/run.ts";
import { runGitopsWorld } from "../simulator/world/gitops.ts";
import { runManualWorld } from "../simulator/world/manual.ts";
import { runMigrationWorld } from "../simulator/world/migration.ts";

export const WORLD_RUNNERS: Partial<Record<WorldSpec["model"], WorldRunner>> = {
  manual: runManualWorld,
  gitops: runGitopsWorld,
  migration: runMigrationWorld,
};
