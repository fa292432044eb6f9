/**
 * The PromQL evaluator: Prometheus 2.42 semantics for instant and range evaluation.
 * A range query evaluates the expression at every step (selectors read through the store's
 * binary-searched chunks, so each step costs only the samples it touches).
 */
import { aggregate } from "./aggregate.ts";
import type { AtModifier, Binary, Call, Expr, MatrixSel, Subquery, VectorSel } from "./ast.ts";
import { dropsName, isComparison } from "./ast.ts";
import {
  absentLabels,
  clamp,
  dateFunction,
  goMax,
  goMin,
  goPow,
  histogramQuantile,
  isDateFunction,
  labelJoin,
  labelReplace,
  MATH_FUNCTIONS,
  mapValues,
  RANGE_FUNCTIONS,
  type RangeWindow,
  round,
} from "./functions.ts";
import { PromQLError, typeOf } from "./parser.ts";
import type { Labels, SeriesSource } from "./types.ts";
import type { RangeSeries, Sample, Value } from "./values.ts";
import { dropName, keyOf, labelsString, signature } from "./values.ts";

/** Where the evaluator gets series from (MockPrometheus merges its providers behind this). */
export interface Querier {
  select(vs: VectorSel): readonly SeriesSource[];
}

export interface EngineOptions {
  /** Lookback for instant selectors (default 5m). */
  lookbackMs?: number;
  /** Subquery step when none is given (Prometheus' evaluation_interval, default 1m). */
  defaultStepMs?: number;
}

interface Ctx {
  /** Evaluation time of the current step (ms). */
  t: number;
  /** Query start and end (for @ start() / @ end()). */
  start: number;
  end: number;
}

export interface RangeResultSeries {
  labels: Labels;
  t: number[];
  v: number[];
}

export type QueryValue =
  | { type: "scalar"; t: number; v: number }
  | { type: "string"; t: number; s: string }
  | { type: "vector"; t: number; samples: Sample[] }
  | { type: "matrix"; series: RangeResultSeries[] };

function unwrapParens(e: Expr): Expr {
  while (e.kind === "paren") e = e.expr;
  return e;
}

function assertUnique(vec: Sample[]): Sample[] {
  if (vec.length < 2) return vec;
  const seen = new Set<string>();
  for (const s of vec) {
    const k = keyOf(s.labels);
    if (seen.has(k))
      throw new PromQLError("execution", "vector cannot contain metrics with the same labelset");
    seen.add(k);
  }
  return vec;
}

/** vectorElemBinop of 2.42: [value, keep]. */
function elemBinop(op: Binary["op"], l: number, r: number): [number, boolean] {
  switch (op) {
    case "+":
      return [l + r, true];
    case "-":
      return [l - r, true];
    case "*":
      return [l * r, true];
    case "/":
      return [l / r, true];
    case "%":
      return [l % r, true];
    case "^":
      return [goPow(l, r), true];
    case "atan2":
      return [Math.atan2(l, r), true];
    case "==":
      return [l, l === r];
    case "!=":
      return [l, l !== r];
    case ">":
      return [l, l > r];
    case "<":
      return [l, l < r];
    case ">=":
      return [l, l >= r];
    case "<=":
      return [l, l <= r];
    default:
      throw new PromQLError("internal", `operator "${op}" not allowed for scalar operations`);
  }
}

export class Evaluator {
  private readonly lookbackMs: number;
  private readonly defaultStepMs: number;

  constructor(
    private readonly querier: Querier,
    opts: EngineOptions = {},
  ) {
    this.lookbackMs = opts.lookbackMs ?? 300_000;
    this.defaultStepMs = opts.defaultStepMs ?? 60_000;
  }

  /** Instant query at `t` (ms). */
  instant(expr: Expr, t: number): QueryValue {
    const ctx: Ctx = { t, start: t, end: t };
    const v = this.eval(expr, ctx);
    switch (v.type) {
      case "scalar":
        return { type: "scalar", t, v: v.v };
      case "string":
        return { type: "string", t, s: v.s };
      case "vector":
        return { type: "vector", t, samples: v.samples };
      case "matrix":
        return {
          type: "matrix",
          series: v.series.map((s) => ({ labels: s.labels, t: Array.from(s.t), v: Array.from(s.v) })),
        };
    }
  }

  /** Range query: evaluate at start, start+step, ... <= end; series sorted by labels. */
  range(expr: Expr, start: number, end: number, step: number): RangeResultSeries[] {
    const type = typeOf(expr);
    if (type !== "scalar" && type !== "vector") {
      const name = type === "matrix" ? "range vector" : type;
      throw new PromQLError(
        "bad_data",
        `invalid expression type "${name}" for range query, must be Scalar or instant Vector`,
      );
    }
    const out = new Map<string, RangeResultSeries>();
    for (let t = start; t <= end; t += step) {
      const v = this.eval(expr, { t, start, end });
      if (v.type === "scalar") {
        let s = out.get("");
        if (s === undefined) {
          s = { labels: {}, t: [], v: [] };
          out.set("", s);
        }
        s.t.push(t);
        s.v.push(v.v);
        continue;
      }
      if (v.type !== "vector") throw new PromQLError("internal", `unexpected ${v.type} in range evaluation`);
      for (const smp of v.samples) {
        const k = keyOf(smp.labels);
        let s = out.get(k);
        if (s === undefined) {
          s = { labels: smp.labels, t: [], v: [] };
          out.set(k, s);
        } else if (s.t[s.t.length - 1] === t) {
          throw new PromQLError("execution", "vector cannot contain metrics with the same labelset");
        }
        s.t.push(t);
        s.v.push(smp.v);
      }
    }
    return [...out.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
  }

  private atTime(at: AtModifier | undefined, ctx: Ctx): number {
    if (at === undefined) return ctx.t;
    return at.kind === "ts" ? at.ms : at.kind === "start" ? ctx.start : ctx.end;
  }

  eval(e: Expr, ctx: Ctx): Value {
    switch (e.kind) {
      case "number":
        return { type: "scalar", v: e.value };
      case "string":
        return { type: "string", s: e.value };
      case "paren":
        return this.eval(e.expr, ctx);
      case "unary": {
        const v = this.eval(e.expr, ctx);
        if (e.op === "+") return v;
        if (v.type === "scalar") return { type: "scalar", v: -v.v };
        if (v.type === "vector") return { type: "vector", samples: mapValues(v.samples, ctx.t, (x) => -x) };
        throw new PromQLError("internal", "unary minus on a non-numeric value");
      }
      case "vector":
        return { type: "vector", samples: this.selectInstant(e, ctx) };
      case "matrix":
      case "subquery":
        return { type: "matrix", series: this.evalRange(e, ctx).series };
      case "call":
        return this.call(e, ctx);
      case "aggregate": {
        const vec = this.vector(e.expr, ctx);
        let param: number | string | undefined;
        if (e.param !== undefined) {
          const p = this.eval(e.param, ctx);
          param = p.type === "scalar" ? p.v : p.type === "string" ? p.s : undefined;
        }
        return { type: "vector", samples: aggregate(e.op, vec, e.grouping, e.without, param, ctx.t) };
      }
      case "binary":
        return this.binary(e, ctx);
    }
  }

  private vector(e: Expr, ctx: Ctx): Sample[] {
    const v = this.eval(e, ctx);
    if (v.type !== "vector") throw new PromQLError("internal", `expected an instant vector, got ${v.type}`);
    return v.samples;
  }

  private scalar(e: Expr, ctx: Ctx): number {
    const v = this.eval(e, ctx);
    if (v.type !== "scalar") throw new PromQLError("internal", `expected a scalar, got ${v.type}`);
    return v.v;
  }

  private str(e: Expr, ctx: Ctx): string {
    const v = this.eval(e, ctx);
    if (v.type !== "string") throw new PromQLError("internal", `expected a string, got ${v.type}`);
    return v.s;
  }

  /** Instant vector selector: the newest sample within the lookback window, unless it is stale. */
  private selectInstant(vs: VectorSel, ctx: Ctx): Sample[] {
    const ref = this.atTime(vs.at, ctx) - vs.offsetMs;
    const out: Sample[] = [];
    for (const src of this.querier.select(vs)) {
      const b = src.samples(ref - this.lookbackMs, ref);
      const n = b.t.length;
      if (n === 0) continue;
      if (b.stale !== undefined && b.stale[n - 1] === 1) continue;
      out.push({ labels: src.labels, v: b.v[n - 1]!, t: b.t[n - 1]! });
    }
    return out;
  }

  /** Range vector (selector or subquery) plus the window rate() extrapolates to. */
  private evalRange(e: MatrixSel | Subquery, ctx: Ctx): { series: RangeSeries[]; window: RangeWindow } {
    if (e.kind === "matrix") {
      const end = this.atTime(e.vs.at, ctx) - e.vs.offsetMs;
      const start = end - e.rangeMs;
      const series: RangeSeries[] = [];
      for (const src of this.querier.select(e.vs)) {
        const b = src.samples(start, end);
        if (b.t.length === 0) continue;
        if (b.stale === undefined) {
          series.push({ labels: src.labels, t: b.t, v: b.v });
          continue;
        }
        const t: number[] = [];
        const v: number[] = [];
        for (let i = 0; i < b.t.length; i++) {
          if (b.stale[i] === 1) continue;
          t.push(b.t[i]!);
          v.push(b.v[i]!);
        }
        if (t.length > 0) series.push({ labels: src.labels, t, v });
      }
      return { series, window: { start, end, rangeMs: e.rangeMs, evalT: this.atTime(e.vs.at, ctx) } };
    }
    const base = this.atTime(e.at, ctx);
    const end = base - e.offsetMs;
    const start = end - e.rangeMs;
    const step = e.stepMs ?? this.defaultStepMs;
    const byKey = new Map<string, { labels: Labels; t: number[]; v: number[] }>();
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
      for (const s of this.vector(e.expr, { t, start: ctx.start, end: ctx.end })) {
        const k = keyOf(s.labels);
        let rs = byKey.get(k);
        if (rs === undefined) {
          rs = { labels: s.labels, t: [], v: [] };
          byKey.set(k, rs);
        }
        rs.t.push(t);
        rs.v.push(s.v);
      }
    }
    return { series: [...byKey.values()], window: { start, end, rangeMs: e.rangeMs, evalT: base } };
  }

  private call(e: Call, ctx: Ctx): Value {
    const fn = e.fn;
    const t = ctx.t;
    const rangeFn = RANGE_FUNCTIONS[fn];
    if (rangeFn !== undefined || fn === "absent_over_time") {
      const mi = fn === "quantile_over_time" ? 1 : 0;
      const arg = unwrapParens(e.args[mi]!);
      if (arg.kind !== "matrix" && arg.kind !== "subquery") {
        throw new PromQLError("bad_data", `expected a range vector in call to ${fn}`);
      }
      const other = e.args.length > 1 ? this.scalar(e.args[mi === 1 ? 0 : 1]!, ctx) : 0;
      const { series, window } = this.evalRange(arg, ctx);
      if (rangeFn === undefined) {
        if (series.length > 0) return { type: "vector", samples: [] };
        const ms = arg.kind === "matrix" ? arg.vs.matchers : [];
        return { type: "vector", samples: [{ labels: absentLabels(ms), v: 1, t }] };
      }
      const out: Sample[] = [];
      const keepName = fn === "last_over_time";
      for (const s of series) {
        const v = rangeFn(s, window, other);
        if (v !== undefined) out.push({ labels: keepName ? s.labels : dropName(s.labels), v, t });
      }
      // dropping __name__ can only collide when the selector may match several metric names
      const oneName = arg.kind === "matrix" && namesOneMetric(arg.vs);
      return { type: "vector", samples: oneName || keepName ? out : assertUnique(out) };
    }
    const math = MATH_FUNCTIONS[fn];
    if (math !== undefined)
      return { type: "vector", samples: assertUnique(mapValues(this.vector(e.args[0]!, ctx), t, math)) };
    if (isDateFunction(fn)) {
      const vec = e.args.length === 0 ? undefined : this.vector(e.args[0]!, ctx);
      return { type: "vector", samples: assertUnique(dateFunction(fn, vec, t)) };
    }
    switch (fn) {
      case "time":
        return { type: "scalar", v: t / 1000 };
      case "pi":
        return { type: "scalar", v: Math.PI };
      case "vector":
        return { type: "vector", samples: [{ labels: {}, v: this.scalar(e.args[0]!, ctx), t }] };
      case "scalar": {
        const vec = this.vector(e.args[0]!, ctx);
        return { type: "scalar", v: vec.length === 1 ? vec[0]!.v : Number.NaN };
      }
      case "absent": {
        const vec = this.vector(e.args[0]!, ctx);
        if (vec.length > 0) return { type: "vector", samples: [] };
        const a = e.args[0]!;
        return {
          type: "vector",
          samples: [{ labels: absentLabels(a.kind === "vector" ? a.matchers : []), v: 1, t }],
        };
      }
      case "timestamp": {
        const direct = unwrapParens(e.args[0]!).kind === "vector";
        const vec = this.vector(e.args[0]!, ctx);
        return {
          type: "vector",
          samples: assertUnique(
            vec.map((s) => ({ labels: dropName(s.labels), v: (direct ? s.t : t) / 1000, t })),
          ),
        };
      }
      case "sort":
      case "sort_desc": {
        const vec = this.vector(e.args[0]!, ctx).map((s) => ({ labels: s.labels, v: s.v, t }));
        const desc = fn === "sort_desc";
        vec.sort((a, b) => {
          if (Number.isNaN(a.v)) return Number.isNaN(b.v) ? 0 : 1;
          if (Number.isNaN(b.v)) return -1;
          return desc ? b.v - a.v : a.v - b.v;
        });
        return { type: "vector", samples: vec };
      }
      case "histogram_quantile": {
        const q = this.scalar(e.args[0]!, ctx);
        return {
          type: "vector",
          samples: assertUnique(histogramQuantile(q, this.vector(e.args[1]!, ctx), t)),
        };
      }
      case "round": {
        const to = e.args.length > 1 ? this.scalar(e.args[1]!, ctx) : 1;
        return { type: "vector", samples: assertUnique(round(this.vector(e.args[0]!, ctx), t, to)) };
      }
      case "clamp": {
        const vec = this.vector(e.args[0]!, ctx);
        const out = clamp(vec, t, this.scalar(e.args[1]!, ctx), this.scalar(e.args[2]!, ctx));
        return { type: "vector", samples: assertUnique(out) };
      }
      case "clamp_max":
      case "clamp_min": {
        const vec = this.vector(e.args[0]!, ctx);
        const b = this.scalar(e.args[1]!, ctx);
        const f = fn === "clamp_max" ? (v: number) => goMin(v, b) : (v: number) => goMax(v, b);
        return { type: "vector", samples: assertUnique(mapValues(vec, t, f)) };
      }
      case "label_replace": {
        const [v, dst, repl, src, re] = e.args;
        const vec = this.vector(v!, ctx);
        const out = labelReplace(
          vec,
          this.str(dst!, ctx),
          this.str(repl!, ctx),
          this.str(src!, ctx),
          this.str(re!, ctx),
        );
        return { type: "vector", samples: assertUnique(out.map((s) => ({ labels: s.labels, v: s.v, t }))) };
      }
      case "label_join": {
        const vec = this.vector(e.args[0]!, ctx);
        const srcs = e.args.slice(3).map((a) => this.str(a, ctx));
        const out = labelJoin(vec, this.str(e.args[1]!, ctx), this.str(e.args[2]!, ctx), srcs);
        return { type: "vector", samples: assertUnique(out.map((s) => ({ labels: s.labels, v: s.v, t }))) };
      }
      default:
        throw new PromQLError("bad_data", `function "${fn}" is not supported by the mock Prometheus`);
    }
  }

  private binary(e: Binary, ctx: Ctx): Value {
    const l = this.eval(e.lhs, ctx);
    const r = this.eval(e.rhs, ctx);
    const t = ctx.t;
    if (l.type === "scalar" && r.type === "scalar") {
      const [v, keep] = elemBinop(e.op, l.v, r.v);
      return { type: "scalar", v: isComparison(e.op) ? (keep ? 1 : 0) : v };
    }
    if (l.type === "vector" && r.type === "scalar")
      return { type: "vector", samples: this.vectorScalar(e, l.samples, r.v, false, t) };
    if (l.type === "scalar" && r.type === "vector")
      return { type: "vector", samples: this.vectorScalar(e, r.samples, l.v, true, t) };
    if (l.type === "vector" && r.type === "vector") {
      switch (e.op) {
        case "and":
        case "or":
        case "unless":
          return { type: "vector", samples: this.setOp(e, l.samples, r.samples, t) };
        default:
          return { type: "vector", samples: this.vectorVector(e, l.samples, r.samples, t) };
      }
    }
    throw new PromQLError("internal", "binary expression on non-numeric values");
  }

  private vectorScalar(e: Binary, vec: Sample[], scalar: number, swap: boolean, t: number): Sample[] {
    const out: Sample[] = [];
    const cmp = isComparison(e.op);
    const drop = dropsName(e.op) || e.returnBool;
    for (const s of vec) {
      const lv = swap ? scalar : s.v;
      const rv = swap ? s.v : scalar;
      let [value, keep] = elemBinop(e.op, lv, rv);
      if (cmp && swap) value = rv;
      if (e.returnBool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      out.push({ labels: drop ? dropName(s.labels) : s.labels, v: value, t });
    }
    return assertUnique(out);
  }

  private setOp(e: Binary, lhs: Sample[], rhs: Sample[], t: number): Sample[] {
    const m = e.matching!;
    const out: Sample[] = [];
    if (e.op === "and" && (lhs.length === 0 || rhs.length === 0)) return out;
    if (e.op === "and" || e.op === "unless") {
      const right = new Set<string>();
      for (const s of rhs) right.add(signature(s.labels, m.on, m.labels));
      const keep = e.op === "and";
      for (const s of lhs) {
        if (right.has(signature(s.labels, m.on, m.labels)) === keep)
          out.push({ labels: s.labels, v: s.v, t });
      }
      return out;
    }
    const left = new Set<string>();
    for (const s of lhs) {
      left.add(signature(s.labels, m.on, m.labels));
      out.push({ labels: s.labels, v: s.v, t });
    }
    for (const s of rhs) {
      if (!left.has(signature(s.labels, m.on, m.labels))) out.push({ labels: s.labels, v: s.v, t });
    }
    return assertUnique(out);
  }

  private vectorVector(e: Binary, lhsIn: Sample[], rhsIn: Sample[], t: number): Sample[] {
    const m = e.matching!;
    if (lhsIn.length === 0 || rhsIn.length === 0) return [];
    const oneToMany = m.card === "one-to-many";
    const lhs = oneToMany ? rhsIn : lhsIn;
    const rhs = oneToMany ? lhsIn : rhsIn;
    const rightSigs = new Map<string, Sample>();
    for (const s of rhs) {
      const k = signature(s.labels, m.on, m.labels);
      const dup = rightSigs.get(k);
      if (dup !== undefined) {
        const side = oneToMany ? "left" : "right";
        throw new PromQLError(
          "execution",
          `found duplicate series for the match group ${labelsString(signatureLabels(s.labels, m.on, m.labels))} on the ${side} hand-side of the operation: [${labelsString(s.labels)}, ${labelsString(dup.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      rightSigs.set(k, s);
    }
    const matched = new Map<string, Set<string> | null>();
    const out: Sample[] = [];
    for (const ls of lhs) {
      const k = signature(ls.labels, m.on, m.labels);
      const rs = rightSigs.get(k);
      if (rs === undefined) continue;
      const [fl, fr] = oneToMany ? [rs.v, ls.v] : [ls.v, rs.v];
      let [value, keep] = elemBinop(e.op, fl, fr);
      if (e.returnBool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      let labels = resultLabels(ls.labels, rs.labels, e);
      if (e.returnBool) labels = dropName(labels);
      const seen = matched.get(k);
      if (m.card === "one-to-one") {
        if (seen !== undefined) {
          throw new PromQLError(
            "execution",
            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
          );
        }
        matched.set(k, null);
      } else {
        const ok = keyOf(labels);
        let set = seen ?? undefined;
        if (set === undefined) {
          set = new Set();
          matched.set(k, set);
        } else if (set.has(ok)) {
          throw new PromQLError(
            "execution",
            "multiple matches for labels: grouping labels must ensure unique matches",
          );
        }
        set.add(ok);
      }
      out.push({ labels, v: value, t });
    }
    return assertUnique(out);
  }
}

/** Does the selector fix the metric name (`name{...}` or `{__name__="name"}`)? */
function namesOneMetric(vs: VectorSel): boolean {
  for (const m of vs.matchers) if (m.name === "__name__" && m.op === "=") return true;
  return false;
}

function signatureLabels(labels: Labels, on: boolean, names: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const n in labels) {
    const inSet = names.includes(n);
    if (on ? inSet : !inSet && n !== "__name__") out[n] = labels[n]!;
  }
  return out;
}

/** resultMetric of 2.42. */
function resultLabels(lhs: Labels, rhs: Labels, e: Binary): Labels {
  const m = e.matching!;
  const out: Record<string, string> = { ...lhs };
  if (dropsName(e.op)) delete out.__name__;
  if (m.card === "one-to-one") {
    if (m.on) {
      for (const n of Object.keys(out)) if (!m.labels.includes(n)) delete out[n];
    } else {
      for (const n of m.labels) delete out[n];
    }
  }
  for (const n of m.include) {
    const v = rhs[n];
    if (v !== undefined && v !== "") out[n] = v;
    else delete out[n];
  }
  return out;
}
