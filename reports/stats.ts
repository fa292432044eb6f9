/** Small, exact statistics used by the reports (pure). */

/** Quantile q in [0,1] with linear interpolation between order statistics (numpy's default). NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo]!;
  const b = s[hi]!;
  return a + (b - a) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export interface Summary {
  n: number;
  median: number | null;
  p90: number | null;
  mean: number | null;
}

/** JSON-friendly summary: null instead of NaN when there is no data. */
export function summarize(values: readonly number[]): Summary {
  const clean = (x: number) => (Number.isFinite(x) ? round(x, 4) : null);
  const mean = values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  return {
    n: values.length,
    median: clean(median(values)),
    p90: clean(quantile(values, 0.9)),
    mean: clean(mean),
  };
}

export function ratio(num: number, den: number): number | null {
  return den === 0 ? null : round(num / den, 6);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
