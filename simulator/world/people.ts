/**
 * Human process delays: log-normal distributions given by their median and p90,
 * drawn from a named random stream. They are scenario inputs with documented
 * defaults (simulator/scenario/load.ts DEFAULTS), never tuned to an answer.
 */
import type { SeededRng } from "../clock/rng.ts";
import type { Dist } from "../scenario/load.ts";

/** z of the 90th percentile of the standard normal. */
const Z90 = 1.2815515655446004;

/** A draw from the log-normal with this median and p90 (p90 == median -> constant). */
export function drawDelay(rng: SeededRng, d: Dist): number {
  if (d.medianMs <= 0) return 0;
  const sigma = d.p90Ms > d.medianMs ? Math.log(d.p90Ms / d.medianMs) / Z90 : 0;
  return Math.round(Math.exp(Math.log(d.medianMs) + sigma * rng.normal()));
}
