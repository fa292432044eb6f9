/**
 * PromQL AST, built by walking the lezer tree of @prometheus-io/lezer-promql (parser.ts).
 * Only constructs with Prometheus 2.42 semantics exist here; the parser rejects the rest.
 */
import type { CompiledMatcher } from "./store.ts";

export type ValueType = "scalar" | "vector" | "matrix" | "string";

/** `@ <ts>` or `@ start()` / `@ end()`. */
export type AtModifier = { kind: "ts"; ms: number } | { kind: "start" } | { kind: "end" };

export interface NumberLit {
  kind: "number";
  value: number;
}
export interface StringLit {
  kind: "string";
  value: string;
}
export interface VectorSel {
  kind: "vector";
  name: string | undefined;
  matchers: CompiledMatcher[];
  offsetMs: number;
  at: AtModifier | undefined;
  /** Stable key of the matchers (for provider caches). */
  text: string;
}
export interface MatrixSel {
  kind: "matrix";
  vs: VectorSel;
  rangeMs: number;
}
export interface Subquery {
  kind: "subquery";
  expr: Expr;
  rangeMs: number;
  /** undefined = the default evaluation interval. */
  stepMs: number | undefined;
  offsetMs: number;
  at: AtModifier | undefined;
}
export interface Call {
  kind: "call";
  fn: string;
  args: Expr[];
}
export type AggOp =
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "count"
  | "stddev"
  | "stdvar"
  | "quantile"
  | "topk"
  | "bottomk"
  | "count_values"
  | "group";
export interface Aggregate {
  kind: "aggregate";
  op: AggOp;
  param: Expr | undefined;
  expr: Expr;
  grouping: string[];
  without: boolean;
}
export type BinOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "^"
  | "atan2"
  | "=="
  | "!="
  | ">"
  | "<"
  | ">="
  | "<="
  | "and"
  | "or"
  | "unless";
export type Cardinality = "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";
export interface VectorMatching {
  card: Cardinality;
  on: boolean;
  labels: string[];
  include: string[];
}
export interface Binary {
  kind: "binary";
  op: BinOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  matching: VectorMatching | undefined;
}
export interface Unary {
  kind: "unary";
  op: "-" | "+";
  expr: Expr;
}
export interface Paren {
  kind: "paren";
  expr: Expr;
}

export type Expr =
  | NumberLit
  | StringLit
  | VectorSel
  | MatrixSel
  | Subquery
  | Call
  | Aggregate
  | Binary
  | Unary
  | Paren;

export function isComparison(op: BinOp): boolean {
  return op === "==" || op === "!=" || op === ">" || op === "<" || op === ">=" || op === "<=";
}

export function isSetOp(op: BinOp): boolean {
  return op === "and" || op === "or" || op === "unless";
}

/** Arithmetic operators drop the metric name (2.42 shouldDropMetricName). */
export function dropsName(op: BinOp): boolean {
  return op === "+" || op === "-" || op === "*" || op === "/" || op === "%" || op === "^";
}
