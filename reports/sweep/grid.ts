/**
 * The sweep grid: `--param name=v1,v2,...` options, their mapping to scenario fields
 * (as `--set path=value` overrides, so every value goes through the scenario loader's
 * validation), and the cartesian product of the values (first param varies slowest).
 */
import { GtbError } from "../../engine/core/errors.ts";
import type { CanaryStep, Scenario } from "../../simulator/scenario/load.ts";

const ANALYSIS = "spec.delivery.canary.analysis";

/** Param names a user can sweep, and the scenario field each one sets. */
export const KNOWN_PARAMS: Readonly<Record<string, string>> = {
  "analysis.errorRate": `${ANALYSIS}.errorRate`,
  "analysis.p99Latency": `${ANALYSIS}.p99Latency`,
  "analysis.interval": `${ANALYSIS}.interval`,
  "analysis.window": `${ANALYSIS}.window`,
  window: `${ANALYSIS}.window`,
  "analysis.failureLimit": `${ANALYSIS}.failureLimit`,
  "analysis.requestGuard": `${ANALYSIS}.requestGuard`,
  "canary.weight": "spec.delivery.canary.steps[first setWeight].setWeight",
};

export interface SweepParam {
  /** As the user wrote it, e.g. `analysis.errorRate` or `spec.changes.badRatio`. */
  name: string;
  /** The scenario field it sets (documentation; `canary.weight` rewrites the steps list). */
  path: string;
  values: string[];
}

export interface GridPoint {
  index: number;
  /** Param name -> value as written on the command line. */
  params: Record<string, string>;
}

/** Parse one `--param name=v1,v2` option. Unknown names are a GtbError listing the known ones. */
export function parseParam(option: string): SweepParam {
  const eq = option.indexOf("=");
  if (eq <= 0 || eq === option.length - 1) {
    throw new GtbError("GTB_SWEEP_PARAM", `--param "${option}" is not of the form name=v1,v2,...`, {
      hint: "e.g. --param analysis.errorRate=0.002,0.005,0.01",
    });
  }
  const name = option.slice(0, eq).trim();
  const values = option
    .slice(eq + 1)
    .split(",")
    .map((v) => v.trim());
  if (values.some((v) => v === "")) {
    throw new GtbError("GTB_SWEEP_PARAM", `--param ${name} has an empty value in "${option}"`, {
      hint: "separate values with commas and no empty entries, e.g. window=5m,10m",
    });
  }
  if (new Set(values).size !== values.length) {
    throw new GtbError("GTB_SWEEP_PARAM", `--param ${name} lists a value twice`, {
      hint: "each value of a param must be different",
    });
  }
  const known = KNOWN_PARAMS[name];
  if (known !== undefined) return { name, path: known, values };
  if (/^spec\.[A-Za-z_][\w.[\]]*$/.test(name)) return { name, path: name, values };
  throw new GtbError("GTB_SWEEP_PARAM", `unknown sweep param "${name}"`, {
    hint: `known params: ${Object.keys(KNOWN_PARAMS).join(", ")}, or any scenario field as spec.x.y (e.g. spec.changes.badRatio)`,
  });
}

/** Check that the params do not set the same field twice. */
export function checkParams(params: readonly SweepParam[]): void {
  const seen = new Map<string, string>();
  for (const p of params) {
    const prev = seen.get(p.path);
    if (prev !== undefined) {
      throw new GtbError(
        "GTB_SWEEP_PARAM",
        `--param ${p.name} and --param ${prev} set the same field ${p.path}`,
        {
          hint: "give each scenario field once",
        },
      );
    }
    seen.set(p.path, p.name);
  }
}

/** The cartesian product of the params' values; the first param varies slowest. */
export function expandGrid(params: readonly SweepParam[]): GridPoint[] {
  let rows: Array<Record<string, string>> = [{}];
  for (const p of params) {
    const next: Array<Record<string, string>> = [];
    for (const row of rows) for (const v of p.values) next.push({ ...row, [p.name]: v });
    rows = next;
  }
  return rows.map((params, index) => ({ index, params }));
}

/** Points of shard `index` of `count`: the points whose index % count == index. */
export function shardPoints<P extends GridPoint>(
  points: readonly P[],
  shard: { index: number; count: number },
): P[] {
  return points.filter((p) => p.index % shard.count === shard.index);
}

/** Parse `--shard I/N` (0 <= I < N). */
export function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || !(count >= 1) || !(index < count)) {
    throw new GtbError("GTB_SWEEP_SHARD", `--shard "${v}" is not of the form I/N with 0 <= I < N`, {
      hint: "e.g. --shard 0/4 ... --shard 3/4 in a CI matrix of 4 jobs",
    });
  }
  return { index, count };
}

/**
 * The `--set` overrides of one point, against the resolved base scenario (which supplies the
 * canary steps that `canary.weight` rewrites: the first setWeight step gets the new weight).
 */
export function pointSets(base: Scenario, params: readonly SweepParam[], point: GridPoint): string[] {
  const sets: string[] = [];
  for (const p of params) {
    const value = point.params[p.name]!;
    if (p.name !== "canary.weight") {
      sets.push(`${p.path}=${value}`);
      continue;
    }
    const weight = Number(value);
    if (!Number.isFinite(weight) || weight <= 0 || weight > 100) {
      throw new GtbError(
        "GTB_SWEEP_PARAM",
        `canary.weight ${value} is not a weight between 0 (excluded) and 100`,
        {
          hint: "give percentages, e.g. --param canary.weight=5,10,20",
        },
      );
    }
    const steps: CanaryStep[] = base.delivery.canary.steps.map((s) => ({ ...s }));
    const first = steps.findIndex((s) => "setWeight" in s);
    if (first < 0) {
      throw new GtbError(
        "GTB_SWEEP_PARAM",
        "canary.weight needs a setWeight step in the scenario's canary steps",
        {
          file: base.file,
          path: "spec.delivery.canary.steps",
          hint: "add a setWeight step, or sweep a raw path such as spec.delivery.canary.steps[0].setWeight",
        },
      );
    }
    steps[first] = { setWeight: weight };
    sets.push(`spec.delivery.canary.steps=${JSON.stringify(steps)}`);
  }
  return sets;
}
