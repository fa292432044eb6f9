/**
 * A fast path for the YAML that chart templates usually produce: block maps and sequences,
 * single-line plain / quoted scalars, literal blocks, `{}` and `[]`. Anything outside that
 * subset (anchors, tags, flow collections, folded or multi-line scalars, numbers in unusual
 * notations, non-string keys) returns undefined and the caller falls back to the full parser,
 * so results are always the ones the `yaml` package gives with Helm's YAML 1.1 rules.
 */

/** Thrown (one shared instance, no stack) when the text leaves the subset. */
const BAIL = { bail: true } as const;

interface Line {
  indent: number;
  text: string;
}

const NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const TRUES = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"]);
const FALSES = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"]);

function plainScalar(s: string): unknown {
  if (NULLS.has(s)) return null;
  if (TRUES.has(s)) return true;
  if (FALSES.has(s)) return false;
  const c = s.charCodeAt(0);
  const numberish = (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46;
  if (numberish) {
    if (/^-?(0|[1-9][0-9]{0,14})$/.test(s)) return Number(s);
    if (/^-?(0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/.test(s)) return Number(s);
    if (/^[0-9]+(\.[0-9]+){2,}$/.test(s)) return s;
    // a version with a suffix ("3.9.0-fix", "1.2-rc.1"): a dot before the dash, a letter after it
    if (/^[0-9]+(\.[0-9]+)+-[0-9A-Za-z.-]*[A-Za-z][0-9A-Za-z.-]*$/.test(s)) return s;
    if (/^[1-9][0-9]*[a-df-wyzA-DF-WYZ%][0-9a-zA-Z%]*$/.test(s)) return s;
    // hashes and the like: a letter no YAML 1.1 number can contain, and no 0x/0b/0o prefix
    if (/^[0-9][0-9a-zA-Z]*$/.test(s) && /[a-df-wyzA-DF-WYZ]/.test(s) && !/^0[xXbBoO]/.test(s)) return s;
    if (c === 45 && s.length > 1 && !/[0-9.]/.test(s[1]!)) return checkPlain(s);
    throw BAIL;
  }
  return checkPlain(s);
}

function checkPlain(s: string): string {
  if (/^[&*!|>'"%@`{}[\],?#]/.test(s) || s.startsWith("- ") || s === "-") throw BAIL;
  if (s.includes(": ") || s.endsWith(":") || s.includes(" #") || s.includes("\t")) throw BAIL;
  if (s === "<<" || /^\.(inf|Inf|INF|nan|NaN|NAN)$/.test(s)) throw BAIL;
  return s;
}

function doubleQuoted(body: string): string {
  if (!body.includes("\\")) return body;
  return body.replace(/\\(.)/g, (_m, c: string) => {
    switch (c) {
      case "\\":
        return "\\";
      case '"':
        return '"';
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "/":
        return "/";
      case "0":
        return "\0";
      default:
        throw BAIL;
    }
  });
}

/** A scalar value text (after `key: ` or `- `), comments already allowed after quotes. */
function scalar(text: string): unknown {
  const c = text[0];
  if (c === '"') {
    const end = findClose(text, '"');
    return doubleQuoted(text.slice(1, end));
  }
  if (c === "'") {
    const end = findClose(text, "'");
    return text.slice(1, end).replace(/''/g, "'");
  }
  if (text === "{}") return {};
  if (text === "[]") return [];
  const hash = text.indexOf(" #");
  const v = hash >= 0 ? text.slice(0, hash).trimEnd() : text;
  return plainScalar(v);
}

/** Index of the closing quote; only a comment may follow it. */
function findClose(text: string, q: string): number {
  let i = 1;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (q === '"' && ch === "\\") {
      i++;
      continue;
    }
    if (ch === q) {
      if (q === "'" && text[i + 1] === "'") {
        i++;
        continue;
      }
      break;
    }
  }
  if (i >= text.length) throw BAIL;
  const rest = text.slice(i + 1).trim();
  if (rest !== "" && !rest.startsWith("#")) throw BAIL;
  if (rest.startsWith("#") && !/^\s/.test(text.slice(i + 1))) throw BAIL;
  return i;
}

/** Split `key: value` / `key:`; undefined when the text is not a mapping entry. */
function splitKey(text: string): { key: string; rest: string } | undefined {
  if (text[0] === '"' || text[0] === "'") {
    const q = text[0];
    let i = 1;
    for (; i < text.length; i++) {
      if (q === '"' && text[i] === "\\") {
        i++;
        continue;
      }
      if (text[i] === q) {
        if (q === "'" && text[i + 1] === "'") {
          i++;
          continue;
        }
        break;
      }
    }
    if (text[i + 1] !== ":" || (text.length > i + 2 && text[i + 2] !== " ")) return undefined;
    const raw = text.slice(1, i);
    const key = q === '"' ? doubleQuoted(raw) : raw.replace(/''/g, "'");
    return { key, rest: text.slice(i + 2).trim() };
  }
  let idx = text.indexOf(": ");
  if (idx < 0 && text.endsWith(":")) idx = text.length - 1;
  if (idx < 0) return undefined;
  const key = text.slice(0, idx);
  if (key.includes(" #") || /^[&*!|>%@`{}[\],?#-]/.test(key) || key.includes("\t")) throw BAIL;
  const k = plainScalar(key);
  if (typeof k !== "string") throw BAIL;
  return { key: k, rest: text.slice(idx + 1).trim() };
}

class FastParser {
  private i = 0;
  /** The line peek() last answered and its index (a line is peeked several times before it is consumed). */
  private peeked: Line | undefined;
  private peekedAt = -1;
  constructor(private readonly raw: string[]) {}

  /** Next meaningful line (skips blanks and comment lines). */
  private peek(): Line | undefined {
    if (this.peekedAt === this.i) return this.peeked;
    const l = this.scan();
    this.peeked = l;
    this.peekedAt = this.i;
    return l;
  }

  private scan(): Line | undefined {
    while (this.i < this.raw.length) {
      const r = this.raw[this.i]!;
      let ind = 0;
      while (r.charCodeAt(ind) === 32) ind++;
      if (ind === r.length) {
        this.i++;
        continue;
      }
      if (r[ind] === "\t") throw BAIL;
      if (r[ind] === "#") {
        this.i++;
        continue;
      }
      const text = r.slice(ind).trimEnd();
      if (ind === 0 && (text.startsWith("---") || text.startsWith("...") || text.startsWith("%"))) throw BAIL;
      return { indent: ind, text };
    }
    return undefined;
  }

  parseDocument(): { value: unknown } {
    const first = this.peek();
    if (first === undefined) return { value: null };
    const value = this.node(first.indent);
    if (this.peek() !== undefined) throw BAIL;
    return { value };
  }

  private isSeqItem(t: string): boolean {
    return t === "-" || t.startsWith("- ");
  }

  private node(indent: number): unknown {
    const l = this.peek()!;
    if (l.indent !== indent) throw BAIL;
    if (this.isSeqItem(l.text)) return this.seq(indent);
    if (splitKey(l.text) === undefined) throw BAIL;
    return this.map(indent);
  }

  private map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const l = this.peek();
      if (l === undefined || l.indent < indent) return out;
      if (l.indent > indent || this.isSeqItem(l.text)) throw BAIL;
      const kv = splitKey(l.text);
      if (kv === undefined || Object.hasOwn(out, kv.key) || kv.key === "__proto__") throw BAIL;
      this.i++;
      out[kv.key] = this.value(kv.rest, indent, true);
    }
  }

  private seq(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const l = this.peek();
      if (l === undefined || l.indent < indent) return out;
      if (l.indent > indent) throw BAIL;
      if (!this.isSeqItem(l.text)) return out;
      const rest = l.text === "-" ? "" : l.text.slice(2);
      const trimmed = rest.trimStart();
      const col = indent + 2 + (rest.length - trimmed.length);
      if (
        trimmed !== "" &&
        !trimmed.startsWith("#") &&
        !trimmed.startsWith("|") &&
        splitKey(trimmed) !== undefined
      ) {
        // a map starting on the item's line: re-read this line at the item's column
        this.raw[this.i] = " ".repeat(col) + trimmed;
        this.peekedAt = -1;
        out.push(this.map(col));
        continue;
      }
      if (this.isSeqItem(trimmed)) throw BAIL;
      this.i++;
      out.push(this.value(trimmed, indent, false));
    }
  }

  /** The value after `key:` or `-` on a line at `indent`. */
  private value(rest: string, indent: number, inMap: boolean): unknown {
    if (rest === "" || rest.startsWith("#")) {
      const n = this.peek();
      if (n === undefined) return null;
      if (n.indent > indent) return this.node(n.indent);
      if (inMap && n.indent === indent && this.isSeqItem(n.text)) return this.seq(indent);
      return null;
    }
    if (rest[0] === "|") return this.literal(rest, indent);
    const v = scalar(rest);
    const n = this.peek();
    if (n !== undefined && n.indent > indent) throw BAIL; // multi-line scalar
    return v;
  }

  private literal(header: string, indent: number): string {
    const m = /^\|([-+]?)\s*(#.*)?$/.exec(header);
    if (!m) throw BAIL;
    const chomp = m[1];
    const lines: string[] = [];
    let blockIndent = -1;
    while (this.i < this.raw.length) {
      const r = this.raw[this.i]!;
      const content = r.trimStart();
      const ind = r.length - content.length;
      if (content === "") {
        lines.push(blockIndent >= 0 && r.length > blockIndent ? r.slice(blockIndent) : "");
        this.i++;
        continue;
      }
      if (blockIndent < 0) {
        if (ind <= indent) break;
        blockIndent = ind;
      }
      if (ind < blockIndent) {
        if (ind > indent) throw BAIL;
        break;
      }
      if (r.includes("\t")) throw BAIL;
      lines.push(r.slice(blockIndent));
      this.i++;
    }
    if (blockIndent < 0) {
      if (lines.some((l) => l !== "")) throw BAIL;
      return "";
    }
    let end = lines.length;
    while (end > 0 && lines[end - 1] === "") end--;
    const body = lines.slice(0, end).join("\n");
    if (body === "") throw BAIL;
    if (chomp === "-") return body;
    if (chomp === "+") return `${lines.join("\n")}\n`;
    return `${body}\n`;
  }
}

/** Parse `text` if it is inside the simple subset; undefined means "use the full parser". */
export function parseSimpleYaml(text: string): { value: unknown } | undefined {
  if (text.includes("\r") || text.includes("\t")) return undefined;
  try {
    return new FastParser(text.split("\n")).parseDocument();
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}
