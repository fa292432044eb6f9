/**
 * Running the attribution variants: each gitops world of a scenario re-run with one mechanism off
 * (canary analysis, self-heal, push webhook), through runScenario on a modified resolved Scenario.
 * The seed, fleet, plan and traffic draws do not depend on the world's flags or on which other
 * worlds run, so a variant is paired with its baseline: same changes, drift and requests.
 */
import type { Scenario, WorldSpec } from "../simulator/scenario/load.ts";
import { type RunOptions, runScenario } from "../simulator/scenario/run.ts";
import {
  type AttributionComputedEvent,
  type AttributionVariant,
  attributionFigures,
  type Mechanism,
  MECHANISMS,
  type MechanismId,
} from "./attribution.ts";
import { worldMetrics } from "./dora.ts";

const FLAG: Record<MechanismId, "canaryAnalysis" | "selfHeal" | "webhook"> = {
  "canary-analysis": "canaryAnalysis",
  "self-heal": "selfHeal",
  webhook: "webhook",
};

/**
 * The scenario a variant runs: only the gitops worlds that have the mechanism on, with it off
 * (world flag and the delivery default alike); no assertions (they are the baseline's business).
 * Worlds where the mechanism is already off are listed as skipped.
 */
export function variantScenario(
  scenario: Scenario,
  mechanism: MechanismId,
): { scenario: Scenario; skipped: Array<{ world: string; reason: string }> } {
  const flag = FLAG[mechanism];
  const gitops = scenario.worlds.filter((w) => w.model === "gitops");
  const worlds: WorldSpec[] = gitops.filter((w) => w[flag]).map((w) => ({ ...w, [flag]: false }));
  const skipped = gitops
    .filter((w) => !w[flag])
    .map((w) => ({ world: w.name, reason: "the mechanism is already off in this world" }));
  const delivery = structuredClone(scenario.delivery);
  if (mechanism === "canary-analysis") delivery.canary.analysis.enabled = false;
  if (mechanism === "self-heal") delivery.selfHeal = false;
  if (mechanism === "webhook") delivery.webhook = false;
  return { scenario: { ...scenario, worlds, delivery, assertions: [] }, skipped };
}

export interface AttributionOptions extends Pick<RunOptions, "seed" | "worldRunners" | "worldsModule"> {
  onProgress?: (mechanism: Mechanism, world: string, fraction: number) => void;
}

/** Run every variant; the result goes into the run's event log (withAttribution). Virtual time only. */
export async function runAttribution(
  scenario: Scenario,
  opts: AttributionOptions = {},
): Promise<AttributionComputedEvent> {
  const seed = opts.seed ?? scenario.seed;
  const variants: AttributionVariant[] = [];
  for (const m of MECHANISMS) {
    const v = variantScenario(scenario, m.id);
    for (const s of v.skipped) variants.push({ mechanism: m.id, world: s.world, skipped: s.reason });
    if (v.scenario.worlds.length === 0) continue;
    const onProgress = opts.onProgress;
    const run = await runScenario(v.scenario, {
      seed,
      ...(opts.worldRunners === undefined ? {} : { worldRunners: opts.worldRunners }),
      ...(opts.worldsModule === undefined ? {} : { worldsModule: opts.worldsModule }),
      ...(onProgress === undefined ? {} : { onProgress: (w: string, f: number) => onProgress(m, w, f) }),
    });
    for (const w of v.scenario.worlds)
      variants.push({
        mechanism: m.id,
        world: w.name,
        figures: attributionFigures(worldMetrics(run.events, w.name)),
      });
  }
  return {
    type: "attribution.computed",
    time: scenario.startMs + scenario.durationMs,
    seed,
    variants,
  };
}
