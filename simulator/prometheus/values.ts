/** Evaluation values of the PromQL engine and label helpers. */
import type { Labels } from "./types.ts";

/** One element of an instant vector. `t` is the sample's own timestamp (timestamp() reads it). */
export interface Sample {
  labels: Labels;
  v: number;
  t: number;
}

/** One series of a range vector: parallel time (ms) and value arrays, ascending, no stale markers. */
export interface RangeSeries {
  labels: Labels;
  t: ArrayLike<number>;
  v: ArrayLike<number>;
}

export type Value =
  | { type: "scalar"; v: number }
  | { type: "string"; s: string }
  | { type: "vector"; samples: Sample[] }
  | { type: "matrix"; series: RangeSeries[] };

const keyCache = new WeakMap<Labels, string>();

/** Identity of a label set (all labels), ordered like Prometheus' labels.Compare. */
export function keyOf(labels: Labels): string {
  let k = keyCache.get(labels);
  if (k === undefined) {
    k = labelKey(labels, undefined);
    keyCache.set(labels, k);
  }
  return k;
}

/** keyOf(labels without the label `skip`), without building that label set. */
export function keyWithout(labels: Labels, skip: string): string {
  return labelKey(labels, skip);
}

function labelKey(labels: Labels, skip: string | undefined): string {
  let k = "";
  for (const n of Object.keys(labels).sort()) if (n !== skip) k += `${n}\u0000${labels[n]}\u0001`;
  return k;
}

const droppedCache = new WeakMap<Labels, Labels>();

/** Labels without __name__ (memoized per label object, so stored series reuse one result). */
export function dropName(labels: Labels): Labels {
  if (labels.__name__ === undefined) return labels;
  let d = droppedCache.get(labels);
  if (d === undefined) {
    const { __name__: _, ...rest } = labels;
    d = rest;
    droppedCache.set(labels, d);
  }
  return d;
}

/** Signature over `names` only (on) or over all labels except `names` and __name__ (ignoring). */
export function signature(labels: Labels, on: boolean, names: readonly string[]): string {
  let k = "";
  if (on) {
    for (const n of names) {
      const v = labels[n];
      if (v !== undefined && v !== "") k += `${n}\u0000${v}\u0001`;
    }
    return k;
  }
  const all = Object.keys(labels).sort();
  for (const n of all) {
    if (n === "__name__" || names.includes(n)) continue;
    k += `${n}\u0000${labels[n]}\u0001`;
  }
  return k;
}

/** Render labels like Prometheus' labels.String(): {a="b", c="d"}. */
export function labelsString(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(", ")}}`;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64) (used for count_values and label values). */
export function formatFloatF(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  const s = String(v);
  // String() writes an exponent (lower-case e) only below 1e-6 and from 1e21
  if (s.indexOf("e") === -1) return s;
  const [mant, expStr] = s.split(/e/i) as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const unsigned = mant.replace("-", "");
  const dot = unsigned.indexOf(".");
  const pointPos = (dot === -1 ? unsigned.length : dot) + exp;
  let out: string;
  if (pointPos <= 0) out = `0.${"0".repeat(-pointPos)}${digits}`;
  else if (pointPos >= digits.length) out = digits + "0".repeat(pointPos - digits.length);
  else out = `${digits.slice(0, pointPos)}.${digits.slice(pointPos)}`;
  return neg ? `-${out}` : out;
}

/** Prometheus' API rendering of a float value ('f' format, 'e' below 1e-6 or from 1e21, like Go). */
export function formatValue(v: number): string {
  const abs = Math.abs(v);
  if (Number.isFinite(v) && abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    const [mant, exp] = v.toExponential().split("e") as [string, string];
    const sign = exp.startsWith("-") ? "-" : "+";
    const digits = exp.replace(/^[+-]/, "");
    return `${mant}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  return formatFloatF(v);
}
