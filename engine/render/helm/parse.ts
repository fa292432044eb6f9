/**
 * Parser for Go's text/template language (the subset Helm charts use, which is
 * nearly all of it): actions with `{{-`/`-}}` trimming, comments, pipelines,
 * variables, if/else if/range/with/else, define/template/block, break/continue.
 * Produces an AST whose nodes carry 1-based line and Go-style 0-based column,
 * so errors read like Go's: `template: NAME:LINE:COL: ...`.
 */

export interface Pos {
  file: string;
  line: number;
  col: number;
}

export type ArgNode =
  | { t: "field"; pos: Pos; idents: string[] }
  | { t: "var"; pos: Pos; name: string; idents: string[] }
  | { t: "chain"; pos: Pos; node: ArgNode; idents: string[] }
  | { t: "ident"; pos: Pos; name: string }
  | { t: "dot"; pos: Pos }
  | { t: "nil"; pos: Pos }
  | { t: "bool"; pos: Pos; value: boolean }
  | { t: "num"; pos: Pos; text: string; int?: bigint; float?: number }
  | { t: "str"; pos: Pos; value: string }
  | { t: "pipe"; pos: Pos; pipe: Pipeline };

export interface Command {
  pos: Pos;
  args: ArgNode[];
  src: string;
}

export interface Pipeline {
  pos: Pos;
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
  src: string;
}

export type Node =
  | { t: "text"; text: string }
  | { t: "action"; pos: Pos; pipe: Pipeline }
  | { t: "if" | "with"; pos: Pos; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { t: "range"; pos: Pos; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { t: "template"; pos: Pos; name: string; pipe: Pipeline | undefined }
  | { t: "break" | "continue"; pos: Pos };

/** A parsed file: its top-level body plus the named templates it defines. */
export interface ParsedFile {
  name: string;
  root: Node[];
  defines: Map<string, Node[]>;
}

export class TemplateSyntaxError extends Error {
  constructor(
    readonly pos: Pos,
    readonly detail: string,
  ) {
    super(`template: ${pos.file}:${pos.line}: ${detail}`);
  }
}

type TokKind =
  | "field"
  | "var"
  | "ident"
  | "str"
  | "rawstr"
  | "char"
  | "num"
  | "pipe"
  | "lparen"
  | "rparen"
  | "declare"
  | "assign"
  | "comma"
  | "dot"
  | "space"
  | "end"; // end of action

interface Tok {
  k: TokKind;
  v: string;
  off: number;
}

/** One `{{ ... }}` action or a text run, before tree building. */
type Item = { kind: "text"; text: string; off: number } | { kind: "action"; toks: Tok[]; off: number };

const KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "define",
  "template",
  "block",
  "break",
  "continue",
]);

class Lexer {
  readonly items: Item[] = [];
  private lineStarts: number[] = [0];

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  pos(off: number): Pos {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: off - this.lineStarts[lo]! };
  }

  fail(off: number, msg: string): never {
    throw new TemplateSyntaxError(this.pos(off), msg);
  }

  run(): Item[] {
    const s = this.src;
    let i = 0;
    let trimNext = false;
    while (i < s.length) {
      const open = s.indexOf("{{", i);
      let text = open < 0 ? s.slice(i) : s.slice(i, open);
      if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
      if (open < 0) {
        if (text !== "") this.items.push({ kind: "text", text, off: i });
        break;
      }
      let j = open + 2;
      const trimLeft = s[j] === "-" && isSpace(s[j + 1]);
      if (trimLeft) {
        text = text.replace(/[ \t\r\n]+$/, "");
        j += 2;
      }
      if (text !== "") this.items.push({ kind: "text", text, off: i });
      // comment?
      let k = j;
      while (trimLeft && isSpace(s[k])) k++;
      if (s.startsWith("/*", trimLeft ? k : j)) {
        const start = trimLeft ? k : j;
        const close = s.indexOf("*/", start + 2);
        if (close < 0) this.fail(open, "unclosed comment");
        let e = close + 2;
        let trimRight = false;
        if (s[e] === " " && s[e + 1] === "-" && s.startsWith("}}", e + 2)) {
          trimRight = true;
          e += 2;
        } else if (isSpace(s[e])) {
          let m = e;
          while (isSpace(s[m])) m++;
          if (s[m] === "-" && s.startsWith("}}", m + 1)) {
            trimRight = true;
            e = m + 1;
          }
        }
        if (!s.startsWith("}}", e)) this.fail(close, "comment ends before closing delimiter");
        i = e + 2;
        trimNext = trimRight;
        continue;
      }
      const r = this.lexAction(j, open);
      this.items.push({ kind: "action", toks: r.toks, off: open });
      i = r.next;
      trimNext = r.trimRight;
    }
    return this.items;
  }

  private lexAction(start: number, open: number): { toks: Tok[]; next: number; trimRight: boolean } {
    const s = this.src;
    const toks: Tok[] = [];
    let i = start;
    let depth = 0;
    for (;;) {
      if (i >= s.length) this.fail(open, "unclosed action");
      const c = s[i]!;
      if (isSpace(c)) {
        let j = i;
        while (isSpace(s[j])) j++;
        if (s[j] === "-" && s.startsWith("}}", j + 1)) {
          if (depth > 0) this.fail(i, "unclosed left paren");
          toks.push({ k: "end", v: "", off: i });
          return { toks, next: j + 3, trimRight: true };
        }
        if (s.startsWith("}}", j)) {
          if (depth > 0) this.fail(i, "unclosed left paren");
          toks.push({ k: "end", v: "", off: i });
          return { toks, next: j + 2, trimRight: false };
        }
        if (s.slice(i, j).includes("\n") && depth === 0) {
          // Go allows newlines inside actions since 1.16; treat as space
        }
        toks.push({ k: "space", v: " ", off: i });
        i = j;
        continue;
      }
      if (s.startsWith("}}", i)) {
        if (depth > 0) this.fail(i, "unclosed left paren");
        toks.push({ k: "end", v: "", off: i });
        return { toks, next: i + 2, trimRight: false };
      }
      if (c === "|") {
        toks.push({ k: "pipe", v: c, off: i++ });
      } else if (c === "(") {
        depth++;
        toks.push({ k: "lparen", v: c, off: i++ });
      } else if (c === ")") {
        if (--depth < 0) this.fail(i, "unexpected right paren");
        toks.push({ k: "rparen", v: c, off: i++ });
      } else if (c === ",") {
        toks.push({ k: "comma", v: c, off: i++ });
      } else if (c === ":" && s[i + 1] === "=") {
        toks.push({ k: "declare", v: ":=", off: i });
        i += 2;
      } else if (c === "=") {
        toks.push({ k: "assign", v: "=", off: i++ });
      } else if (c === '"') {
        let j = i + 1;
        while (j < s.length && s[j] !== '"') {
          if (s[j] === "\\") j++;
          if (s[j] === "\n") this.fail(i, "unterminated quoted string");
          j++;
        }
        if (j >= s.length) this.fail(i, "unterminated quoted string");
        toks.push({ k: "str", v: s.slice(i, j + 1), off: i });
        i = j + 1;
      } else if (c === "`") {
        const j = s.indexOf("`", i + 1);
        if (j < 0) this.fail(i, "unterminated raw quoted string");
        toks.push({ k: "rawstr", v: s.slice(i + 1, j), off: i });
        i = j + 1;
      } else if (c === "'") {
        let j = i + 1;
        while (j < s.length && s[j] !== "'") {
          if (s[j] === "\\") j++;
          j++;
        }
        toks.push({ k: "char", v: s.slice(i, j + 1), off: i });
        i = j + 1;
      } else if (c === "$") {
        let j = i + 1;
        while (j < s.length && isAlnum(s[j]!)) j++;
        toks.push({ k: "var", v: s.slice(i, j), off: i });
        i = j;
      } else if (c === ".") {
        if (isDigit(s[i + 1])) {
          i = this.lexNumber(i, toks);
          continue;
        }
        let j = i + 1;
        while (j < s.length && isAlnum(s[j]!)) j++;
        toks.push(j === i + 1 ? { k: "dot", v: ".", off: i } : { k: "field", v: s.slice(i + 1, j), off: i });
        i = j;
      } else if (isDigit(c) || ((c === "-" || c === "+") && (isDigit(s[i + 1]) || s[i + 1] === "."))) {
        i = this.lexNumber(i, toks);
      } else if (isAlpha(c)) {
        let j = i;
        while (j < s.length && isAlnum(s[j]!)) j++;
        toks.push({ k: "ident", v: s.slice(i, j), off: i });
        i = j;
      } else {
        this.fail(i, `unexpected ${JSON.stringify(c)} in command`);
      }
    }
  }

  private lexNumber(i: number, toks: Tok[]): number {
    const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
      this.src.slice(i, i + 64),
    );
    const text = m?.[0] ?? "";
    if (text === "" || text === "+" || text === "-") this.fail(i, "bad number syntax");
    if (isAlnum(this.src[i + text.length] ?? " ")) this.fail(i, `bad number syntax: "${text}"`);
    toks.push({ k: "num", v: text, off: i });
    return i + text.length;
  }
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}
function isAlpha(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}
function isAlnum(c: string): boolean {
  return isAlpha(c) || isDigit(c) || c.charCodeAt(0) > 127;
}

/** Unquote a Go double-quoted or single-quoted (rune) literal. */
export function unquoteGo(lit: string): string {
  const body = lit.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case "n":
        out += "\n";
        break;
      case "t":
        out += "\t";
        break;
      case "r":
        out += "\r";
        break;
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "v":
        out += "\v";
        break;
      case "\\":
      case '"':
      case "'":
        out += n;
        break;
      case "x":
        out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case "u":
        out += String.fromCodePoint(Number.parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case "U":
        out += String.fromCodePoint(Number.parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (n !== undefined && n >= "0" && n <= "7") {
          out += String.fromCharCode(Number.parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else throw new Error(`invalid syntax ${lit}`);
    }
  }
  return out;
}

interface BlockFrame {
  kind: "if" | "range" | "with" | "define" | "root";
  node?: Extract<Node, { t: "if" | "with" | "range" }>;
  list: Node[];
  inElse: boolean;
  /** Opened by `{{else if}}`/`{{else with}}`: closes together with its outer frame at `end`. */
  chained: boolean;
  defineName?: string;
  blockOf?: { pos: Pos; name: string; pipe: Pipeline | undefined; outer: Node[] };
  openPos: Pos;
}

/** Parse one template file. */
export function parseTemplate(name: string, src: string): ParsedFile {
  const lx = new Lexer(src, name);
  const items = lx.run();
  const defines = new Map<string, Node[]>();
  const root: Node[] = [];
  const stack: BlockFrame[] = [
    { kind: "root", list: root, inElse: false, chained: false, openPos: lx.pos(0) },
  ];
  let rangeDepth = 0;
  const top = () => stack[stack.length - 1]!;
  const add = (n: Node) => {
    const f = top();
    if (f.inElse) f.node!.elseList!.push(n);
    else f.list.push(n);
  };

  for (const item of items) {
    if (item.kind === "text") {
      add({ t: "text", text: item.text });
      continue;
    }
    const p = new ActionParser(item.toks, lx, src);
    const first = p.peekNonSpace();
    const kw = first.k === "ident" && KEYWORDS.has(first.v) ? first.v : undefined;
    const pos = lx.pos(first.off);
    if (kw === undefined) {
      const pipe = p.pipeline("command", true);
      if (pipe.cmds.length === 0) lx.fail(item.off, "missing value for command");
      add({ t: "action", pos, pipe });
      continue;
    }
    p.next();
    switch (kw) {
      case "if":
      case "with":
      case "range": {
        const pipe = p.pipeline(kw, kw === "range");
        if (pipe.cmds.length === 0) lx.fail(first.off, `missing value for ${kw}`);
        const node = { t: kw, pos, pipe, list: [] as Node[], elseList: undefined as Node[] | undefined };
        add(node);
        if (kw === "range") rangeDepth++;
        stack.push({ kind: kw, node, list: node.list, inElse: false, chained: false, openPos: pos });
        break;
      }
      case "else": {
        const f = top();
        if (f.kind !== "if" && f.kind !== "with" && f.kind !== "range")
          lx.fail(first.off, "unexpected {{else}}");
        if (f.inElse) lx.fail(first.off, "expected end; found {{else}}");
        const f2 = p.peekNonSpace();
        f.node!.elseList = [];
        f.inElse = true;
        if (f2.k === "ident" && (f2.v === "if" || f2.v === "with")) {
          if (f2.v !== f.kind) lx.fail(f2.off, `unexpected {{else ${f2.v}}}`);
          p.next();
          const pipe = p.pipeline(f2.v, false);
          const kind = f2.v as "if" | "with";
          const node = { t: kind, pos: lx.pos(f2.off), pipe, list: [] as Node[], elseList: undefined };
          f.node!.elseList.push(node);
          stack.push({
            kind,
            node,
            list: node.list,
            inElse: false,
            chained: true,
            openPos: f.openPos,
          });
        } else {
          p.expectEnd("else");
        }
        break;
      }
      case "end": {
        p.expectEnd("end");
        let f = stack.pop()!;
        if (f.kind === "root") lx.fail(first.off, "unexpected {{end}}");
        while (f.chained) f = stack.pop()!;
        if (f.kind === "range") rangeDepth--;
        if (f.kind === "define") {
          defines.set(f.defineName!, f.list);
          if (f.blockOf !== undefined) {
            const b = f.blockOf;
            add({ t: "template", pos: b.pos, name: b.name, pipe: b.pipe });
          }
        }
        break;
      }
      case "define":
      case "block": {
        const nameTok = p.nextNonSpace();
        if (nameTok.k !== "str" && nameTok.k !== "rawstr")
          lx.fail(nameTok.off, `unexpected token in ${kw} clause`);
        const tname = nameTok.k === "str" ? unquoteGo(nameTok.v) : nameTok.v;
        let pipe: Pipeline | undefined;
        if (kw === "block") {
          pipe = p.pipeline("block", false);
        } else {
          p.expectEnd("define");
          if (stack.length > 1) lx.fail(first.off, "unexpected {{define}} inside a block");
        }
        const frame: BlockFrame = {
          kind: "define",
          list: [],
          inElse: false,
          chained: false,
          defineName: tname,
          openPos: pos,
        };
        if (kw === "block") frame.blockOf = { pos, name: tname, pipe, outer: top().list };
        stack.push(frame);
        break;
      }
      case "template": {
        const nameTok = p.nextNonSpace();
        if (nameTok.k !== "str" && nameTok.k !== "rawstr")
          lx.fail(nameTok.off, "unexpected token in template clause");
        const tname = nameTok.k === "str" ? unquoteGo(nameTok.v) : nameTok.v;
        const rest = p.peekNonSpace();
        const pipe = rest.k === "end" ? undefined : p.pipeline("template", false);
        add({ t: "template", pos, name: tname, pipe });
        break;
      }
      case "break":
      case "continue": {
        if (rangeDepth === 0) lx.fail(first.off, `{{${kw}}} outside {{range}}`);
        p.expectEnd(kw);
        add({ t: kw, pos });
        break;
      }
    }
  }
  if (stack.length > 1) {
    const f = top();
    throw new TemplateSyntaxError(f.openPos, `unexpected EOF (unclosed {{${f.kind}}})`);
  }
  return { name, root, defines };
}

class ActionParser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly lx: Lexer,
    private readonly src: string,
  ) {}

  peek(): Tok {
    return this.toks[this.i]!;
  }
  next(): Tok {
    return this.toks[this.i++]!;
  }
  peekNonSpace(): Tok {
    while (this.peek().k === "space") this.i++;
    return this.peek();
  }
  nextNonSpace(): Tok {
    this.peekNonSpace();
    return this.next();
  }
  expectEnd(ctx: string): void {
    const t = this.nextNonSpace();
    if (t.k !== "end") this.lx.fail(t.off, `unexpected ${describe(t)} in ${ctx}`);
  }

  /** pipeline up to `end` (top level) */
  pipeline(_ctx: string, allowMultiDecl: boolean): Pipeline {
    const start = this.peekNonSpace();
    const decl: string[] = [];
    let isAssign = false;
    // declarations: $x := / $x, $y := / $x =
    const save = this.i;
    if (start.k === "var") {
      const names = [start.v];
      this.next();
      let t = this.peekNonSpace();
      if (t.k === "comma" && allowMultiDecl) {
        this.next();
        const v2 = this.nextNonSpace();
        if (v2.k !== "var") this.lx.fail(v2.off, "expected variable after comma");
        names.push(v2.v);
        t = this.peekNonSpace();
      }
      if (t.k === "declare" || t.k === "assign") {
        this.next();
        decl.push(...names);
        isAssign = t.k === "assign";
      } else {
        this.i = save;
      }
    }
    const cmds = this.commands("end");
    const last = this.toks[this.i - 1]!;
    return {
      pos: this.lx.pos(start.off),
      decl,
      isAssign,
      cmds,
      src: this.src.slice(start.off, last.off).trim(),
    };
  }

  private commands(endKind: "end" | "rparen"): Command[] {
    const cmds: Command[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.k === endKind) {
        this.next();
        if (cmds.length > 0 && cmds[cmds.length - 1]!.args.length === 0)
          this.lx.fail(t.off, "missing command");
        return cmds;
      }
      if (t.k === "end" || t.k === "rparen") this.lx.fail(t.off, `unexpected ${describe(t)}`);
      const args: ArgNode[] = [];
      const cstart = t.off;
      for (;;) {
        const a = this.peekNonSpace();
        if (a.k === "pipe" || a.k === "end" || a.k === "rparen") break;
        args.push(this.operand());
        const after = this.peek();
        if (after.k !== "space" && after.k !== "pipe" && after.k !== "end" && after.k !== "rparen")
          this.lx.fail(after.off, `unexpected ${describe(after)} in operand`);
      }
      const endTok = this.peek();
      if (args.length === 0) this.lx.fail(endTok.off, "missing value for command");
      cmds.push({
        pos: this.lx.pos(cstart),
        args,
        src: this.src.slice(cstart, endTok.off).trim(),
      });
      if (endTok.k === "pipe") {
        this.next();
        const nt = this.peekNonSpace();
        if (nt.k === endKind) this.lx.fail(nt.off, "missing command after pipe");
      }
    }
  }

  private operand(): ArgNode {
    let node = this.term();
    const idents: string[] = [];
    while (this.peek().k === "field") idents.push(this.next().v);
    if (idents.length > 0) {
      if (node.t === "field") node = { ...node, idents: [...node.idents, ...idents] };
      else if (node.t === "var") node = { ...node, idents: [...node.idents, ...idents] };
      else if (
        node.t === "nil" ||
        node.t === "bool" ||
        node.t === "num" ||
        node.t === "str" ||
        node.t === "dot"
      )
        this.lx.fail(
          this.toks[this.i - 1]!.off,
          `unexpected . after term ${JSON.stringify(describeNode(node))}`,
        );
      else node = { t: "chain", pos: node.pos, node, idents };
    }
    return node;
  }

  private term(): ArgNode {
    const t = this.next();
    const pos = this.lx.pos(t.off);
    switch (t.k) {
      case "field":
        return { t: "field", pos, idents: [t.v] };
      case "var":
        return { t: "var", pos, name: t.v, idents: [] };
      case "dot":
        return { t: "dot", pos };
      case "str":
        try {
          return { t: "str", pos, value: unquoteGo(t.v) };
        } catch {
          return this.lx.fail(t.off, `invalid syntax: ${t.v}`);
        }
      case "rawstr":
        return { t: "str", pos, value: t.v };
      case "char": {
        const ch = unquoteGo(t.v);
        return { t: "num", pos, text: t.v, int: BigInt(ch.codePointAt(0) ?? 0) };
      }
      case "num":
        return parseNumber(t.v, pos, this.lx);
      case "lparen": {
        const start = t.off;
        const cmds = this.commands("rparen");
        const close = this.toks[this.i - 1]!;
        return {
          t: "pipe",
          pos,
          pipe: { pos, decl: [], isAssign: false, cmds, src: this.src.slice(start + 1, close.off).trim() },
        };
      }
      case "ident":
        if (t.v === "nil") return { t: "nil", pos };
        if (t.v === "true" || t.v === "false") return { t: "bool", pos, value: t.v === "true" };
        if (KEYWORDS.has(t.v)) this.lx.fail(t.off, `unexpected <${t.v}> in command`);
        return { t: "ident", pos, name: t.v };
      default:
        return this.lx.fail(t.off, `unexpected ${describe(t)} in operand`);
    }
  }
}

function parseNumber(text: string, pos: Pos, lx: Lexer): ArgNode {
  const clean = text.replace(/_/g, "");
  const neg = clean.startsWith("-");
  const body = clean.replace(/^[+-]/, "");
  if (/^0[xXbBoO]/.test(body)) {
    const v = BigInt(body.toLowerCase());
    return { t: "num", pos, text, int: neg ? -v : v };
  }
  if (/^\d+$/.test(body)) {
    // Go: leading 0 means octal
    const v = body.length > 1 && body.startsWith("0") ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
    return { t: "num", pos, text, int: neg ? -v : v };
  }
  const f = Number(clean);
  if (Number.isNaN(f)) return lx.fail(0, `bad number syntax: "${text}"`);
  return { t: "num", pos, text, float: f };
}

function describe(t: Tok): string {
  if (t.k === "end") return "<end of action>";
  if (t.k === "space") return "space";
  return `"${t.v}"`;
}

export function describeNode(n: ArgNode): string {
  switch (n.t) {
    case "field":
      return `.${n.idents.join(".")}`;
    case "var":
      return n.name + n.idents.map((i) => `.${i}`).join("");
    case "chain":
      return `(${describeNode(n.node)}).${n.idents.join(".")}`;
    case "ident":
      return n.name;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(n.value);
    case "num":
      return n.text;
    case "str":
      return JSON.stringify(n.value);
    case "pipe":
      return `(${n.pipe.src})`;
  }
}
