/**
 * PromQL functions with Prometheus 2.42 semantics (promql/functions.go, promql/quantile.go).
 * Range functions see one series' points of a window; instant functions map vectors.
 */
import { memoByText } from "../../engine/core/memo.ts";
import { parseGoFloat } from "./series-file.ts";
import { compileRegex } from "./store.ts";
import type { Labels } from "./types.ts";
import type { RangeSeries, Sample } from "./values.ts";
import { dropName, keyWithout } from "./values.ts";
import { PromQLError } from "./parser.ts";

/** Where a range function's window lies (ms): rate extrapolates to these edges. */
export interface RangeWindow {
  start: number;
  end: number;
  rangeMs: number;
  /** Evaluation time of the step (predict_linear's intercept). */
  evalT: number;
}

function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** 2.42 extrapolatedRate: rate, increase (counter) and delta (gauge). */
export function extrapolatedRate(
  s: RangeSeries,
  w: RangeWindow,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const n = s.t.length;
  if (n < 2) return undefined;
  const t0 = s.t[0]!;
  const tn = s.t[n - 1]!;
  const v0 = s.v[0]!;
  let result = s.v[n - 1]! - v0;
  if (isCounter) {
    let prev = v0;
    for (let i = 1; i < n; i++) {
      const cur = s.v[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (t0 - w.start) / 1000;
  const durationToEnd = (w.end - tn) / 1000;
  const sampledInterval = (tn - t0) / 1000;
  const avgBetween = sampledInterval / (n - 1);
  if (isCounter && result > 0 && v0 >= 0) {
    const durationToZero = sampledInterval * (v0 / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = avgBetween * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : avgBetween / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : avgBetween / 2;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

function instantValue(s: RangeSeries, isRate: boolean): number | undefined {
  const n = s.t.length;
  if (n < 2) return undefined;
  const last = s.v[n - 1]!;
  const prev = s.v[n - 2]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = s.t[n - 1]! - s.t[n - 2]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

function linearRegression(s: RangeSeries, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = s.v[0]!;
  let constY = true;
  for (let i = 0; i < s.t.length; i++) {
    const y = s.v[i]!;
    if (constY && i > 0 && y !== initY) constY = false;
    n += 1;
    const x = (s.t[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(y, sumY, cY);
    [sumXY, cXY] = kahanInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [Number.NaN, Number.NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return [slope, sumY / n - (slope * sumX) / n];
}

/** Sort ascending with NaN first (Prometheus' vectorByValueHeap Less). */
function lessNaNFirst(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a - b;
}

/** promql.quantile: weighted average of the two samples around rank q*(n-1). */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  values.sort(lessNaNFirst);
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

function avgOverTime(v: ArrayLike<number>): number {
  let mean = 0;
  let c = 0;
  let count = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    count++;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(x) && !Number.isNaN(x) && mean > 0 === x > 0) continue;
      if (Number.isFinite(x)) continue;
    }
    [mean, c] = kahanInc(x / count - mean / count, mean, c);
  }
  if (!Number.isFinite(mean) && !Number.isNaN(mean)) return mean;
  return mean + c;
}

function variance(v: ArrayLike<number>): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    count++;
    const delta = x - (mean + cMean);
    [mean, cMean] = kahanInc(delta / count, mean, cMean);
    [aux, cAux] = kahanInc(delta * (x - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

export type RangeFn = (s: RangeSeries, w: RangeWindow, scalarArg: number) => number | undefined;

/** Functions over one range-vector series. `scalarArg` is quantile_over_time's q / predict_linear's t. */
export const RANGE_FUNCTIONS: Record<string, RangeFn> = {
  rate: (s, w) => extrapolatedRate(s, w, true, true),
  increase: (s, w) => extrapolatedRate(s, w, true, false),
  delta: (s, w) => extrapolatedRate(s, w, false, false),
  irate: (s) => instantValue(s, true),
  idelta: (s) => instantValue(s, false),
  deriv: (s) => (s.t.length < 2 ? undefined : linearRegression(s, s.t[0]!)[0]),
  predict_linear: (s, w, d) => {
    if (s.t.length < 2) return undefined;
    const [slope, intercept] = linearRegression(s, w.evalT);
    return slope * d + intercept;
  },
  avg_over_time: (s) => avgOverTime(s.v),
  sum_over_time: (s) => {
    let sum = 0;
    let c = 0;
    for (let i = 0; i < s.v.length; i++) [sum, c] = kahanInc(s.v[i]!, sum, c);
    return !Number.isFinite(sum) && !Number.isNaN(sum) ? sum : sum + c;
  },
  count_over_time: (s) => s.v.length,
  min_over_time: (s) => {
    let m = s.v[0]!;
    for (let i = 0; i < s.v.length; i++) if (s.v[i]! < m || Number.isNaN(m)) m = s.v[i]!;
    return m;
  },
  max_over_time: (s) => {
    let m = s.v[0]!;
    for (let i = 0; i < s.v.length; i++) if (s.v[i]! > m || Number.isNaN(m)) m = s.v[i]!;
    return m;
  },
  last_over_time: (s) => s.v[s.v.length - 1]!,
  present_over_time: () => 1,
  quantile_over_time: (s, _w, q) => quantile(q, Array.from(s.v)),
  stddev_over_time: (s) => Math.sqrt(variance(s.v)),
  stdvar_over_time: (s) => variance(s.v),
  changes: (s) => {
    let changes = 0;
    for (let i = 1; i < s.v.length; i++) {
      const cur = s.v[i]!;
      const prev = s.v[i - 1]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  },
  resets: (s) => {
    let resets = 0;
    for (let i = 1; i < s.v.length; i++) if (s.v[i]! < s.v[i - 1]!) resets++;
    return resets;
  },
};

/** Go's math.Pow special cases that differ from JS `**`. */
export function goPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x === 1) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

/** round(): Prometheus rounds half up, math.Floor(v + 0.5), not half away from zero. */
function roundHalfUp(v: number): number {
  return Math.floor(v + 0.5);
}

/** Element-wise math functions (Go's math package; JS Math agrees to the last ulp or better). */
export const MATH_FUNCTIONS: Record<string, (v: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
  sgn: (v) => (v < 0 ? -1 : v > 0 ? 1 : v),
};

export function mapValues(vec: Sample[], t: number, f: (v: number) => number): Sample[] {
  const out: Sample[] = [];
  for (const s of vec) out.push({ labels: dropName(s.labels), v: f(s.v), t });
  return out;
}

export function round(vec: Sample[], t: number, toNearest: number): Sample[] {
  const inv = 1 / toNearest;
  return mapValues(vec, t, (v) => roundHalfUp(v * inv) / inv);
}

export function clamp(vec: Sample[], t: number, min: number, max: number): Sample[] {
  if (max < min) return [];
  return mapValues(vec, t, (v) => goMax(min, goMin(max, v)));
}

/** Go math.Max / math.Min: NaN wins; +0 vs -0 handled like Go. */
export function goMax(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return Math.max(a, b);
}
export function goMin(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return Math.min(a, b);
}

const DATE_FNS: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

export function isDateFunction(fn: string): boolean {
  return DATE_FNS[fn] !== undefined;
}

/** day_of_month() etc.: seconds since epoch (truncated) to a UTC calendar field. */
export function dateFunction(fn: string, vec: Sample[] | undefined, t: number): Sample[] {
  const f = DATE_FNS[fn]!;
  const at = (sec: number) => f(new Date(Math.trunc(sec) * 1000));
  if (vec === undefined) return [{ labels: {}, v: at(Math.trunc(t / 1000)), t }];
  return mapValues(vec, t, (v) => (Number.isFinite(v) ? at(v) : Number.NaN));
}

interface Bucket {
  upper: number;
  count: number;
}

/** promql.bucketQuantile of Prometheus 2.42 (classic histograms). */
export function bucketQuantile(q: number, buckets: Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  buckets.sort((a, b) => a.upper - b.upper);
  if (buckets[buckets.length - 1]!.upper !== Number.POSITIVE_INFINITY) return Number.NaN;
  // coalesce buckets with the same upper bound
  const bs: Bucket[] = [];
  for (const b of buckets) {
    const last = bs[bs.length - 1];
    if (last !== undefined && last.upper === b.upper) last.count += b.count;
    else bs.push({ upper: b.upper, count: b.count });
  }
  // ensure monotonic
  let max = Number.NEGATIVE_INFINITY;
  for (const b of bs) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (bs.length < 2) return Number.NaN;
  const observations = bs[bs.length - 1]!.count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = 0;
  while (b < bs.length - 1 && !(bs[b]!.count >= rank)) b++;
  if (b === bs.length - 1) return bs[bs.length - 2]!.upper;
  if (b === 0 && bs[0]!.upper <= 0) return bs[0]!.upper;
  let start = 0;
  const end = bs[b]!.upper;
  let count = bs[b]!.count;
  if (b > 0) {
    start = bs[b - 1]!.upper;
    count -= bs[b - 1]!.count;
    rank -= bs[b - 1]!.count;
  }
  return start + (end - start) * (rank / count);
}

/** Upper bounds by `le` text (a handful of distinct values; parsed once). */
const leBound = memoByText(parseGoFloat, 10_000);

export function histogramQuantile(q: number, vec: Sample[], t: number): Sample[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const s of vec) {
    const le = s.labels.le;
    if (le === undefined) continue;
    const upper = leBound(le);
    if (Number.isNaN(upper) && le.toLowerCase() !== "nan") continue;
    const sig = keyWithout(s.labels, "le");
    let g = groups.get(sig);
    if (g === undefined) {
      const { le: _, ...rest } = s.labels;
      g = { labels: dropName(rest), buckets: [] };
      groups.set(sig, g);
    }
    g.buckets.push({ upper, count: s.v });
  }
  const out: Sample[] = [];
  for (const g of groups.values()) out.push({ labels: g.labels, v: bucketQuantile(q, g.buckets), t });
  return out;
}

function validLabelName(n: string): boolean {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n);
}

/** Go regexp.Expand: $1, ${1}, $name, ${name}, $$. */
function expandTemplate(tpl: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i]!;
    if (c !== "$") {
      out += c;
      continue;
    }
    if (tpl[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string | undefined;
    let len = 0;
    if (tpl[i + 1] === "{") {
      const close = tpl.indexOf("}", i + 2);
      const inner = close === -1 ? "" : tpl.slice(i + 2, close);
      if (close !== -1 && /^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        len = close - i;
      }
    } else {
      const word = /^[A-Za-z0-9_]+/.exec(tpl.slice(i + 1));
      if (word) {
        name = word[0];
        len = word[0].length;
      }
    }
    if (name === undefined) {
      out += "$";
      continue;
    }
    i += len;
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? "";
    else out += m.groups?.[name] ?? "";
  }
  return out;
}

export function labelReplace(
  vec: Sample[],
  dst: string,
  repl: string,
  src: string,
  regexStr: string,
): Sample[] {
  let re: RegExp;
  try {
    re = compileRegex(regexStr);
  } catch {
    throw new PromQLError("execution", `invalid regular expression in label_replace(): ${regexStr}`);
  }
  if (!validLabelName(dst)) {
    throw new PromQLError("execution", `invalid destination label name in label_replace(): ${dst}`);
  }
  return vec.map((s) => {
    const m = re.exec(s.labels[src] ?? "");
    if (m === null) return s;
    const res = expandTemplate(repl, m);
    const { [dst]: _, ...rest } = s.labels;
    const labels: Record<string, string> = rest;
    if (res !== "") labels[dst] = res;
    return { labels, v: s.v, t: s.t };
  });
}

export function labelJoin(vec: Sample[], dst: string, sep: string, srcs: string[]): Sample[] {
  for (const l of srcs) {
    if (!validLabelName(l))
      throw new PromQLError("execution", `invalid source label name in label_join(): ${l}`);
  }
  if (!validLabelName(dst)) {
    throw new PromQLError("execution", `invalid destination label name in label_join(): ${dst}`);
  }
  return vec.map((s) => {
    const joined = srcs.map((l) => s.labels[l] ?? "").join(sep);
    const { [dst]: _, ...rest } = s.labels;
    const labels: Record<string, string> = rest;
    if (joined !== "") labels[dst] = joined;
    return { labels, v: s.v, t: s.t };
  });
}

/** Labels absent() reports: equality matchers, minus labels matched more than once or otherwise. */
export function absentLabels(matchers: readonly { name: string; op: string; value: string }[]): Labels {
  const out: Record<string, string> = {};
  const drop: string[] = [];
  for (const m of matchers) {
    if (m.name === "__name__") continue;
    if (m.op === "=" && !(m.name in out)) out[m.name] = m.value;
    else drop.push(m.name);
  }
  for (const d of drop) delete out[d];
  return out;
}
