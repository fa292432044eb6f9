/**
 * Executes parsed Go templates with Go's semantics: `.` and `$`, variable scopes per block,
 * range over lists / maps (sorted keys) / ints, Go truth, missingkey=zero (a missing key is
 * nil and prints `<no value>`), typed function arguments, and Go-shaped error messages.
 */
import { describeNode, type ArgNode, type Command, type Node, type Pipeline, type Pos } from "./parse.ts";
import { GoStruct, compareStrings, isMap, isTrue, printValue, typeName } from "./gofmt.ts";

/** Parameter kinds of a template function: s string, i int, f float64, b bool, l list, m map, a any. */
export type ParamKind = "s" | "i" | "f" | "b" | "l" | "m" | "a";

export interface FuncDef {
  /** Parameter kinds; a trailing "*" makes the last one variadic, e.g. "s*" or "a*". */
  sig: string;
  fn: (args: unknown[], ctx: CallContext) => unknown;
}

interface Signature {
  kinds: ParamKind[];
  variadic: boolean;
  fixed: number;
}

const SIGNATURES = new WeakMap<FuncDef, Signature>();

function signature(def: FuncDef): Signature {
  let s = SIGNATURES.get(def);
  if (s === undefined) {
    const variadic = def.sig.endsWith("*");
    const kinds = (variadic ? def.sig.slice(0, -1) : def.sig).split("") as ParamKind[];
    s = { kinds, variadic, fixed: variadic ? kinds.length - 1 : kinds.length };
    SIGNATURES.set(def, s);
  }
  return s;
}

export interface CallContext {
  exec: Executor;
  pos: Pos;
}

/** A named template: a file body or a {{define}}. */
export interface NamedTemplate {
  name: string;
  /** File the template text is in (its nodes may be shared by identical files of other charts). */
  file: string;
  nodes: Node[];
}

export interface TemplateLookup {
  get(name: string): NamedTemplate | undefined;
}

/** An error while executing, positioned like Go's: `template: FILE:LINE:COL: executing "NAME" at <...>: ...`. */
export class ExecError extends Error {
  constructor(
    message: string,
    /** Where the outermost failing action is. */
    readonly pos: Pos,
    /** A `fail`/`required` message (Helm reports these as `execution error at (...)`). */
    readonly userMessage?: string,
    /** Where the innermost failing action is (inside an included template, say). */
    readonly origin: Pos = pos,
    /** The function that is not defined, when that is the failure. */
    readonly undefinedFunc?: string,
  ) {
    super(message);
  }
}

/** Thrown by functions to report an error as `error calling NAME: ...`. */
export class FuncError extends Error {
  constructor(
    message: string,
    readonly userMessage?: string,
  ) {
    super(message);
  }
}

const NO_FINAL = Symbol("noFinal");
type Final = unknown | typeof NO_FINAL;

const BREAK = 1;
const CONTINUE = 2;

interface Var {
  name: string;
  value: unknown;
}

const GO_TYPE: Record<ParamKind, string> = {
  s: "string",
  i: "int",
  f: "float64",
  b: "bool",
  l: "[]interface {}",
  m: "map[string]interface {}",
  a: "interface {}",
};

export class Executor {
  private vars: Var[] = [];
  private out: string[] = [];
  private tmplName = "";
  private file = "";
  /** include/tpl nesting per name (Helm's recursion guard). */
  readonly includeDepth = new Map<string, number>();

  constructor(
    readonly templates: TemplateLookup,
    readonly funcs: ReadonlyMap<string, FuncDef>,
  ) {}

  /** Execute a named template with `data` as `.` and `$`; returns its output. */
  execute(name: string, data: unknown): string {
    const t = this.templates.get(name);
    if (t === undefined) throw new Error(`no template "${name}" associated with template "gotpl"`);
    return this.executeNodes(t.name, t.nodes, data, t.file);
  }

  /** Execute `nodes` (template `name`, text from `file`) with `data` as `.` and `$`. */
  executeNodes(name: string, nodes: Node[], data: unknown, file = name): string {
    const saved = { vars: this.vars, out: this.out, name: this.tmplName, file: this.file };
    this.vars = [{ name: "$", value: data }];
    this.out = [];
    this.tmplName = name;
    this.file = file;
    try {
      this.walkList(nodes, data);
      return this.out.join("");
    } finally {
      this.vars = saved.vars;
      this.out = saved.out;
      this.tmplName = saved.name;
      this.file = saved.file;
    }
  }

  /** Name of the template being executed (a file or a define). */
  currentName(): string {
    return this.tmplName;
  }

  /** File of the template being executed. */
  currentFile(): string {
    return this.file;
  }

  private fail(at0: Pos, at: string, msg: string, userMessage?: string, inner?: ExecError): never {
    const pos = { file: this.file, line: at0.line, col: at0.col };
    throw new ExecError(
      `template: ${pos.file}:${pos.line}:${pos.col}: executing "${this.tmplName}" at <${at}>: ${msg}`,
      pos,
      userMessage,
      inner?.origin ?? pos,
      inner?.undefinedFunc,
    );
  }

  private walkList(nodes: Node[], dot: unknown): number {
    for (const n of nodes) {
      const r = this.walk(n, dot);
      if (r !== 0) return r;
    }
    return 0;
  }

  private walk(n: Node, dot: unknown): number {
    switch (n.t) {
      case "text":
        this.out.push(n.text);
        return 0;
      case "action": {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.out.push(printValue(v));
        return 0;
      }
      case "if":
      case "with": {
        const mark = this.vars.length;
        try {
          const v = this.evalPipeline(dot, n.pipe);
          if (isTrue(v)) return this.walkList(n.list, n.t === "with" ? v : dot);
          if (n.elseList !== undefined) return this.walkList(n.elseList, dot);
          return 0;
        } finally {
          this.vars.length = mark;
        }
      }
      case "range":
        return this.walkRange(n, dot);
      case "template": {
        const t = this.templates.get(n.name);
        if (t === undefined) this.fail(n.pos, `{{template "${n.name}"}}`, `template "${n.name}" not defined`);
        const data = n.pipe === undefined ? null : this.evalPipeline(dot, n.pipe);
        this.out.push(this.executeNodes(t.name, t.nodes, data, t.file));
        return 0;
      }
      case "break":
        return BREAK;
      case "continue":
        return CONTINUE;
    }
  }

  private walkRange(n: Extract<Node, { t: "range" }>, dot: unknown): number {
    const mark = this.vars.length;
    try {
      const v = this.evalPipeline(dot, { ...n.pipe, decl: [] });
      const decl = n.pipe.decl;
      const one = (key: unknown, elem: unknown): number => {
        this.vars.length = mark;
        if (decl.length === 1) this.vars.push({ name: decl[0]!, value: elem });
        else if (decl.length === 2) {
          this.vars.push({ name: decl[0]!, value: key });
          this.vars.push({ name: decl[1]!, value: elem });
        }
        const r = this.walkList(n.list, elem);
        return r === CONTINUE ? 0 : r;
      };
      let count = 0;
      if (Array.isArray(v) || v instanceof Uint8Array) {
        const arr = Array.from(v as ArrayLike<unknown>);
        for (let i = 0; i < arr.length; i++) {
          count++;
          if (one(BigInt(i), arr[i] ?? null) === BREAK) break;
        }
      } else if (isMap(v) || (v instanceof GoStruct && v.mapView !== undefined)) {
        const mv = isMap(v) ? v : (v as GoStruct).mapView!;
        for (const k of Object.keys(mv).sort(compareStrings)) {
          count++;
          if (one(k, mv[k] ?? null) === BREAK) break;
        }
      } else if (typeof v === "bigint") {
        if (decl.length > 1)
          this.fail(n.pos, n.pipe.src, "can't use int to iterate over more than one variable");
        for (let i = 0n; i < v; i++) {
          count++;
          if (one(i, i) === BREAK) break;
        }
      } else if (v !== null && v !== undefined) {
        this.fail(n.pos, n.pipe.src, `range can't iterate over ${printValue(v)}`);
      }
      this.vars.length = mark;
      if (count === 0 && n.elseList !== undefined) return this.walkList(n.elseList, dot);
      return 0;
    } finally {
      this.vars.length = mark;
    }
  }

  evalPipeline(dot: unknown, pipe: Pipeline): unknown {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value === NO_FINAL ? null : value;
    if (pipe.decl.length > 0) {
      const name = pipe.decl[0]!;
      if (pipe.isAssign) {
        for (let i = this.vars.length - 1; i >= 0; i--) {
          if (this.vars[i]!.name === name) {
            this.vars[i]!.value = v;
            return v;
          }
        }
        this.fail(pipe.pos, pipe.src, `undefined variable: ${name}`);
      }
      this.vars.push({ name, value: v });
    }
    return v;
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.t) {
      case "field":
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case "chain": {
        const recv = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, recv, first, first.idents, cmd.args, final);
      }
      case "var": {
        const v = this.lookupVar(first);
        if (first.idents.length === 0) {
          this.noArgs(cmd, final, first);
          return v;
        }
        return this.evalFieldChain(dot, v, first, first.idents, cmd.args, final);
      }
      case "ident":
        return this.callFunc(dot, first, cmd.args.slice(1), final, cmd);
      case "pipe": {
        this.noArgs(cmd, final, first);
        return this.evalPipeline(dot, first.pipe);
      }
      default:
        this.noArgs(cmd, final, first);
        return this.evalArg(dot, first);
    }
  }

  private noArgs(cmd: Command, final: Final, node: ArgNode): void {
    if (cmd.args.length > 1 || final !== NO_FINAL)
      this.fail(node.pos, describeNode(node), `can't give argument to non-function ${describeNode(node)}`);
  }

  private lookupVar(node: Extract<ArgNode, { t: "var" }>): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === node.name) return this.vars[i]!.value;
    }
    return this.fail(node.pos, node.name, `undefined variable: ${node.name}`);
  }

  private evalFieldChain(
    dot: unknown,
    recv: unknown,
    node: ArgNode,
    idents: string[],
    args: ArgNode[],
    final: Final,
  ): unknown {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) recv = this.evalField(dot, idents[i]!, node, recv, [], NO_FINAL);
    return this.evalField(dot, idents[n - 1]!, node, recv, args, final);
  }

  private evalField(
    dot: unknown,
    name: string,
    node: ArgNode,
    recv: unknown,
    args: ArgNode[],
    final: Final,
  ): unknown {
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    if (recv instanceof GoStruct) {
      const m = recv.methods[name];
      if (m !== undefined) {
        const argv = args.slice(1).map((a) => this.evalArg(dot, a));
        if (final !== NO_FINAL) argv.push(final);
        try {
          return m(...argv) ?? null;
        } catch (e) {
          this.fail(
            node.pos,
            describeNode(node),
            `error calling ${name}: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
      if (Object.hasOwn(recv.fields, name)) {
        if (hasArgs)
          this.fail(node.pos, describeNode(node), `${name} has arguments but cannot be invoked as function`);
        return recv.fields[name] ?? null;
      }
      this.fail(node.pos, describeNode(node), `can't evaluate field ${name} in type ${recv.typeName}`);
    }
    if (isMap(recv)) {
      if (hasArgs) this.fail(node.pos, describeNode(node), `${name} is not a method but has arguments`);
      return Object.hasOwn(recv, name) ? (recv[name] ?? null) : null;
    }
    if (recv === null || recv === undefined)
      this.fail(node.pos, describeNode(node), `nil pointer evaluating interface {}.${name}`);
    return this.fail(node.pos, describeNode(node), `can't evaluate field ${name} in type ${typeName(recv)}`);
  }

  private evalArg(dot: unknown, a: ArgNode): unknown {
    switch (a.t) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "bool":
        return a.value;
      case "str":
        return a.value;
      case "num":
        return a.int ?? a.float ?? 0;
      case "field":
        return this.evalFieldChain(dot, dot, a, a.idents, [a], NO_FINAL);
      case "var": {
        const v = this.lookupVar(a);
        return a.idents.length === 0 ? v : this.evalFieldChain(dot, v, a, a.idents, [a], NO_FINAL);
      }
      case "chain":
        return this.evalFieldChain(dot, this.evalArg(dot, a.node), a, a.idents, [a], NO_FINAL);
      case "pipe":
        return this.evalPipeline(dot, a.pipe);
      case "ident":
        return this.callFunc(dot, a, [], NO_FINAL, undefined);
    }
  }

  private callFunc(
    dot: unknown,
    ident: Extract<ArgNode, { t: "ident" }>,
    argNodes: ArgNode[],
    final: Final,
    cmd: Command | undefined,
  ): unknown {
    const name = ident.name;
    const at = cmd?.src ?? name;
    const def = this.funcs.get(name);
    if (def === undefined) {
      const p = ident.pos;
      throw new ExecError(
        `template: ${p.file}:${p.line}: function "${name}" not defined`,
        p,
        undefined,
        p,
        name,
      );
    }
    const nargs = argNodes.length + (final === NO_FINAL ? 0 : 1);
    // and / or short-circuit (Go 1.18+) and return the deciding operand.
    if (name === "and" || name === "or") {
      if (nargs < 1) this.fail(ident.pos, at, `wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown = null;
      for (const an of argNodes) {
        v = this.evalArg(dot, an);
        if (isTrue(v) === (name === "or")) return v;
      }
      if (final !== NO_FINAL) v = final;
      return v;
    }
    const { kinds, variadic, fixed } = signature(def);
    if (variadic ? nargs < fixed : nargs !== fixed) {
      this.fail(
        ident.pos,
        at,
        `wrong number of args for ${name}: want ${variadic ? "at least " : ""}${fixed} got ${nargs}`,
      );
    }
    const args: unknown[] = [];
    const all: Array<ArgNode | typeof NO_FINAL> = [...argNodes];
    if (final !== NO_FINAL) all.push(NO_FINAL);
    for (let i = 0; i < all.length; i++) {
      const an = all[i]!;
      const v = an === NO_FINAL ? final : this.evalArg(dot, an);
      const kind = kinds[Math.min(i, kinds.length - 1)]!;
      args.push(this.convert(v, kind, an === NO_FINAL ? ident : an));
    }
    try {
      const r = def.fn(args, { exec: this, pos: ident.pos });
      return r === undefined ? null : r;
    } catch (e) {
      // runaway recursion: report the innermost failure once instead of one wrapper per level
      if (e instanceof ExecError && e.message.includes("nested reference name")) throw e;
      if (e instanceof ExecError) {
        this.fail(ident.pos, at, `error calling ${name}: ${e.message}`, e.userMessage, e);
      }
      const msg = e instanceof Error ? e.message : String(e);
      this.fail(
        ident.pos,
        at,
        `error calling ${name}: ${msg}`,
        e instanceof FuncError ? e.userMessage : undefined,
      );
    }
  }

  private convert(v: unknown, kind: ParamKind, node: ArgNode): unknown {
    if (kind === "a") return v;
    const want = GO_TYPE[kind];
    if (v === null || v === undefined) {
      if (kind === "l" || kind === "m") return null;
      this.fail(node.pos, describeNode(node), `invalid value; expected ${want}`);
    }
    const ok =
      (kind === "s" && typeof v === "string") ||
      (kind === "i" && typeof v === "bigint") ||
      (kind === "f" && typeof v === "number") ||
      (kind === "b" && typeof v === "boolean") ||
      (kind === "l" && Array.isArray(v)) ||
      (kind === "m" && isMap(v));
    if (ok) return v;
    // untyped constants: an int literal fits a float64 parameter
    if (kind === "f" && typeof v === "bigint" && node.t === "num") return Number(v);
    return this.fail(
      node.pos,
      describeNode(node),
      `wrong type for value; expected ${want}; got ${typeName(v)}`,
    );
  }
}
