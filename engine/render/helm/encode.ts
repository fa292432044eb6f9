/**
 * toYaml / toJson as Helm produces them: sigs.k8s.io/yaml marshals through JSON
 * (so whole floats become ints, structs use their json names) and then emits YAML
 * with go-yaml v2's rules: keys in its natural sort order, strings that would read
 * back as another type double-quoted, strings that cannot be plain single-quoted,
 * multi-line strings as literal blocks, plain scalars folded past column 80.
 */
import { GoStruct, formatFloatG, isMap } from "./gofmt.ts";

type Json = null | boolean | string | bigint | { float: number } | Json[] | { [k: string]: Json };

function isFloatBox(v: Json): v is { float: number } {
  return (
    v !== null && typeof v === "object" && !Array.isArray(v) && "float" in v && typeof v.float === "number"
  );
}

/** Go value -> JSON data model (what json.Marshal sees), then as YAML reads that JSON back. */
function toJsonModel(v: unknown): Json {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
    case "bigint":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${formatFloatG(v)}`);
      if (Number.isInteger(v) && Math.abs(v) < 9.2e18) return BigInt(v);
      return { float: v };
    case "function":
      throw new Error("json: unsupported type: func");
  }
  if (Array.isArray(v)) return v.map(toJsonModel);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (v instanceof GoStruct) {
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v.fields)) {
      // json tags are the lower-camel field names, with omitempty
      if (x === null || x === undefined || x === "" || x === false || (Array.isArray(x) && x.length === 0))
        continue;
      o[k === "APIVersion" ? "apiVersion" : k.charAt(0).toLowerCase() + k.slice(1)] = toJsonModel(x);
    }
    return o;
  }
  const o: { [k: string]: Json } = {};
  if (isMap(v)) for (const k of Object.keys(v)) o[k] = toJsonModel(v[k]);
  return o;
}

/** go-yaml v2 keyList.Less: letters after non-letters, digit runs compared numerically. */
export function yamlKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  const isLetter = (c: string) => /\p{L}/u.test(c);
  const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]! < br[i]!;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ar[i] === "0" || br[i] === "0") {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== "0") {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10n + BigInt(ar[ai]!.charCodeAt(0) - 48);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10n + BigInt(br[bi]!.charCodeAt(0) - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]! < br[i]!;
  }
  return ar.length < br.length;
}

function sortKeys(keys: string[]): string[] {
  return keys.sort((x, y) => (yamlKeyLess(x, y) ? -1 : yamlKeyLess(y, x) ? 1 : 0));
}

const BOOL_RE = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const NULL_RE = /^(~|null|Null|NULL|)$/;
const FLOAT_RE = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const SPECIAL_FLOAT_RE = /^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
const INT_RE = /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$/;
const BASE60_RE = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP_RE =
  /^\d{4}-\d{1,2}-\d{1,2}(([Tt]| +)\d{1,2}:\d{1,2}:\d{1,2}(\.\d*)?(Z|[-+]\d{1,2}(:\d{2})?)?)?$/;

/** Would go-yaml v2 read this plain scalar as something other than a string? */
export function resolvesNonString(s: string): boolean {
  return (
    NULL_RE.test(s) ||
    BOOL_RE.test(s) ||
    INT_RE.test(s) ||
    FLOAT_RE.test(s) ||
    SPECIAL_FLOAT_RE.test(s) ||
    BASE60_RE.test(s) ||
    TIMESTAMP_RE.test(s) ||
    s === "<<"
  );
}

function isYamlPrintable(cp: number): boolean {
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    cp === 0x85 ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

interface Analysis {
  plain: boolean;
  single: boolean;
  block: boolean;
}

/** libyaml's yaml_emitter_analyze_scalar (block context). */
function analyze(s: string): Analysis {
  const r: Analysis = { plain: true, single: true, block: true };
  if (s === "") return { plain: false, single: true, block: false };
  if (/^(---|\.\.\.)([\s]|$)/.test(s)) r.plain = false;
  const chars = [...s];
  let special = false;
  let lineBreaks = false;
  let spaceBreak = false;
  let breakSpace = false;
  let blockIndicators = false;
  let prevSpace = false;
  let prevBreak = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    const followedByBlank =
      next === undefined || next === " " || next === "\t" || next === "\n" || next === "\r";
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(c)) blockIndicators = true;
      if ((c === "?" || c === ":" || c === "-") && followedByBlank) blockIndicators = true;
    } else {
      if (c === ":" && followedByBlank) blockIndicators = true;
      if (c === "#" && (chars[i - 1] === " " || chars[i - 1] === "\t")) blockIndicators = true;
    }
    const cp = c.codePointAt(0)!;
    if (!isYamlPrintable(cp) || cp === 0xfeff) special = true;
    const isBreak = c === "\n" || c === "\r" || cp === 0x85 || cp === 0x2028 || cp === 0x2029;
    if (isBreak) lineBreaks = true;
    if (c === " ") {
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak) {
      if (prevSpace) spaceBreak = true;
      prevBreak = true;
      prevSpace = false;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
  }
  const leadingSpace = chars[0] === " ";
  const leadingBreak = chars[0] === "\n";
  const trailingSpace = chars[chars.length - 1] === " ";
  const trailingBreak = chars[chars.length - 1] === "\n";
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) r.plain = false;
  if (trailingSpace) r.block = false;
  if (breakSpace) {
    r.plain = false;
    r.single = false;
  }
  if (spaceBreak || special) {
    r.plain = false;
    r.single = false;
    r.block = false;
  }
  if (lineBreaks) r.plain = false;
  if (blockIndicators) r.plain = false;
  return r;
}

const BEST_WIDTH = 80;

/** Write text with go-yaml's folding at spaces once past column 80. */
function fold(s: string, startCol: number, indent: number, kind: "plain" | "single" | "double"): string {
  let out = "";
  let col = startCol;
  let spaces = false;
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === " ") {
      const nextSpace = chars[i + 1] === " ";
      let brk = !spaces && col > BEST_WIDTH;
      if (kind === "plain" || kind === "single") brk = brk && !nextSpace;
      if (kind !== "plain") brk = brk && i > 0 && i < chars.length - 1;
      if (brk) {
        out += `\n${" ".repeat(indent)}`;
        col = indent;
        if (kind === "double" && nextSpace) {
          out += "\\";
          col++;
        }
      } else {
        out += c;
        col++;
      }
      spaces = true;
    } else {
      out += c;
      col += c.length > 1 && kind === "double" ? 1 : c.length;
      spaces = false;
    }
  }
  return out;
}

function doubleQuote(s: string): string {
  let out = "";
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    const isBreak = c === "\n" || c === "\r" || cp === 0x85 || cp === 0x2028 || cp === 0x2029;
    if (!isYamlPrintable(cp) || cp === 0xfeff || isBreak || c === '"' || c === "\\") {
      const esc: Record<number, string> = {
        0: "0",
        7: "a",
        8: "b",
        9: "t",
        10: "n",
        11: "v",
        12: "f",
        13: "r",
        27: "e",
        34: '"',
        92: "\\",
        133: "N",
        160: "_",
        8232: "L",
        8233: "P",
      };
      const e = esc[cp];
      if (e !== undefined) out += `\\${e}`;
      else if (cp <= 0xff) out += `\\x${cp.toString(16).toUpperCase().padStart(2, "0")}`;
      else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).toUpperCase().padStart(8, "0")}`;
    } else out += c;
  }
  return out;
}

/**
 * A string scalar as go-yaml v2 writes it. `col` is where it starts, `indent` the
 * indentation of continuation lines / block content; keys pass `key: true`.
 */
export function yamlString(s: string, col: number, indent: number, key = false): string {
  const a = analyze(s);
  const wantLiteral = s.includes("\n") && !key;
  if (wantLiteral && a.block) {
    let chomp = "";
    if (!s.endsWith("\n")) chomp = "-";
    else if (s.length === 1 || s.endsWith("\n\n")) chomp = "+";
    const indicator = s.startsWith(" ") || s.startsWith("\n") ? "2" : "";
    const body = s.endsWith("\n") ? s.slice(0, -1) : s;
    const lines = body.split("\n").map((l) => (l === "" ? "" : " ".repeat(indent) + l));
    return `|${indicator}${chomp}\n${lines.join("\n")}`;
  }
  const nonString = resolvesNonString(s);
  if (!wantLiteral && !nonString && a.plain) return key ? s : fold(s, col, indent, "plain");
  if (!wantLiteral && !nonString && a.single) {
    const q = `'${s.replace(/'/g, "''")}'`;
    return key ? q : fold(q, col, indent, "single");
  }
  const q = `"${doubleQuote(s)}"`;
  return key ? q : fold(q, col, indent, "double");
}

function scalar(v: Json, col: number, indent: number): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return yamlString(v, col, indent);
  if (isFloatBox(v)) return formatFloatG(v.float);
  return Array.isArray(v) ? "[]" : "{}";
}

function isBlockCollection(v: Json): boolean {
  if (v === null || typeof v !== "object" || isFloatBox(v)) return false;
  return Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0;
}

function blockLines(v: Json, indent: number, out: string[]): void {
  const pad = " ".repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isBlockCollection(item)) {
        const sub: string[] = [];
        blockLines(item, indent + 2, sub);
        sub[0] = `${pad}- ${sub[0]!.slice(indent + 2)}`;
        out.push(...sub);
      } else out.push(`${pad}- ${scalar(item, indent + 2, indent + 2)}`);
    }
    return;
  }
  const m = v as { [k: string]: Json };
  for (const k of sortKeys(Object.keys(m))) {
    const val = m[k]!;
    const ks = yamlString(k, indent, indent, true);
    if (isBlockCollection(val)) {
      out.push(`${pad}${ks}:`);
      blockLines(val, Array.isArray(val) ? indent : indent + 2, out);
    } else out.push(`${pad}${ks}: ${scalar(val, indent + ks.length + 2, indent + 2)}`);
  }
}

/** yaml.Marshal (sigs.k8s.io/yaml) of a Go value; ends with a newline. */
export function marshalYaml(v: unknown): string {
  const j = toJsonModel(v);
  if (!isBlockCollection(j)) return `${scalar(j, 0, 2)}\n`;
  const lines: string[] = [];
  blockLines(j, 0, lines);
  return `${lines.join("\n")}\n`;
}

function jsonString(s: string, escapeHtml: boolean): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (
      cp < 0x20 ||
      cp === 0x2028 ||
      cp === 0x2029 ||
      (escapeHtml && (c === "<" || c === ">" || c === "&"))
    )
      out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

/** encoding/json Marshal (keys sorted); `indent` gives MarshalIndent("", indent). */
export function marshalJson(v: unknown, opts: { escapeHtml?: boolean; indent?: string } = {}): string {
  const esc = opts.escapeHtml ?? true;
  const step = opts.indent;
  const enc = (x: Json, depth: number): string => {
    if (x === null) return "null";
    if (typeof x === "boolean") return x ? "true" : "false";
    if (typeof x === "bigint") return x.toString();
    if (typeof x === "string") return jsonString(x, esc);
    if (isFloatBox(x)) return String(x.float);
    const nl = step === undefined ? "" : `\n${step.repeat(depth + 1)}`;
    const end = step === undefined ? "" : `\n${step.repeat(depth)}`;
    if (Array.isArray(x)) {
      if (x.length === 0) return "[]";
      return `[${x.map((e) => nl + enc(e, depth + 1)).join(",")}${end}]`;
    }
    const keys = Object.keys(x).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (keys.length === 0) return "{}";
    const sep = step === undefined ? ":" : ": ";
    return `{${keys.map((k) => nl + jsonString(k, esc) + sep + enc(x[k]!, depth + 1)).join(",")}${end}}`;
  };
  return enc(toJsonModel(v), 0);
}
