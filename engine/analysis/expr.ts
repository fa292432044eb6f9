/**
 * The condition language of Argo Rollouts metrics (expr-lang, as Argo uses it):
 * a small Pratt parser and a tree-walking evaluator.
 *
 * Why not jsep: expr-lang needs `#` closures (`all(result, {# < 0.5})`), keyword
 * operators (`and`, `or`, `not`, `in`, `not in`), negative indexing, `??` and
 * positions in compile errors; jsep's plugins for these are not installed and
 * bending its grammar costs more than this ~400-line parser, which also lets
 * compile errors carry expr-lang's `(line:column)` suffix.
 *
 * Semantics follow expr-lang: `/` is float division, NaN compares false, an
 * index out of range throws, mismatched comparison types throw, an unknown
 * name is a compile error, and a condition must evaluate to a bool.
 */
import { memoByText } from "../core/memo.ts";

export type Value = number | string | boolean | null | undefined | Value[] | { [k: string]: Value } | Fn;
export type Fn = (args: Value[], scope: Scope) => Value;

/** Thrown for compile (parse) and runtime errors; `line`/`column` are 1-based when known. */
export class ExprError extends Error {
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly offset: number | undefined;
  constructor(message: string, source?: string, offset?: number) {
    let line: number | undefined;
    let column: number | undefined;
    if (source !== undefined && offset !== undefined) {
      const before = source.slice(0, offset).split("\n");
      line = before.length;
      column = (before[before.length - 1]?.length ?? 0) + 1;
    }
    super(line === undefined ? message : `${message} (${line}:${column})`);
    this.name = "ExprError";
    this.line = line;
    this.column = column;
    this.offset = offset;
  }
}

type Tok =
  | { k: "num"; v: number; p: number }
  | { k: "str"; v: string; p: number }
  | { k: "id"; v: string; p: number }
  | { k: "op"; v: string; p: number }
  | { k: "eof"; p: number };

const OPS = [
  "not in",
  "...",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "**",
  "??",
  "?.",
  "..",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "^",
  "!",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ".",
  ":",
  "?",
  "#",
  "|",
];

function describe(t: Tok): string {
  switch (t.k) {
    case "eof":
      return "EOF";
    case "num":
      return `Number("${t.v}")`;
    case "str":
      return `String(${JSON.stringify(t.v)})`;
    case "id":
      return `Identifier("${t.v}")`;
    case "op":
      return `Operator(${JSON.stringify(t.v)})`;
  }
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(?:0x[0-9a-fA-F]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/.exec(
        src.slice(i),
      );
      const text = m![0];
      out.push({ k: "num", v: Number(text.replace(/_/g, "")), p: i });
      i += text.length;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i))!;
      if (m[0] === "not" && /^not\s+in\b/.test(src.slice(i))) {
        const n = /^not\s+in/.exec(src.slice(i))![0];
        out.push({ k: "op", v: "not in", p: i });
        i += n.length;
        continue;
      }
      out.push({ k: "id", v: m[0], p: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\" && c !== "`") {
          const e = src[j + 1];
          s += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : (e ?? "");
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new ExprError("literal not terminated", src, i);
      out.push({ k: "str", v: s, p: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i) && !/^[a-z]/.test(o));
    if (op === undefined)
      throw new ExprError(
        `unrecognized character: U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} '${c}'`,
        src,
        i,
      );
    out.push({ k: "op", v: op, p: i });
    i += op.length;
  }
  out.push({ k: "eof", p: src.length });
  return out;
}

/** The syntax tree. `p` is the source offset for error positions. */
export type Node =
  | { t: "lit"; v: Value; p: number }
  | { t: "id"; name: string; p: number }
  | { t: "pointer"; name: string | undefined; p: number }
  | { t: "unary"; op: string; x: Node; p: number }
  | { t: "bin"; op: string; l: Node; r: Node; p: number }
  | { t: "cond"; c: Node; a: Node; b: Node; p: number }
  | { t: "member"; x: Node; prop: Node; optional: boolean; p: number }
  | { t: "slice"; x: Node; from: Node | undefined; to: Node | undefined; p: number }
  | { t: "call"; callee: string; args: Node[]; p: number }
  | { t: "closure"; body: Node; p: number }
  | { t: "array"; items: Node[]; p: number }
  | { t: "map"; entries: Array<[Node, Node]>; p: number };

const BINARY: Record<string, { prec: number; right?: boolean }> = {
  "||": { prec: 10 },
  or: { prec: 10 },
  "&&": { prec: 15 },
  and: { prec: 15 },
  "==": { prec: 20 },
  "!=": { prec: 20 },
  "<": { prec: 20 },
  ">": { prec: 20 },
  "<=": { prec: 20 },
  ">=": { prec: 20 },
  in: { prec: 20 },
  "not in": { prec: 20 },
  matches: { prec: 20 },
  contains: { prec: 20 },
  startsWith: { prec: 20 },
  endsWith: { prec: 20 },
  "..": { prec: 25 },
  "+": { prec: 30 },
  "-": { prec: 30 },
  "*": { prec: 60 },
  "/": { prec: 60 },
  "%": { prec: 60 },
  "**": { prec: 100, right: true },
  "^": { prec: 100, right: true },
  "??": { prec: 500 },
};
const UNARY: Record<string, number> = { not: 50, "!": 50, "-": 90, "+": 90 };
/** Builtins whose second argument is a predicate closure. */
const PREDICATE_BUILTINS = new Set([
  "all",
  "any",
  "none",
  "one",
  "filter",
  "map",
  "count",
  "find",
  "findIndex",
  "sum",
]);

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private next(): Tok {
    return this.toks[this.i++]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === "op" && t.v === v;
  }
  private expect(v: string): Tok {
    const t = this.next();
    if (t.k !== "op" || t.v !== v) throw new ExprError(`unexpected token ${describe(t)}`, this.src, t.p);
    return t;
  }

  parseProgram(): Node {
    const n = this.parseExpr(0);
    const t = this.peek();
    if (t.k !== "eof") throw new ExprError(`unexpected token ${describe(t)}`, this.src, t.p);
    return n;
  }

  private binaryOp(t: Tok): string | undefined {
    if (t.k === "op" && BINARY[t.v] !== undefined) return t.v;
    if (t.k === "id" && BINARY[t.v] !== undefined) return t.v;
    return undefined;
  }

  parseExpr(minPrec: number): Node {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const op = this.binaryOp(t);
      if (op !== undefined) {
        const info = BINARY[op]!;
        if (info.prec < minPrec || (info.prec === minPrec && !info.right)) break;
        this.next();
        const right = this.parseExpr(info.right ? info.prec : info.prec + 1);
        left = { t: "bin", op, l: left, r: right, p: t.p };
        continue;
      }
      if (t.k === "op" && t.v === "?" && minPrec === 0) {
        this.next();
        const a = this.parseExpr(0);
        this.expect(":");
        const b = this.parseExpr(0);
        left = { t: "cond", c: left, a, b, p: t.p };
        continue;
      }
      break;
    }
    return left;
  }

  private parseUnary(): Node {
    const t = this.peek();
    const op = t.k === "op" || t.k === "id" ? t.v : undefined;
    if (op !== undefined && UNARY[op] !== undefined && !(t.k === "id" && op !== "not")) {
      this.next();
      const x = this.parseExpr(UNARY[op]!);
      return { t: "unary", op, x, p: t.p };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Node {
    const t = this.next();
    switch (t.k) {
      case "num":
        return { t: "lit", v: t.v, p: t.p };
      case "str":
        return { t: "lit", v: t.v, p: t.p };
      case "eof":
        throw new ExprError("unexpected end of expression", this.src, t.p);
      case "id": {
        if (t.v === "true" || t.v === "false") return { t: "lit", v: t.v === "true", p: t.p };
        if (t.v === "nil") return { t: "lit", v: null, p: t.p };
        if (this.isOp("(")) {
          this.next();
          const args: Node[] = [];
          let n = 0;
          while (!this.isOp(")")) {
            if (n > 0) this.expect(",");
            if (n === 1 && PREDICATE_BUILTINS.has(t.v)) args.push(this.parseClosure());
            else args.push(this.parseExpr(0));
            n++;
          }
          this.expect(")");
          return { t: "call", callee: t.v, args, p: t.p };
        }
        return { t: "id", name: t.v, p: t.p };
      }
      case "op": {
        if (t.v === "(") {
          const e = this.parseExpr(0);
          this.expect(")");
          return e;
        }
        if (t.v === "#") {
          if (this.depth === 0)
            throw new ExprError("cannot use pointer accessor outside predicate", this.src, t.p);
          const nt = this.peek();
          if (nt.k === "id" && nt.p === t.p + 1) {
            this.next();
            return { t: "pointer", name: nt.v, p: t.p };
          }
          return { t: "pointer", name: undefined, p: t.p };
        }
        if (t.v === ".") {
          // `.field` inside a predicate is `#.field`
          const nt = this.next();
          if (nt.k !== "id" || this.depth === 0)
            throw new ExprError(`unexpected token ${describe(t)}`, this.src, t.p);
          return {
            t: "member",
            x: { t: "pointer", name: undefined, p: t.p },
            prop: { t: "lit", v: nt.v, p: nt.p },
            optional: false,
            p: t.p,
          };
        }
        if (t.v === "[") {
          const items: Node[] = [];
          while (!this.isOp("]")) {
            if (items.length > 0) {
              this.expect(",");
              if (this.isOp("]")) break;
            }
            items.push(this.parseExpr(0));
          }
          this.expect("]");
          return { t: "array", items, p: t.p };
        }
        if (t.v === "{") {
          const entries: Array<[Node, Node]> = [];
          while (!this.isOp("}")) {
            if (entries.length > 0) {
              this.expect(",");
              if (this.isOp("}")) break;
            }
            const kt = this.next();
            let key: Node;
            if (kt.k === "id" || kt.k === "str") key = { t: "lit", v: kt.v, p: kt.p };
            else if (kt.k === "num") key = { t: "lit", v: String(kt.v), p: kt.p };
            else if (kt.k === "op" && kt.v === "(") {
              key = this.parseExpr(0);
              this.expect(")");
            } else
              throw new ExprError(
                `a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token ${describe(kt)})`,
                this.src,
                kt.p,
              );
            this.expect(":");
            entries.push([key, this.parseExpr(0)]);
          }
          this.expect("}");
          return { t: "map", entries, p: t.p };
        }
        throw new ExprError(`unexpected token ${describe(t)}`, this.src, t.p);
      }
    }
  }

  private parseClosure(): Node {
    const t = this.peek();
    this.depth++;
    try {
      if (t.k === "op" && t.v === "{") {
        this.next();
        const body = this.parseExpr(0);
        this.expect("}");
        return { t: "closure", body, p: t.p };
      }
      return { t: "closure", body: this.parseExpr(0), p: t.p };
    } finally {
      this.depth--;
    }
  }

  private parsePostfix(x: Node): Node {
    for (;;) {
      const t = this.peek();
      if (t.k !== "op") return x;
      if (t.v === "." || t.v === "?.") {
        this.next();
        const nt = this.next();
        if (nt.k !== "id") throw new ExprError(`expected name`, this.src, nt.p);
        if (this.isOp("(")) throw new ExprError(`method calls are not supported: ${nt.v}()`, this.src, nt.p);
        x = { t: "member", x, prop: { t: "lit", v: nt.v, p: nt.p }, optional: t.v === "?.", p: t.p };
        continue;
      }
      if (t.v === "[") {
        this.next();
        if (this.isOp(":")) {
          this.next();
          const to = this.isOp("]") ? undefined : this.parseExpr(0);
          this.expect("]");
          x = { t: "slice", x, from: undefined, to, p: t.p };
          continue;
        }
        const idx = this.parseExpr(0);
        if (this.isOp(":")) {
          this.next();
          const to = this.isOp("]") ? undefined : this.parseExpr(0);
          this.expect("]");
          x = { t: "slice", x, from: idx, to, p: t.p };
          continue;
        }
        this.expect("]");
        x = { t: "member", x, prop: idx, optional: false, p: t.p };
        continue;
      }
      if (t.v === "|") {
        // pipe: `x | f(a)` == `f(x, a)`
        this.next();
        const call = this.parsePrimary();
        if (call.t !== "call")
          throw new ExprError("the right side of a pipe must be a function call", this.src, t.p);
        x = { t: "call", callee: call.callee, args: [x, ...call.args], p: call.p };
        continue;
      }
      return x;
    }
  }
}

export interface Scope {
  vars: Readonly<Record<string, Value>>;
  pointer: Value;
}

/** A compiled condition: parse once, evaluate many times. */
export interface Program {
  readonly source: string;
  readonly ast: Node;
  run(vars: Readonly<Record<string, Value>>): Value;
}

function typeName(v: Value): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "function") return "func";
  return "map[string]interface {}";
}

/** expr-lang's `%v` of a value, for messages. */
export function formatValue(v: Value): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (v === Number.POSITIVE_INFINITY) return "+Inf";
    if (v === Number.NEGATIVE_INFINITY) return "-Inf";
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(formatValue).join(" ")}]`;
  if (typeof v === "function") return "func";
  if (typeof v === "object")
    return `map[${Object.entries(v)
      .map(([k, x]) => `${k}:${formatValue(x)}`)
      .join(" ")}]`;
  return String(v);
}

function truthy(v: Value, op: string): boolean {
  if (typeof v === "boolean") return v;
  throw new Error(`invalid operation: ${op} ${typeName(v)} (expected bool)`);
}

function num(v: Value, what: string): number {
  if (typeof v === "number") return v;
  throw new Error(`invalid operation: ${what} (mismatched types ${typeName(v)})`);
}

function deepEqual(a: Value, b: Value): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (
    typeof a === "object" &&
    typeof b === "object" &&
    a !== null &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a);
    const kb = Object.keys(b as object);
    return (
      ka.length === kb.length &&
      ka.every((k) => deepEqual((a as Record<string, Value>)[k], (b as Record<string, Value>)[k]))
    );
  }
  return a === b;
}

function compare(op: string, l: Value, r: Value): boolean {
  const same =
    (typeof l === "number" && typeof r === "number") || (typeof l === "string" && typeof r === "string");
  if (!same) throw new Error(`invalid operation: ${op} (mismatched types ${typeName(l)} and ${typeName(r)})`);
  const [a, b] = [l as number | string, r as number | string];
  return op === "<" ? a < b : op === ">" ? a > b : op === "<=" ? a <= b : a >= b;
}

function index(x: Value, key: Value, optional: boolean): Value {
  if (x === null || x === undefined) {
    if (optional) return undefined;
    throw new Error(`cannot fetch ${formatValue(key)} from <nil>`);
  }
  if (Array.isArray(x) || typeof x === "string") {
    if (typeof key !== "number" || !Number.isInteger(key))
      throw new Error(`cannot use ${typeName(key)} as index to ${typeName(x)}`);
    const i = key < 0 ? x.length + key : key;
    if (i < 0 || i >= x.length) throw new Error(`index out of range: ${key} (array length is ${x.length})`);
    return x[i] as Value;
  }
  if (typeof x === "object" && typeof x !== "function") {
    return (x as Record<string, Value>)[String(key)];
  }
  throw new Error(`cannot fetch ${formatValue(key)} from ${typeName(x)}`);
}

function asArray(v: Value, fn: string): Value[] {
  if (Array.isArray(v)) return v;
  throw new Error(`invalid argument for ${fn} (type ${typeName(v)})`);
}

const BUILTINS: Record<string, (args: Value[], call: (closure: Value, item: Value) => Value) => Value> = {
  len: ([x]) => {
    if (Array.isArray(x) || typeof x === "string") return x.length;
    if (x !== null && typeof x === "object") return Object.keys(x).length;
    throw new Error(`invalid argument for len (type ${typeName(x)})`);
  },
  all: ([a, f], call) => asArray(a, "all").every((x) => truthy(call(f, x), "all")),
  any: ([a, f], call) => asArray(a, "any").some((x) => truthy(call(f, x), "any")),
  none: ([a, f], call) => !asArray(a, "none").some((x) => truthy(call(f, x), "none")),
  one: ([a, f], call) => asArray(a, "one").filter((x) => truthy(call(f, x), "one")).length === 1,
  filter: ([a, f], call) => asArray(a, "filter").filter((x) => truthy(call(f, x), "filter")),
  map: ([a, f], call) => asArray(a, "map").map((x) => call(f, x)),
  count: ([a, f], call) =>
    asArray(a, "count").filter((x) => (f === undefined ? truthy(x, "count") : truthy(call(f, x), "count")))
      .length,
  find: ([a, f], call) => asArray(a, "find").find((x) => truthy(call(f, x), "find")),
  findIndex: ([a, f], call) => asArray(a, "findIndex").findIndex((x) => truthy(call(f, x), "findIndex")),
  sum: ([a, f], call) =>
    asArray(a, "sum").reduce<number>((s, x) => s + num(f === undefined ? x : call(f, x), "sum"), 0),
  mean: ([a]) => {
    const xs = asArray(a, "mean");
    return xs.length === 0 ? 0 : xs.reduce<number>((s, x) => s + num(x, "mean"), 0) / xs.length;
  },
  median: ([a]) => {
    const xs = asArray(a, "median")
      .map((x) => num(x, "median"))
      .sort((p, q) => p - q);
    if (xs.length === 0) return 0;
    const m = xs.length >> 1;
    return xs.length % 2 === 1 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
  },
  max: (args) => {
    const xs = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((x) => num(x, "max"));
    if (xs.length === 0) throw new Error("not enough arguments to call max");
    return Math.max(...xs);
  },
  min: (args) => {
    const xs = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((x) => num(x, "min"));
    if (xs.length === 0) throw new Error("not enough arguments to call min");
    return Math.min(...xs);
  },
  first: ([a]) => (Array.isArray(a) ? a[0] : undefined),
  last: ([a]) => (Array.isArray(a) ? a[a.length - 1] : undefined),
  abs: ([x]) => Math.abs(num(x, "abs")),
  ceil: ([x]) => Math.ceil(num(x, "ceil")),
  floor: ([x]) => Math.floor(num(x, "floor")),
  round: ([x]) => Math.round(num(x, "round")),
  int: ([x]) => {
    if (typeof x === "string") {
      const n = Number.parseInt(x, 10);
      if (Number.isNaN(n)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(x)}: invalid syntax`);
      return n;
    }
    return Math.trunc(num(x, "int"));
  },
  float: ([x]) => {
    if (typeof x === "string") {
      const n = Number(x);
      if (x.trim() === "" || Number.isNaN(n))
        throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(x)}: invalid syntax`);
      return n;
    }
    return num(x, "float");
  },
  string: ([x]) => formatValue(x),
  upper: ([x]) => String(x).toUpperCase(),
  lower: ([x]) => String(x).toLowerCase(),
  trim: ([x]) => String(x).trim(),
  // Argo Rollouts' own environment (utils/evaluate/evaluate.go)
  isNaN: ([x]) => Number.isNaN(num(x, "isNaN")),
  isInf: ([x]) => {
    const n = num(x, "isInf");
    return n === Number.POSITIVE_INFINITY || n === Number.NEGATIVE_INFINITY;
  },
  asInt: ([x]) => {
    if (typeof x === "number") return Math.trunc(x);
    if (typeof x === "string" && /^[+-]?\d+$/.test(x)) return Number.parseInt(x, 10);
    if (typeof x === "string")
      throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(x)}: invalid syntax`);
    throw new Error(`asInt() not supported on ${typeName(x)} ${formatValue(x)}`);
  },
  asFloat: ([x]) => {
    if (typeof x === "number") return x;
    if (typeof x === "string") {
      const s = x.trim();
      const n = /^[+-]?inf(inity)?$/i.test(s)
        ? s.startsWith("-")
          ? -Infinity
          : Infinity
        : /^nan$/i.test(s)
          ? Number.NaN
          : Number(s);
      if (s === "" || (Number.isNaN(n) && !/^nan$/i.test(s)))
        throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(x)}: invalid syntax`);
      return n;
    }
    throw new Error(`asFloat() not supported on ${typeName(x)} ${formatValue(x)}`);
  },
};

/** Names that the evaluator resolves as functions (Argo's env + expr-lang builtins). */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(BUILTINS), "isNil", "default"]);

/**
 * No closure is made per node: under tsx (esbuild keepNames) a named local function costs a
 * defineProperty each time it is created, which made it the evaluator's largest cost.
 */
function evaluate(n: Node, scope: Scope, src: string): Value {
  switch (n.t) {
    case "lit":
      return n.v;
    case "id": {
      if (!(n.name in scope.vars)) throw new ExprError(`unknown name ${n.name}`, src, n.p);
      return scope.vars[n.name];
    }
    case "pointer":
      return n.name === undefined ? scope.pointer : index(scope.pointer, n.name, false);
    case "array":
      return n.items.map((x) => evaluate(x, scope, src));
    case "map": {
      const o: Record<string, Value> = {};
      for (const [k, v] of n.entries) o[String(evaluate(k, scope, src))] = evaluate(v, scope, src);
      return o;
    }
    case "closure":
      return ((args: Value[]) => evaluate(n.body, { vars: scope.vars, pointer: args[0] }, src)) as Fn;
    case "unary": {
      const x = evaluate(n.x, scope, src);
      if (n.op === "!" || n.op === "not") return !truthy(x, n.op);
      const v = num(x, `${n.op}${typeName(x)}`);
      return n.op === "-" ? -v : v;
    }
    case "cond":
      return truthy(evaluate(n.c, scope, src), "?") ? evaluate(n.a, scope, src) : evaluate(n.b, scope, src);
    case "member":
      return index(evaluate(n.x, scope, src), evaluate(n.prop, scope, src), n.optional);
    case "slice": {
      const x = evaluate(n.x, scope, src);
      if (!Array.isArray(x) && typeof x !== "string") throw new Error(`cannot slice ${typeName(x)}`);
      const from = n.from === undefined ? 0 : num(evaluate(n.from, scope, src), "slice");
      const to = n.to === undefined ? x.length : num(evaluate(n.to, scope, src), "slice");
      return x.slice(from, to) as Value;
    }
    case "call": {
      const args = n.args.map((x) => evaluate(x, scope, src));
      const v = scope.vars[n.callee];
      if (typeof v === "function") return v(args, scope);
      const b = BUILTINS[n.callee];
      if (b === undefined) throw new ExprError(`unknown func ${n.callee}`, src, n.p);
      return b(args, (f, item) => {
        if (typeof f !== "function") throw new Error(`${n.callee}: predicate must be a closure`);
        return f([item], scope);
      });
    }
    case "bin": {
      const op = n.op;
      if (op === "&&" || op === "and")
        return truthy(evaluate(n.l, scope, src), op) && truthy(evaluate(n.r, scope, src), op);
      if (op === "||" || op === "or")
        return truthy(evaluate(n.l, scope, src), op) || truthy(evaluate(n.r, scope, src), op);
      if (op === "??") {
        const l = evaluate(n.l, scope, src);
        return l === null || l === undefined ? evaluate(n.r, scope, src) : l;
      }
      const l = evaluate(n.l, scope, src);
      const r = evaluate(n.r, scope, src);
      switch (op) {
        case "==":
          return deepEqual(l, r);
        case "!=":
          return !deepEqual(l, r);
        case "<":
        case ">":
        case "<=":
        case ">=":
          return compare(op, l, r);
        case "in":
        case "not in": {
          let found: boolean;
          if (Array.isArray(r)) found = r.some((x) => deepEqual(x, l));
          else if (r !== null && typeof r === "object" && typeof r !== "function") found = String(l) in r;
          else if (typeof r === "string" && typeof l === "string") found = r.includes(l);
          else
            throw new Error(`invalid operation: ${op} (mismatched types ${typeName(l)} and ${typeName(r)})`);
          return op === "in" ? found : !found;
        }
        case "contains":
          return String(l).includes(String(r));
        case "startsWith":
          return String(l).startsWith(String(r));
        case "endsWith":
          return String(l).endsWith(String(r));
        case "matches":
          return new RegExp(String(r)).test(String(l));
        case "..": {
          const a = num(l, "..");
          const b = num(r, "..");
          const out: number[] = [];
          for (let i = a; i <= b; i++) out.push(i);
          return out;
        }
        case "+":
          if (typeof l === "string" && typeof r === "string") return l + r;
          if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
          return num(l, `${typeName(l)} + ${typeName(r)}`) + num(r, `${typeName(l)} + ${typeName(r)}`);
        case "-":
          return num(l, `${typeName(l)} - ${typeName(r)}`) - num(r, `${typeName(l)} - ${typeName(r)}`);
        case "*":
          return num(l, `${typeName(l)} * ${typeName(r)}`) * num(r, `${typeName(l)} * ${typeName(r)}`);
        case "/":
          return num(l, `${typeName(l)} / ${typeName(r)}`) / num(r, `${typeName(l)} / ${typeName(r)}`);
        case "%": {
          const a = num(l, "%");
          const b = num(r, "%");
          if (b === 0) throw new Error("integer divide by zero");
          return a % b;
        }
        case "**":
        case "^":
          return num(l, op) ** num(r, op);
      }
      throw new ExprError(`unknown operator ${op}`, src, n.p);
    }
  }
}

function children(x: Node): Array<Node | undefined> {
  switch (x.t) {
    case "call":
      return x.args;
    case "unary":
      return [x.x];
    case "bin":
      return [x.l, x.r];
    case "cond":
      return [x.c, x.a, x.b];
    case "member":
      return [x.x, x.prop];
    case "slice":
      return [x.x, x.from, x.to];
    case "closure":
      return [x.body];
    case "array":
      return x.items;
    case "map":
      return x.entries.flat();
    default:
      return [];
  }
}

/** Check names against the environment so unknown names fail at compile time, as with expr.Env. */
function checkNames(n: Node, known: ReadonlySet<string>, src: string): void {
  if (n.t === "id" && !known.has(n.name)) throw new ExprError(`unknown name ${n.name}`, src, n.p);
  if (n.t === "call" && !known.has(n.callee) && BUILTINS[n.callee] === undefined) {
    throw new ExprError(`unknown func ${n.callee}`, src, n.p);
  }
  for (const c of children(n)) if (c !== undefined) checkNames(c, known, src);
}

/**
 * Parse `source`. `env` lists the variable and function names the program may
 * use (Argo: result, asInt, asFloat, isNaN, isInf, isNil, default); unknown
 * names are compile errors with their position, as expr-lang reports them.
 */
export function compile(source: string, env: readonly string[] = ARGO_ENV): Program {
  const ast = new Parser(source, lex(source)).parseProgram();
  checkNames(ast, new Set(env), source);
  return {
    source,
    ast,
    run(vars) {
      return evaluate(ast, { vars, pointer: undefined }, source);
    },
  };
}

/** compile(source) with Argo's environment, remembered by source (conditions repeat across runs). */
export const compiled: (source: string) => Program = memoByText((source) => compile(source), 1000);

/** The names Argo Rollouts puts in a condition's environment. */
export const ARGO_ENV: readonly string[] = [
  "result",
  "asInt",
  "asFloat",
  "isNaN",
  "isInf",
  "isNil",
  "default",
];

/**
 * Argo's environment for a measurement result. As upstream, `isNil(x)` and
 * `default(x, d)` look at the measurement result whatever their first argument.
 */
export function argoVars(result: Value): Record<string, Value> {
  return { result, isNil: RESULT_IS_NIL, default: RESULT_OR_DEFAULT };
}

/** isNil() and default() of argoVars: they read `result` from the program's variables. */
const RESULT_IS_NIL: Fn = (_args, scope) => scope.vars.result === null || scope.vars.result === undefined;
const RESULT_OR_DEFAULT: Fn = (args, scope) => {
  const result = scope.vars.result;
  return result === null || result === undefined ? args[1] : result;
};

/** Evaluate a condition as Argo does: must produce a bool ("expected bool, but got T"). */
export function evalCondition(program: Program, result: Value): boolean {
  const out = program.run(argoVars(result));
  if (typeof out !== "boolean") throw new Error(`expected bool, but got ${typeName(out)}`);
  return out;
}
