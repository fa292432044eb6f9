/**
 * Joining shard outputs (`gitops-testbed sweep merge DIR...`): the shards must come from the
 * same scenario (content hash), world, base overrides, grid and repeats; every point must be
 * present exactly once. The merged result is built like an unsharded one, so it is identical.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GtbError } from "../../engine/core/errors.ts";
import {
  buildSweepResult,
  type PointResult,
  SWEEP_SCHEMA,
  type SweepMeta,
  type SweepResult,
} from "./result.ts";

/** Read DIR/sweep.json (or a sweep.json path) and check its schema. */
export async function readSweep(dirOrFile: string): Promise<SweepResult> {
  const file = dirOrFile.endsWith(".json") ? dirOrFile : join(dirOrFile, "sweep.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new GtbError(
      "GTB_SWEEP_READ",
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        file,
        hint: "pass the output directories of `gitops-testbed sweep --shard I/N --out DIR`",
      },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GtbError("GTB_SWEEP_READ", `${file} is not JSON: ${(e as Error).message}`, { file });
  }
  const schema = (doc as { schema?: unknown } | null)?.schema;
  if (schema !== SWEEP_SCHEMA) {
    throw new GtbError(
      "GTB_SWEEP_SCHEMA",
      `${file} has schema ${JSON.stringify(schema)}, expected "${SWEEP_SCHEMA}"`,
      {
        file,
        hint: "merge outputs written by the same version of gitops-testbed sweep",
      },
    );
  }
  return doc as SweepResult;
}

function identity(r: SweepResult): string {
  const { name, seed, sha256 } = r.scenario;
  return JSON.stringify({ name, seed, sha256, world: r.world, baseSets: r.baseSets, grid: r.grid });
}

/** Merge shard results (`sources` names them in errors). */
export function mergeSweeps(parts: readonly SweepResult[], sources: readonly string[]): SweepResult {
  if (parts.length === 0) {
    throw new GtbError("GTB_SWEEP_MERGE", "nothing to merge", {
      hint: "pass one or more sweep output directories",
    });
  }
  const first = parts[0]!;
  const ref = identity(first);
  parts.forEach((p, i) => {
    if (identity(p) !== ref) {
      const what =
        p.scenario.sha256 !== first.scenario.sha256 || p.scenario.name !== first.scenario.name
          ? `scenario (${p.scenario.name} ${p.scenario.sha256.slice(0, 12)} vs ${first.scenario.name} ${first.scenario.sha256.slice(0, 12)})`
          : p.world !== first.world
            ? `world (${p.world} vs ${first.world})`
            : p.grid.repeats !== first.grid.repeats
              ? `repeats (${p.grid.repeats} vs ${first.grid.repeats})`
              : "grid, seed or --set overrides";
      throw new GtbError(
        "GTB_SWEEP_MERGE",
        `${sources[i]} is from a different sweep than ${sources[0]}: ${what} differ`,
        {
          file: sources[i],
          hint: "merge only the shards of one `gitops-testbed sweep` command (same scenario, params, repeats and --set)",
        },
      );
    }
  });
  const seen = new Map<number, string>();
  const points: PointResult[] = [];
  parts.forEach((p, i) => {
    for (const pt of p.points) {
      const prev = seen.get(pt.index);
      if (prev !== undefined) {
        throw new GtbError("GTB_SWEEP_MERGE", `grid point ${pt.index} is in both ${prev} and ${sources[i]}`, {
          file: sources[i],
          hint: "pass each shard once (the same --shard I/N twice, or a whole sweep with its shards?)",
        });
      }
      seen.set(pt.index, sources[i]!);
      points.push(pt);
    }
  });
  const missing: number[] = [];
  for (let i = 0; i < first.grid.points; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length > 0) {
    const shards = [
      ...new Set(parts.map((p) => (p.shard === undefined ? "whole" : `${p.shard.index}/${p.shard.count}`))),
    ];
    throw new GtbError(
      "GTB_SWEEP_MERGE",
      `${missing.length} of ${first.grid.points} grid points are missing (e.g. ${missing.slice(0, 5).join(", ")}); merged shards: ${shards.join(", ")}`,
      { hint: "pass the output of every shard I/N for I = 0..N-1" },
    );
  }
  const meta: SweepMeta = {
    scenario: first.scenario,
    world: first.world,
    baseSets: first.baseSets,
    grid: first.grid,
  };
  return buildSweepResult(meta, points);
}
