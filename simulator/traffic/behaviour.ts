/**
 * How one version of a service behaves: error ratio, latency distribution and
 * the ways both can change with load, with the version's age and in bursts.
 * Pure functions; the traffic model evaluates them once per scrape interval.
 */

/** A log-normal latency distribution given by its median and 99th percentile (milliseconds). */
export interface LatencyLogNormal {
  p50Ms: number;
  p99Ms: number;
}

/** A mixture of log-normals, e.g. 97% fast path + 3% slow path (cache misses). */
export interface LatencyMixture {
  mixture: ReadonlyArray<LatencyLogNormal & { weight: number }>;
}

export type LatencySpec = LatencyLogNormal | LatencyMixture;

/** A regression that only shows above some request rate served by the version. */
export interface LoadRegression {
  /** Requests per second served by this version above which the regression starts. */
  aboveRps: number;
  /** The regression grows linearly to full strength over this many extra rps (0 = a step). */
  rampRps?: number;
  /** Extra 5xx ratio at full strength. */
  errorRatio?: number;
  /** Latency multiplier at full strength (e.g. 3 = three times slower). */
  latencyFactor?: number;
}

/** A regression that grows with the time since the version started (a leak). */
export interface GrowthRegression {
  /** Extra 5xx ratio added per hour of version age. */
  errorRatioPerHour?: number;
  /** Latency multiplier grows by this much per hour of age (0.5 = +50%/h). */
  latencyFactorPerHour?: number;
  /** Caps. */
  maxErrorRatio?: number;
  maxLatencyFactor?: number;
}

/** Errors that come and go, e.g. bursts hovering around the SLO threshold. */
export interface IntermittentErrors {
  /** Probability that a burst window is "bad". */
  probability: number;
  /** Extra 5xx ratio during a bad window. */
  errorRatio: number;
  /** Length of a burst window in ms (default 60 s). */
  windowMs?: number;
}

export interface VersionBehaviour {
  /** Share of requests answered with a 5xx (default 0.001). */
  errorRatio?: number;
  /** Share of 5xx answers that are 503 instead of 500 (default 0.3). */
  unavailableShare?: number;
  /** Share of requests answered 404 (client errors; not counted as failures; default 0.002). */
  clientErrorRatio?: number;
  /** Latency distribution (default p50 40 ms, p99 250 ms). */
  latency?: LatencySpec;
  load?: LoadRegression;
  growth?: GrowthRegression;
  intermittent?: IntermittentErrors;
}

export const DEFAULT_BEHAVIOUR: Readonly<Required<Pick<VersionBehaviour, "errorRatio" | "latency">>> = {
  errorRatio: 0.001,
  latency: { p50Ms: 40, p99Ms: 250 },
};

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/** Internal: a log-normal component in log-seconds. */
export interface Component {
  weight: number;
  mu: number;
  sigma: number;
}

export function components(spec: LatencySpec | undefined): Component[] {
  const s = spec ?? DEFAULT_BEHAVIOUR.latency;
  const parts = "mixture" in s ? s.mixture : [{ ...s, weight: 1 }];
  let total = 0;
  for (const p of parts) total += p.weight;
  return parts.map((p) => {
    const p50 = p.p50Ms / 1000;
    const p99 = Math.max(p.p99Ms, p.p50Ms) / 1000;
    return { weight: p.weight / total, mu: Math.log(p50), sigma: Math.log(p99 / p50) / Z99 };
  });
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 on erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** P[latency <= x seconds] for the mixture scaled by `factor`. */
export function latencyCdf(comps: readonly Component[], factor: number, x: number): number {
  if (x === Number.POSITIVE_INFINITY) return 1;
  const lf = Math.log(factor);
  let p = 0;
  for (const c of comps) {
    p +=
      c.sigma === 0
        ? Math.log(x) >= c.mu + lf
          ? c.weight
          : 0
        : c.weight * normalCdf((Math.log(x) - c.mu - lf) / c.sigma);
  }
  return p;
}

/** Mean and variance (seconds) of one request's latency. */
export function latencyMoments(
  comps: readonly Component[],
  factor: number,
): { mean: number; variance: number } {
  let m1 = 0;
  let m2 = 0;
  for (const c of comps) {
    const mu = c.mu + Math.log(factor);
    m1 += c.weight * Math.exp(mu + (c.sigma * c.sigma) / 2);
    m2 += c.weight * Math.exp(2 * mu + 2 * c.sigma * c.sigma);
  }
  return { mean: m1, variance: Math.max(0, m2 - m1 * m1) };
}

/** Everything a scrape interval needs, for one version at one moment. */
export interface EffectiveBehaviour {
  errorRatio: number;
  unavailableShare: number;
  clientErrorRatio: number;
  latencyFactor: number;
}

/** How much of a load regression shows (0..1) at `versionRps` requests/s served by the version. */
export function loadStrength(load: LoadRegression, versionRps: number): number {
  const ramp = load.rampRps ?? 0;
  const over = versionRps - load.aboveRps;
  return over <= 0 ? 0 : ramp <= 0 ? 1 : Math.min(1, over / ramp);
}

/**
 * Effective behaviour for a version serving `versionRps` requests/s, `ageMs` after it started;
 * `burst` says whether the intermittent window containing this moment is a bad one.
 */
export function effective(
  b: VersionBehaviour,
  versionRps: number,
  ageMs: number,
  burst: boolean,
): EffectiveBehaviour {
  let err = b.errorRatio ?? DEFAULT_BEHAVIOUR.errorRatio;
  let factor = 1;
  if (b.load !== undefined) {
    const strength = loadStrength(b.load, versionRps);
    err += strength * (b.load.errorRatio ?? 0);
    factor *= 1 + strength * ((b.load.latencyFactor ?? 1) - 1);
  }
  if (b.growth !== undefined) {
    const hours = Math.max(0, ageMs) / 3_600_000;
    err += Math.min(b.growth.maxErrorRatio ?? 1, hours * (b.growth.errorRatioPerHour ?? 0));
    factor *= Math.min(
      b.growth.maxLatencyFactor ?? Number.POSITIVE_INFINITY,
      1 + hours * (b.growth.latencyFactorPerHour ?? 0),
    );
  }
  if (burst && b.intermittent !== undefined) err += b.intermittent.errorRatio;
  const errorRatio = Math.min(1, Math.max(0, err));
  const clientErrorRatio = Math.min(1 - errorRatio, Math.max(0, b.clientErrorRatio ?? 0.002));
  return { errorRatio, unavailableShare: b.unavailableShare ?? 0.3, clientErrorRatio, latencyFactor: factor };
}
