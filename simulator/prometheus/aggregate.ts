/** Aggregation operators with Prometheus 2.42 semantics (engine.go `aggregation`). */
import type { AggOp } from "./ast.ts";
import { quantile } from "./functions.ts";
import { PromQLError } from "./parser.ts";
import type { Labels } from "./types.ts";
import type { Sample } from "./values.ts";
import { formatFloatF, keyOf } from "./values.ts";

interface Group {
  labels: Labels;
  value: number;
  mean: number;
  count: number;
  /** quantile's values and topk/bottomk's heap (other operators need neither). */
  values: number[] | undefined;
  heap: Sample[] | undefined;
}

const sortedGroupings = new WeakMap<readonly string[], readonly string[]>();

/** The `by` labels sorted (once per parsed grouping list). */
function sortedGrouping(grouping: readonly string[]): readonly string[] {
  let s = sortedGroupings.get(grouping);
  if (s === undefined) {
    s = [...grouping].sort();
    sortedGroupings.set(grouping, s);
  }
  return s;
}

/** Group key without building the label object (by: names sorted once by the caller). */
function groupKey(
  labels: Labels,
  sortedBy: readonly string[] | undefined,
  grouping: readonly string[],
): string {
  if (sortedBy === undefined) return keyOf(groupLabels(labels, grouping, true));
  let k = "";
  for (const n of sortedBy) {
    const v = labels[n];
    if (v !== undefined && v !== "") k += `${n}\u0000${v}\u0001`;
  }
  return k;
}

function groupLabels(labels: Labels, grouping: readonly string[], without: boolean): Labels {
  const out: Record<string, string> = {};
  if (without) {
    for (const n in labels) if (n !== "__name__" && !grouping.includes(n)) out[n] = labels[n]!;
  } else {
    for (const n of grouping) {
      const v = labels[n];
      if (v !== undefined && v !== "") out[n] = v;
    }
  }
  return out;
}

/** topk heap order: NaN is the smallest. */
function lessTop(a: number, b: number): boolean {
  if (Number.isNaN(a)) return !Number.isNaN(b);
  return a < b;
}

/** bottomk heap order: NaN is the "smallest", then descending values. */
function lessBottom(a: number, b: number): boolean {
  if (Number.isNaN(a)) return !Number.isNaN(b);
  return !Number.isNaN(b) && a > b;
}

export function aggregate(
  op: AggOp,
  vec: Sample[],
  grouping: readonly string[],
  without: boolean,
  param: number | string | undefined,
  t: number,
): Sample[] {
  if (op === "sum" && !without && grouping.length === 0) {
    // one group without labels (`sum(...)`): the same additions in the same order, no group keys
    if (vec.length === 0) return [];
    let v = vec[0]!.v;
    for (let i = 1; i < vec.length; i++) v += vec[i]!.v;
    return [{ labels: {}, v, t }];
  }
  let k = 0;
  if (op === "topk" || op === "bottomk") {
    const p = param as number;
    if (!Number.isFinite(p) && !Number.isNaN(p)) {
      throw new PromQLError("execution", `Scalar value ${p} overflows int64`);
    }
    k = Math.trunc(p);
    if (Number.isNaN(p) || k < 1) return [];
  }
  let input = vec;
  if (op === "count_values") {
    const label = param as string;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) {
      throw new PromQLError("execution", `invalid label name "${label}"`);
    }
    input = vec.map((s) => ({ labels: { ...s.labels, [label]: formatFloatF(s.v) }, v: s.v, t: s.t }));
    if (!without) grouping = [...grouping, label];
  }
  const groups = new Map<string, Group>();
  const order: Group[] = [];
  const sortedBy = without ? undefined : sortedGrouping(grouping);
  for (const s of input) {
    const key = groupKey(s.labels, sortedBy, grouping);
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        labels: groupLabels(s.labels, grouping, without),
        value: s.v,
        mean: s.v,
        count: 1,
        values: op === "quantile" ? [s.v] : undefined,
        heap: op === "topk" || op === "bottomk" ? [s] : undefined,
      };
      groups.set(key, g);
      order.push(g);
      if (op === "stddev" || op === "stdvar") g.value = 0;
      continue;
    }
    switch (op) {
      case "sum":
        g.value += s.v;
        break;
      case "avg": {
        g.count++;
        if (!Number.isFinite(g.mean) && !Number.isNaN(g.mean)) {
          if (!Number.isFinite(s.v) && !Number.isNaN(s.v) && g.mean > 0 === s.v > 0) break;
          if (Number.isFinite(s.v)) break;
        }
        g.mean += s.v / g.count - g.mean / g.count;
        break;
      }
      case "group":
        break;
      case "count":
      case "count_values":
        g.count++;
        break;
      case "max":
        if (g.value < s.v || Number.isNaN(g.value)) g.value = s.v;
        break;
      case "min":
        if (g.value > s.v || Number.isNaN(g.value)) g.value = s.v;
        break;
      case "stddev":
      case "stdvar": {
        g.count++;
        const delta = s.v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (s.v - g.mean);
        break;
      }
      case "quantile":
        g.values!.push(s.v);
        break;
      case "topk":
      case "bottomk": {
        const top = op === "topk";
        const heap = g.heap!;
        if (heap.length < k) {
          heap.push(s);
        } else {
          // the heap root is evicted first: NaN, else the smallest (topk) / largest (bottomk)
          const less = top ? lessTop : lessBottom;
          let rootIdx = 0;
          for (let i = 1; i < heap.length; i++) if (less(heap[i]!.v, heap[rootIdx]!.v)) rootIdx = i;
          const root = heap[rootIdx]!.v;
          const replace = top
            ? root < s.v || (Number.isNaN(root) && !Number.isNaN(s.v))
            : root > s.v || (Number.isNaN(root) && !Number.isNaN(s.v));
          if (replace) heap[rootIdx] = s;
        }
        break;
      }
    }
  }
  const out: Sample[] = [];
  for (const g of order) {
    switch (op) {
      case "avg":
        out.push({ labels: g.labels, v: g.mean, t });
        break;
      case "count":
      case "count_values":
        out.push({ labels: g.labels, v: g.count, t });
        break;
      case "group":
        out.push({ labels: g.labels, v: 1, t });
        break;
      case "stdvar":
        out.push({ labels: g.labels, v: g.value / g.count, t });
        break;
      case "stddev":
        out.push({ labels: g.labels, v: Math.sqrt(g.value / g.count), t });
        break;
      case "quantile":
        out.push({ labels: g.labels, v: quantile(param as number, g.values!), t });
        break;
      case "topk":
      case "bottomk": {
        const sorted = [...g.heap!].sort((a, b) => {
          const d = lessTop(a.v, b.v) ? -1 : lessTop(b.v, a.v) ? 1 : 0;
          return op === "topk" ? -d : d;
        });
        for (const s of sorted) out.push({ labels: s.labels, v: s.v, t });
        break;
      }
      default:
        out.push({ labels: g.labels, v: g.value, t });
    }
  }
  return out;
}
