/**
 * PromQL parsing: the Prometheus project's own lezer grammar produces the tree; this module walks
 * it into our AST (ast.ts) with Prometheus 2.42's rules and type checks. Constructs newer than
 * 2.42 (duration arithmetic, fill modifiers, anchored/smoothed, new functions) and native
 * histogram functions are rejected with a PromQLError of type bad_data naming the construct.
 */
import type { SyntaxNode } from "@lezer/common";
import { parser } from "@prometheus-io/lezer-promql";
import type {
  AggOp,
  AtModifier,
  BinOp,
  Cardinality,
  Expr,
  ValueType,
  VectorMatching,
  VectorSel,
} from "./ast.ts";
import { isComparison, isSetOp } from "./ast.ts";
import { parseGoFloat, unquoteString } from "./series-file.ts";
import type { CompiledMatcher } from "./store.ts";
import { compileMatcher } from "./store.ts";
import type { MatchOp } from "./types.ts";

export type ErrorType = "bad_data" | "execution" | "timeout" | "canceled" | "internal" | "unavailable";

/** An error the Prometheus API reports with `errorType`. */
export class PromQLError extends Error {
  readonly errorType: ErrorType;
  constructor(errorType: ErrorType, message: string) {
    super(message);
    this.name = "PromQLError";
    this.errorType = errorType;
  }
}

export interface FunctionSig {
  args: ValueType[];
  /** Number of trailing optional args (-1: the last arg repeats any number of times). */
  optional: number;
  variadic?: boolean;
  ret: ValueType;
}

const V: ValueType = "vector";
const M: ValueType = "matrix";
const S: ValueType = "scalar";
const STR: ValueType = "string";

function sig(args: ValueType[], ret: ValueType, optional = 0, variadic = false): FunctionSig {
  return { args, ret, optional, variadic };
}

/** Functions of Prometheus 2.42 that this engine implements. */
export const FUNCTIONS: Record<string, FunctionSig> = {
  abs: sig([V], V),
  absent: sig([V], V),
  absent_over_time: sig([M], V),
  acos: sig([V], V),
  acosh: sig([V], V),
  asin: sig([V], V),
  asinh: sig([V], V),
  atan: sig([V], V),
  atanh: sig([V], V),
  avg_over_time: sig([M], V),
  ceil: sig([V], V),
  changes: sig([M], V),
  clamp: sig([V, S, S], V),
  clamp_max: sig([V, S], V),
  clamp_min: sig([V, S], V),
  cos: sig([V], V),
  cosh: sig([V], V),
  count_over_time: sig([M], V),
  days_in_month: sig([V], V, 1),
  day_of_month: sig([V], V, 1),
  day_of_week: sig([V], V, 1),
  day_of_year: sig([V], V, 1),
  deg: sig([V], V),
  delta: sig([M], V),
  deriv: sig([M], V),
  exp: sig([V], V),
  floor: sig([V], V),
  histogram_quantile: sig([S, V], V),
  hour: sig([V], V, 1),
  idelta: sig([M], V),
  increase: sig([M], V),
  irate: sig([M], V),
  label_join: sig([V, STR, STR, STR], V, 0, true),
  label_replace: sig([V, STR, STR, STR, STR], V),
  last_over_time: sig([M], V),
  ln: sig([V], V),
  log10: sig([V], V),
  log2: sig([V], V),
  max_over_time: sig([M], V),
  min_over_time: sig([M], V),
  minute: sig([V], V, 1),
  month: sig([V], V, 1),
  pi: sig([], S),
  predict_linear: sig([M, S], V),
  present_over_time: sig([M], V),
  quantile_over_time: sig([S, M], V),
  rad: sig([V], V),
  rate: sig([M], V),
  resets: sig([M], V),
  round: sig([V, S], V, 1),
  scalar: sig([V], S),
  sgn: sig([V], V),
  sin: sig([V], V),
  sinh: sig([V], V),
  sort: sig([V], V),
  sort_desc: sig([V], V),
  sqrt: sig([V], V),
  stddev_over_time: sig([M], V),
  stdvar_over_time: sig([M], V),
  sum_over_time: sig([M], V),
  tan: sig([V], V),
  tanh: sig([V], V),
  time: sig([], S),
  timestamp: sig([V], V),
  vector: sig([S], V),
  year: sig([V], V, 1),
};

/** Functions Prometheus 2.42 knows that this engine refuses rather than answer wrongly. */
const UNSUPPORTED_FUNCTIONS = new Set(["histogram_count", "histogram_sum", "histogram_fraction"]);

const BINOPS: Record<string, BinOp> = {
  Add: "+",
  Sub: "-",
  Mul: "*",
  Div: "/",
  Mod: "%",
  Pow: "^",
  Atan2: "atan2",
  Eql: "==",
  Neq: "!=",
  Gtr: ">",
  Lss: "<",
  Gte: ">=",
  Lte: "<=",
  And: "and",
  Or: "or",
  Unless: "unless",
};

const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: "=", Neq: "!=", EqlRegex: "=~", NeqRegex: "!~" };

const AGG_OPS = new Set<AggOp>([
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "stddev",
  "stdvar",
  "quantile",
  "topk",
  "bottomk",
  "count_values",
  "group",
]);

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Prometheus model.ParseDuration (no fractions, units y w d h m s ms in order). */
export function parsePromDuration(s: string): number | undefined {
  if (s === "" || s === "0") return s === "0" ? 0 : undefined;
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i]!;
  return ms;
}

class Walker {
  constructor(private readonly src: string) {}

  text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to);
  }

  pos(n: SyntaxNode): string {
    const before = this.src.slice(0, n.from);
    const line = before.split("\n").length;
    const col = n.from - before.lastIndexOf("\n");
    return `${line}:${col}`;
  }

  fail(n: SyntaxNode, msg: string): never {
    throw new PromQLError("bad_data", `${this.pos(n)}: parse error: ${msg}`);
  }

  children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c !== null; c = c.nextSibling) out.push(c);
    return out;
  }

  child(n: SyntaxNode, name: string): SyntaxNode | undefined {
    return this.children(n).find((c) => c.name === name);
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case "NumberDurationLiteral":
        return { kind: "number", value: this.number(n) };
      case "StringLiteral":
        return { kind: "string", value: this.string(n) };
      case "ParenExpr":
        return { kind: "paren", expr: this.expr(this.exprChildren(n)[0]!) };
      case "UnaryExpr": {
        const op = this.text(n.firstChild!) as "-" | "+";
        const inner = this.expr(this.exprChildren(n)[0]!);
        this.checkUnaryType(n, inner);
        return { kind: "unary", op, expr: inner };
      }
      case "VectorSelector":
        return this.vectorSelector(n);
      case "MatrixSelector":
        return this.matrixSelector(n);
      case "SubqueryExpr":
        return this.subquery(n);
      case "OffsetExpr":
        return this.offset(n);
      case "StepInvariantExpr":
        return this.at(n);
      case "FunctionCall":
        return this.call(n);
      case "AggregateExpr":
        return this.aggregate(n);
      case "BinaryExpr":
        return this.binary(n);
      case "AnchoredExpr":
      case "SmoothedExpr":
        return this.fail(
          n,
          `the "${n.name === "AnchoredExpr" ? "anchored" : "smoothed"}" modifier is not supported`,
        );
      default:
        return this.fail(n, `unexpected ${n.name} "${this.text(n)}"`);
    }
  }

  private exprChildren(n: SyntaxNode): SyntaxNode[] {
    return this.children(n).filter((c) => c.type.is("Expr"));
  }

  number(n: SyntaxNode): number {
    const t = this.text(n).replace(/\s+/g, "");
    const body = t.replace(/^[+-]/, "");
    if (
      /^(inf|nan)$/i.test(body) ||
      /^0x[0-9a-f]+$/i.test(body) ||
      /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(body)
    ) {
      return parseGoFloat(t);
    }
    return this.fail(
      n,
      `unsupported number literal "${t}" (Prometheus 2.42 has no durations or "_" in numbers)`,
    );
  }

  string(n: SyntaxNode): string {
    try {
      return unquoteString(this.text(n));
    } catch (e) {
      return this.fail(n, (e as Error).message);
    }
  }

  duration(n: SyntaxNode | undefined, what: string, parent: SyntaxNode): number {
    if (n === undefined) return this.fail(parent, `missing ${what}`);
    const lit = n.name === "NumberDurationLiteralInDurationContext" ? n : n.firstChild;
    if (lit === null || lit.name !== "NumberDurationLiteralInDurationContext" || lit.nextSibling !== null) {
      return this.fail(n, `duration expressions are not supported in ${what} (Prometheus 2.42)`);
    }
    const ms = parsePromDuration(this.text(lit));
    if (ms === undefined) return this.fail(lit, `bad duration "${this.text(lit)}" in ${what}`);
    return ms;
  }

  vectorSelector(n: SyntaxNode): VectorSel {
    const id = this.child(n, "Identifier");
    const name = id === undefined ? undefined : this.text(id);
    const matchers: CompiledMatcher[] = [];
    const lm = this.child(n, "LabelMatchers");
    if (lm !== undefined) {
      for (const m of this.children(lm)) {
        if (m.name === "QuotedLabelName")
          this.fail(m, "quoted metric names are not supported in Prometheus 2.42");
        if (m.name !== "UnquotedLabelMatcher") {
          if (m.name === "QuotedLabelMatcher")
            this.fail(m, "quoted label names are not supported in Prometheus 2.42");
          continue;
        }
        const ln = this.text(this.child(m, "LabelName")!);
        const opNode = this.child(m, "MatchOp")!.firstChild!;
        const op = MATCH_OPS[opNode.name]!;
        const value = this.string(this.child(m, "StringLiteral")!);
        try {
          matchers.push(compileMatcher({ name: ln, op, value }));
        } catch (e) {
          this.fail(m, `invalid regular expression in matcher ${ln}${op}"${value}": ${(e as Error).message}`);
        }
      }
    }
    if (name !== undefined) {
      if (matchers.some((m) => m.name === "__name__")) {
        this.fail(
          n,
          `metric name must not be set twice: "${name}" or "${matchers.find((m) => m.name === "__name__")!.value}"`,
        );
      }
      matchers.unshift({ name: "__name__", op: "=", value: name });
    }
    if (!matchers.some((m) => !matches0(m))) {
      this.fail(n, "vector selector must contain at least one non-empty matcher");
    }
    return { kind: "vector", name, matchers, offsetMs: 0, at: undefined, text: selectorText(matchers) };
  }

  /**
   * The lezer grammar attaches postfix modifiers (`[range]`, `[range:step]`, `offset`, `@`) to the
   * whole preceding expression (`a + b offset 1m` parses as `(a + b) offset 1m`); Prometheus binds
   * them to the last operand. Push the modifier down to the rightmost operand and re-check types.
   */
  private postfix(n: SyntaxNode, apply: (target: Expr) => Expr): Expr {
    const push = (e: Expr): Expr => {
      if (e.kind === "binary") {
        const b = { ...e, rhs: push(e.rhs) };
        this.checkBinaryTypes(n, b.lhs, b.rhs);
        return b;
      }
      if (e.kind === "unary") {
        const u = { ...e, expr: push(e.expr) };
        this.checkUnaryType(n, u.expr);
        return u;
      }
      return apply(e);
    };
    return push(this.expr(this.exprChildren(n)[0]!));
  }

  matrixSelector(n: SyntaxNode): Expr {
    const rangeMs = this.duration(this.child(n, "DurationExpr"), "range", n);
    if (rangeMs <= 0) this.fail(n, "range must be greater than 0");
    return this.postfix(n, (inner) => {
      if (inner.kind !== "vector") return this.fail(n, "ranges only allowed for vector selectors");
      if (inner.offsetMs !== 0) this.fail(n, "no offset modifiers allowed before range");
      if (inner.at !== undefined) this.fail(n, "no @ modifiers allowed before range");
      return { kind: "matrix", vs: inner, rangeMs };
    });
  }

  subquery(n: SyntaxNode): Expr {
    const durs = this.children(n).filter((c) => c.name === "DurationExpr");
    const rangeMs = this.duration(durs[0], "subquery range", n);
    const stepMs = durs[1] === undefined ? undefined : this.duration(durs[1], "subquery step", n);
    if (stepMs === 0) this.fail(n, "zero step in subquery");
    return this.postfix(n, (inner) => {
      const t = typeOf(inner);
      if (t !== "vector") this.fail(n, `subquery is only allowed on instant vector, got ${t} instead`);
      return { kind: "subquery", expr: inner, rangeMs, stepMs, offsetMs: 0, at: undefined };
    });
  }

  offset(n: SyntaxNode): Expr {
    let d = this.child(n, "OffsetDurationExpr");
    let sign = 1;
    while (d?.firstChild?.name === "UnaryOp") {
      if (this.text(d.firstChild) === "-") sign = -sign;
      d = this.child(d, "OffsetDurationExpr");
    }
    const ms = sign * this.duration(d, "offset", n);
    return this.postfix(n, (inner) => this.setOffset(n, inner, ms));
  }

  private setOffset(n: SyntaxNode, inner: Expr, ms: number): Expr {
    const target = inner.kind === "matrix" ? inner.vs : inner;
    if (target.kind !== "vector" && target.kind !== "subquery") {
      return this.fail(
        n,
        "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
      );
    }
    if (target.offsetMs !== 0) this.fail(n, "offset may not be set multiple times");
    target.offsetMs = ms;
    return inner;
  }

  at(n: SyntaxNode): Expr {
    return this.postfix(n, (inner) => this.setAt(n, inner));
  }

  private setAt(n: SyntaxNode, inner: Expr): Expr {
    const target = inner.kind === "matrix" ? inner.vs : inner;
    if (target.kind !== "vector" && target.kind !== "subquery") {
      return this.fail(
        n,
        "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
      );
    }
    if (target.at !== undefined) this.fail(n, "@ <timestamp> may not be set multiple times");
    const pre = this.child(n, "AtModifierPreprocessors");
    let at: AtModifier;
    if (pre !== undefined) {
      at = pre.firstChild?.name === "AtStart" ? { kind: "start" } : { kind: "end" };
    } else {
      const lit = this.child(n, "NumberDurationLiteral");
      const v = lit === undefined ? Number.NaN : this.number(lit);
      if (!Number.isFinite(v)) this.fail(n, `timestamp out of bounds for @ modifier: ${v}`);
      at = { kind: "ts", ms: Math.round(v * 1000) };
    }
    target.at = at;
    return inner;
  }

  call(n: SyntaxNode): Expr {
    const idNode = this.child(n, "FunctionIdentifier")!;
    const fn = this.text(idNode);
    const sig = FUNCTIONS[fn];
    if (sig === undefined) {
      if (UNSUPPORTED_FUNCTIONS.has(fn)) {
        return this.fail(
          idNode,
          `function "${fn}" (native histograms) is not supported by the mock Prometheus`,
        );
      }
      return this.fail(idNode, `unknown function with name "${fn}"`);
    }
    const args = this.exprChildren(this.child(n, "FunctionCallBody")!).map((c) => this.expr(c));
    const min = sig.args.length - Math.max(sig.optional, 0);
    if (args.length < min || (!sig.variadic && args.length > sig.args.length)) {
      this.fail(
        n,
        `expected ${min === sig.args.length ? min : `${min} to ${sig.args.length}`} argument(s) in call to "${fn}", got ${args.length}`,
      );
    }
    args.forEach((a, i) => {
      const want = sig.args[Math.min(i, sig.args.length - 1)]!;
      const got = typeOf(a);
      if (got !== want) {
        this.fail(n, `expected type ${typeName(want)} in call to function "${fn}", got ${typeName(got)}`);
      }
    });
    return { kind: "call", fn, args };
  }

  aggregate(n: SyntaxNode): Expr {
    const op = this.text(this.child(n, "AggregateOp")!).toLowerCase() as AggOp;
    if (!AGG_OPS.has(op)) return this.fail(n, `aggregation "${op}" is not supported (Prometheus 2.42)`);
    const args = this.exprChildren(this.child(n, "FunctionCallBody")!).map((c) => this.expr(c));
    const needsParam = op === "quantile" || op === "topk" || op === "bottomk" || op === "count_values";
    if (args.length !== (needsParam ? 2 : 1)) {
      this.fail(
        n,
        `wrong number of arguments for aggregate expression provided, expected ${needsParam ? 2 : 1}, got ${args.length}`,
      );
    }
    const expr = args[args.length - 1]!;
    const param = needsParam ? args[0] : undefined;
    if (typeOf(expr) !== "vector") {
      this.fail(n, `expected type instant vector in aggregation expression, got ${typeName(typeOf(expr))}`);
    }
    if (param !== undefined) {
      const want = op === "count_values" ? "string" : "scalar";
      if (typeOf(param) !== want) {
        this.fail(
          n,
          `expected type ${typeName(want)} in aggregation parameter, got ${typeName(typeOf(param))}`,
        );
      }
    }
    const mod = this.child(n, "AggregateModifier");
    let grouping: string[] = [];
    let without = false;
    if (mod !== undefined) {
      without = mod.firstChild?.name === "Without";
      grouping = this.groupingLabels(this.child(mod, "GroupingLabels")!);
    }
    return { kind: "aggregate", op, param, expr, grouping, without };
  }

  groupingLabels(n: SyntaxNode): string[] {
    return this.children(n).map((c) => {
      if (c.name !== "LabelName") this.fail(c, "quoted label names are not supported in Prometheus 2.42");
      return this.text(c);
    });
  }

  checkUnaryType(n: SyntaxNode, inner: Expr): void {
    const t = typeOf(inner);
    if (t !== "scalar" && t !== "vector") {
      this.fail(
        n,
        `unary expression only allowed on expressions of type scalar or instant vector, got "${t}"`,
      );
    }
  }

  checkBinaryTypes(n: SyntaxNode, lhs: Expr, rhs: Expr): void {
    for (const t of [typeOf(lhs), typeOf(rhs)]) {
      if (t !== "scalar" && t !== "vector") {
        this.fail(n, "binary expression must contain only scalar and instant vector types");
      }
    }
  }

  binary(n: SyntaxNode): Expr {
    const parts = this.children(n);
    const [lhsNode, rhsNode] = this.exprChildren(n);
    const opNode = parts.find((c) => BINOPS[c.name] !== undefined && !c.type.is("Expr"))!;
    const op = BINOPS[opNode.name]!;
    const lhs = this.expr(lhsNode!);
    const rhs = this.expr(rhsNode!);
    // lezer reads "-2 ^ 2" as (-2) ^ 2; in Prometheus the sign is a unary operator binding looser than ^
    const sign = this.text(lhsNode!).trim()[0];
    if (op === "^" && lhsNode!.name === "NumberDurationLiteral" && (sign === "-" || sign === "+")) {
      const abs: Expr = { kind: "number", value: Math.abs((lhs as { value: number }).value) };
      const pow = this.binaryOf(n, op, abs, rhs);
      return sign === "-" ? { kind: "unary", op: "-", expr: pow } : pow;
    }
    return this.binaryOf(n, op, lhs, rhs);
  }

  private binaryOf(n: SyntaxNode, op: BinOp, lhs: Expr, rhs: Expr): Expr {
    if (this.child(n, "FillModifier") !== undefined)
      this.fail(n, "fill modifiers are not supported (Prometheus 2.42)");
    const returnBool = this.child(n, "BoolModifier") !== undefined;
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    this.checkBinaryTypes(n, lhs, rhs);
    if (returnBool && !isComparison(op))
      this.fail(n, "bool modifier can only be used on comparison operators");
    if (isComparison(op) && !returnBool && lt === "scalar" && rt === "scalar") {
      this.fail(n, "comparisons between scalars must use BOOL modifier");
    }
    if (isSetOp(op) && (lt === "scalar" || rt === "scalar")) {
      this.fail(n, `set operator "${op}" not allowed in binary scalar expression`);
    }
    const mmc = this.child(n, "MatchingModifierClause");
    let matching: VectorMatching | undefined;
    if (lt === "vector" && rt === "vector") {
      matching = { card: isSetOp(op) ? "many-to-many" : "one-to-one", on: false, labels: [], include: [] };
    }
    if (mmc !== undefined) {
      if (matching === undefined) this.fail(n, "vector matching only allowed between instant vectors");
      const kids = this.children(mmc);
      matching.on = kids[0]!.name === "On";
      matching.labels = this.groupingLabels(kids[1]!);
      const group = kids[2];
      if (group !== undefined) {
        if (isSetOp(op)) this.fail(n, `no grouping allowed for "${op}" operation`);
        const card: Cardinality = group.name === "GroupLeft" ? "many-to-one" : "one-to-many";
        matching.card = card;
        matching.include = kids[3] === undefined ? [] : this.groupingLabels(kids[3]);
        for (const l of matching.include) {
          if (matching.on && matching.labels.includes(l)) {
            this.fail(n, `label "${l}" must not occur in ON and GROUP clause at once`);
          }
        }
      }
    }
    return { kind: "binary", op, lhs, rhs, returnBool, matching };
  }
}

/** VectorSel.text: a stable key of the matchers. */
function selectorText(matchers: readonly CompiledMatcher[]): string {
  return matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(",");
}

function matches0(m: CompiledMatcher): boolean {
  // true when the matcher matches the empty string (Prometheus requires one that does not)
  switch (m.op) {
    case "=":
      return m.value === "";
    case "!=":
      return m.value !== "";
    case "=~":
      return m.re!.test("");
    case "!~":
      return !m.re!.test("");
  }
}

function typeName(t: ValueType): string {
  return t === "vector" ? "instant vector" : t === "matrix" ? "range vector" : t;
}

export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case "number":
      return "scalar";
    case "string":
      return "string";
    case "vector":
    case "aggregate":
      return "vector";
    case "matrix":
    case "subquery":
      return "matrix";
    case "call":
      return FUNCTIONS[e.fn]!.ret;
    case "binary":
      return typeOf(e.lhs) === "scalar" && typeOf(e.rhs) === "scalar" ? "scalar" : "vector";
    case "unary":
    case "paren":
      return typeOf(e.expr);
  }
}

function firstError(n: SyntaxNode): SyntaxNode | undefined {
  if (n.type.isError) return n;
  for (let c = n.firstChild; c !== null; c = c.nextSibling) {
    const e = firstError(c);
    if (e !== undefined) return e;
  }
  return undefined;
}

/** Parse a PromQL expression (no caching; see parseCached). Throws PromQLError(bad_data). */
export function parsePromQL(src: string): Expr {
  const w = new Walker(src);
  if (src.trim() === "") throw new PromQLError("bad_data", "1:1: parse error: no expression found in input");
  const tree = parser.parse(src);
  const top = tree.topNode;
  const err = firstError(top);
  if (err !== undefined) {
    const prev = err.prevSibling;
    if (src[err.from] === "(" && prev?.name === "Identifier") {
      w.fail(prev, `unknown function with name "${w.text(prev)}"`);
    }
    if (prev?.name === "VectorSelector" && src[err.from] === "(") {
      w.fail(prev, `unknown function with name "${w.text(prev)}"`);
    }
    const near = src.slice(err.from, err.from + 20);
    w.fail(err, near === "" ? "unexpected end of input" : `unexpected character or token at "${near}"`);
  }
  const first = top.firstChild;
  if (first === null) throw new PromQLError("bad_data", "1:1: parse error: no expression found in input");
  return w.expr(first);
}

/**
 * A bounded cache of parsed ASTs keyed by the query string (ASTs are immutable once built).
 * Queries that differ only in the values of their equality matchers (a template's arguments, e.g.
 * an AnalysisTemplate's service and canary hash) are parsed once as a shape and instantiated.
 */
export class ParseCache {
  private readonly entries = new Map<string, Expr | PromQLError>();
  /** Parsed shapes (queries with their plain equality matcher values taken out); null: parse directly. */
  private readonly shapes = new Map<string, Expr | null>();
  constructor(private readonly limit = 10_000) {}

  parse(src: string): Expr {
    let hit = this.entries.get(src);
    if (hit === undefined) {
      try {
        hit = this.fromShape(src) ?? parsePromQL(src);
      } catch (e) {
        if (!(e instanceof PromQLError)) throw e;
        hit = e;
      }
      if (this.entries.size >= this.limit) this.entries.clear();
      this.entries.set(src, hit);
    }
    if (hit instanceof PromQLError) throw hit;
    return hit;
  }

  /** The query's AST from its shape's, or undefined (no values to take out, or a shape that fails). */
  private fromShape(src: string): Expr | undefined {
    const t = shapeOf(src);
    if (t === undefined) return undefined;
    let shape = this.shapes.get(t.shape);
    if (shape === undefined) {
      try {
        shape = parsePromQL(t.shape);
        // every placeholder must have become one equality matcher's value, and nothing else
        if (countPlaceholders(shape) !== t.values.length) shape = null;
      } catch {
        // errors name the query's own text: the query is parsed as it is
        shape = null;
      }
      if (this.shapes.size >= this.limit) this.shapes.clear();
      this.shapes.set(t.shape, shape);
    }
    return shape === null ? undefined : instantiate(shape, t.values);
  }
}

const PLACEHOLDER = "__gtb_shape_value_";
/** Matcher values taken out of a shape: plain names, as template arguments are (no escapes). */
const PLAIN_VALUE = /^[A-Za-z0-9_.:/-]+$/;

/**
 * The query with the double-quoted values of its `=` and `!=` label matchers replaced by numbered
 * placeholders (values that are plain names only), or undefined when there are none. Strings and
 * comments are skipped as the lexer does, so a quote inside one is not taken for a value.
 */
function shapeOf(src: string): { shape: string; values: string[] } | undefined {
  if (src.includes(PLACEHOLDER)) return undefined;
  const values: string[] = [];
  let shape = "";
  let copied = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "#") {
      const nl = src.indexOf("\n", i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    if (c !== '"' && c !== "'" && c !== "`") {
      i++;
      continue;
    }
    // the literal's end (backslash escapes in quoted strings; none in raw ones)
    let j = i + 1;
    while (j < src.length && src[j] !== c) j += c !== "`" && src[j] === "\\" ? 2 : 1;
    if (j >= src.length) return undefined;
    const body = src.slice(i + 1, j);
    if (c === '"' && PLAIN_VALUE.test(body) && equalityBefore(src, i)) {
      shape += `${src.slice(copied, i + 1)}${PLACEHOLDER}${values.length}`;
      values.push(body);
      copied = j;
    }
    i = j + 1;
  }
  return values.length === 0 ? undefined : { shape: shape + src.slice(copied), values };
}

/** Is the literal at `at` preceded by `=` or `!=` (not `==`, `<=`, `>=`), blanks aside? */
function equalityBefore(src: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && (src[k] === " " || src[k] === "\t" || src[k] === "\n" || src[k] === "\r")) k--;
  if (src[k] !== "=") return false;
  const before = src[k - 1];
  return before !== "=" && before !== "<" && before !== ">";
}

function placeholderIndex(value: string): number {
  return value.startsWith(PLACEHOLDER) ? Number(value.slice(PLACEHOLDER.length)) : -1;
}

/** Placeholders found as equality matcher values (-1 when one shows up anywhere else or twice). */
function countPlaceholders(e: Expr): number {
  const seen = new Set<number>();
  let misplaced = false;
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case "number":
        return;
      case "string":
        if (x.value.includes(PLACEHOLDER)) misplaced = true;
        return;
      case "vector":
        for (const m of x.matchers) {
          if (m.name.includes(PLACEHOLDER)) misplaced = true;
          if (!m.value.includes(PLACEHOLDER)) continue;
          const i = placeholderIndex(m.value);
          if ((m.op !== "=" && m.op !== "!=") || !(i >= 0) || seen.has(i)) misplaced = true;
          seen.add(i);
        }
        if (x.name?.includes(PLACEHOLDER)) misplaced = true;
        return;
      case "matrix":
        walk(x.vs);
        return;
      case "subquery":
      case "paren":
      case "unary":
        walk(x.expr);
        return;
      case "call":
        for (const a of x.args) walk(a);
        return;
      case "aggregate":
        if (x.param !== undefined) walk(x.param);
        if (x.grouping.some((g) => g.includes(PLACEHOLDER))) misplaced = true;
        walk(x.expr);
        return;
      case "binary":
        walk(x.lhs);
        walk(x.rhs);
        return;
    }
  };
  walk(e);
  return misplaced ? -1 : seen.size;
}

/** The shape's AST with the values put back (new selector objects: caches key on matcher lists). */
function instantiate(e: Expr, values: readonly string[]): Expr {
  switch (e.kind) {
    case "number":
    case "string":
      return e;
    case "vector": {
      const matchers = e.matchers.map((m) => {
        const i = placeholderIndex(m.value);
        return i < 0 ? m : { name: m.name, op: m.op, value: values[i]! };
      });
      return { ...e, matchers, text: selectorText(matchers) };
    }
    case "matrix":
      return { ...e, vs: instantiate(e.vs, values) as VectorSel };
    case "subquery":
    case "paren":
    case "unary":
      return { ...e, expr: instantiate(e.expr, values) } as Expr;
    case "call":
      return { ...e, args: e.args.map((a) => instantiate(a, values)) };
    case "aggregate":
      return {
        ...e,
        param: e.param === undefined ? undefined : instantiate(e.param, values),
        expr: instantiate(e.expr, values),
      };
    case "binary":
      return { ...e, lhs: instantiate(e.lhs, values), rhs: instantiate(e.rhs, values) };
  }
}
