/**
 * Statistics for sweeps (pure, deterministic: sums run in array order).
 * - mean and 95% confidence interval over repeats (Student's t);
 * - the exact binomial tail (log-gamma, no dependency) for the canary detection model;
 * - the Wilson score interval for an observed rate.
 */
import { normalCdf } from "../../simulator/traffic/behaviour.ts";
import { round } from "../stats.ts";

export interface RepeatSummary {
  /** Repeats that produced a value (a rate with no denominator gives none). */
  n: number;
  mean: number | null;
  /** 95% confidence interval of the mean (Student's t over the repeats); null when n < 2. */
  ci95: [number, number] | null;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
const Z975 = 1.959963984540054;

/** t quantile (0.975) for `df` degrees of freedom; Cornish-Fisher's first term above 30 (error < 0.002). */
export function t975(df: number): number {
  if (df < 1) return Number.NaN;
  return T975[df - 1] ?? Z975 + (Z975 ** 3 + Z975) / (4 * df);
}

/**
 * Mean and 95% CI over repeats, ignoring repeats without a value. The interval is cut to the
 * metric's `domain` (a rate's [0, 1], a count's [0, inf)): Student's t is symmetric, and a rate of
 * 1.7% over ten repeats would otherwise read "95% CI -0.5% to 3.9%".
 */
export function summarizeRepeats(
  values: ReadonlyArray<number | null>,
  domain: readonly [number, number] = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
): RepeatSummary {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: null, ci95: null };
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / n;
  if (n < 2) return { n, mean: round(mean, 6), ci95: null };
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  const half = t975(n - 1) * Math.sqrt(ss / (n - 1) / n);
  const lo = Math.max(domain[0], mean - half);
  const hi = Math.min(domain[1], mean + half);
  return { n, mean: round(mean, 6), ci95: [round(lo, 6), round(hi, 6)] };
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln P[X = k] for X ~ Binomial(n, p). */
export function logBinomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (p === 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (p === 1) return k === n ? 0 : Number.NEGATIVE_INFINITY;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P[X > k] for X ~ Binomial(n, p): the exact upper tail, summed from the far end for accuracy. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k < 0) return 1;
  if (k >= n) return 0;
  let sum = 0;
  for (let j = n; j > k; j--) sum += Math.exp(logBinomialPmf(j, n, p));
  return Math.min(1, sum);
}

/**
 * The canary model: probability that one judgement of n requests with per-request failure
 * probability p sees an error ratio above the threshold, P[Binomial(n, p) / n > threshold].
 */
export function exceedProbability(n: number, p: number, threshold: number): number {
  return binomialUpperTail(Math.floor(threshold * n + 1e-9), n, p);
}

/** Two-sided z for a confidence level (0.95 -> 1.96, 0.99 -> 2.576), by bisection on the normal CDF. */
export function zFor(level: number): number {
  const target = 1 - (1 - level) / 2;
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Wilson score interval for `successes` out of `trials` at a confidence level. */
export function wilsonInterval(successes: number, trials: number, level: number): [number, number] {
  if (trials <= 0) return [0, 1];
  const z = zFor(level);
  const p = successes / trials;
  const z2 = z * z;
  const den = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / den;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
