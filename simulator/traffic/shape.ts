/**
 * A service's request rate over time: a base rate shaped by a daily curve, a
 * weekend dip and smooth multiplicative noise. Noise knots are keyed draws
 * (seed, service, knot index), so any moment's rate is computed on its own.
 */
import { SeededRng } from "../clock/rng.ts";

export interface RateShape {
  /** Mean requests per second over a week. */
  baseRps: number;
  /** Relative swing of the daily curve, 0..1 (default 0.4: peak = 1.4x, trough = 0.6x of the day's mean). */
  diurnalAmplitude?: number;
  /** Hour of the daily peak, UTC (default 15). */
  peakHourUtc?: number;
  /** Saturday and Sunday traffic relative to weekdays (default 0.8). */
  weekendFactor?: number;
  /** Standard deviation of the log-scale noise (default 0.1). */
  noiseSd?: number;
  /** Distance between noise knots (default 5 minutes); noise is interpolated linearly between them. */
  noiseKnotMs?: number;
}

const DAY = 86_400_000;

export class RateCurve {
  private readonly amp: number;
  private readonly peak: number;
  private readonly weekend: number;
  private readonly norm: number;
  private readonly sd: number;
  private readonly knotMs: number;
  private knotCache = new Map<number, number>();
  /** The knots around the last t asked for: lastKnot's value and the next one's. */
  private lastKnot = Number.NaN;
  private k0 = 0;
  private k1 = 0;

  constructor(
    private readonly key: string,
    private readonly shape: RateShape,
  ) {
    this.amp = Math.min(1, Math.max(0, shape.diurnalAmplitude ?? 0.4));
    this.peak = shape.peakHourUtc ?? 15;
    this.weekend = Math.max(0, shape.weekendFactor ?? 0.8);
    this.norm = (5 + 2 * this.weekend) / 7;
    this.sd = Math.max(0, shape.noiseSd ?? 0.1);
    this.knotMs = Math.max(1000, shape.noiseKnotMs ?? 300_000);
  }

  /** Expected requests per second at `t` (ms since the epoch). */
  rps(t: number): number {
    // t % DAY is already in [0, DAY) for t >= 0 (the same number the general form gives)
    const hour = (t >= 0 ? t % DAY : ((t % DAY) + DAY) % DAY) / 3_600_000;
    // 1970-01-01 was a Thursday (day 4)
    const dow = (((Math.floor(t / DAY) + 4) % 7) + 7) % 7;
    const weekly = dow === 0 || dow === 6 ? this.weekend : 1;
    const daily = 1 + this.amp * Math.cos((2 * Math.PI * (hour - this.peak)) / 24);
    return (this.shape.baseRps * daily * weekly * this.noise(t)) / this.norm;
  }

  /** Multiplicative noise with mean 1 (log-normal, linearly interpolated between keyed knots). */
  private noise(t: number): number {
    if (this.sd === 0) return 1;
    const x = t / this.knotMs;
    const i = Math.floor(x);
    const f = x - i;
    // consecutive calls mostly fall between the same two knots
    if (i !== this.lastKnot) {
      this.lastKnot = i;
      this.k0 = this.knot(i);
      this.k1 = this.knot(i + 1);
    }
    const z = (1 - f) * this.k0 + f * this.k1;
    return Math.exp(this.sd * z - (this.sd * this.sd) / 2);
  }

  private knot(i: number): number {
    let z = this.knotCache.get(i);
    if (z === undefined) {
      if (this.knotCache.size > 4096) this.knotCache = new Map();
      z = SeededRng.keyed(this.key, "noise", i).normal();
      this.knotCache.set(i, z);
    }
    return z;
  }
}
