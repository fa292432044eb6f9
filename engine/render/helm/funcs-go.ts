/** Go text/template's predefined functions, with Go's comparison rules and errors. */
import type { FuncDef } from "./exec.ts";
import { GoStruct, formatV, isMap, isTrue, sprint, sprintf, sprintln, typeName } from "./gofmt.ts";

type Basic = "bool" | "int" | "float" | "string" | "invalid" | "other";

function basicKind(v: unknown): Basic {
  if (v === null || v === undefined) return "invalid";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "string";
  }
  return "other";
}

const BAD_COMPARISON = "incompatible types for comparison";
const BAD_COMPARISON_TYPE = "invalid type for comparison";

/** Go's eq: arg1 == any of the others; mixed basic kinds (e.g. int vs float64) are an error. */
export function goEq(a: unknown, others: readonly unknown[]): boolean {
  if (others.length === 0) throw new Error("missing argument for comparison");
  const k1 = basicKind(a);
  for (const b of others) {
    const k2 = basicKind(b);
    if (k1 !== k2) {
      if (k1 !== "invalid" && k2 !== "invalid") throw new Error(BAD_COMPARISON);
      continue;
    }
    if (k1 === "other") {
      if (Array.isArray(a) || isMap(a) || Array.isArray(b) || isMap(b))
        throw new Error(`non-comparable types ${formatV(a)}: ${typeName(a)}, ${typeName(b)}: ${formatV(b)}`);
      if (a === b) return true;
      continue;
    }
    if (k1 === "invalid" || a === b) return true;
  }
  return false;
}

function goLt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === "invalid" || k1 === "other" || k2 === "invalid" || k2 === "other")
    throw new Error(BAD_COMPARISON_TYPE);
  if (k1 !== k2) throw new Error(BAD_COMPARISON);
  if (k1 === "bool") throw new Error(BAD_COMPARISON_TYPE);
  return (a as number | bigint | string) < (b as number | bigint | string);
}

function goLen(v: unknown): bigint {
  if (typeof v === "string") return BigInt(Buffer.byteLength(v, "utf8"));
  if (Array.isArray(v) || v instanceof Uint8Array) return BigInt(v.length);
  if (isMap(v)) return BigInt(Object.keys(v).length);
  if (v instanceof GoStruct && v.mapView !== undefined) return BigInt(Object.keys(v.mapView).length);
  if (v === null || v === undefined) throw new Error("len of nil pointer");
  throw new Error(`len of type ${typeName(v)}`);
}

function indexOne(item: unknown, key: unknown): unknown {
  if (item instanceof GoStruct && item.mapView !== undefined) item = item.mapView;
  if (item === null || item === undefined) throw new Error("index of untyped nil");
  if (Array.isArray(item) || typeof item === "string" || item instanceof Uint8Array) {
    if (typeof key !== "bigint") throw new Error(`cannot index slice/array with type ${typeName(key)}`);
    const len = typeof item === "string" ? Buffer.byteLength(item) : item.length;
    if (key < 0n || key >= BigInt(len)) throw new Error(`index out of range: ${key}`);
    if (typeof item === "string") return BigInt(Buffer.from(item)[Number(key)]!);
    if (item instanceof Uint8Array) return BigInt(item[Number(key)]!);
    return item[Number(key)] ?? null;
  }
  if (isMap(item)) {
    if (typeof key !== "string") {
      if (key === null) return null;
      throw new Error(`value has type ${typeName(key)}; should be string`);
    }
    return Object.hasOwn(item, key) ? (item[key] ?? null) : null;
  }
  throw new Error(`can't index item of type ${typeName(item)}`);
}

function goSlice(item: unknown, idx: unknown[]): unknown {
  if (item === null) throw new Error("slice of untyped nil");
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  const n = (v: unknown) => {
    if (typeof v !== "bigint") throw new Error(`cannot index slice/array with type ${typeName(v)}`);
    return Number(v);
  };
  if (typeof item === "string") {
    if (idx.length === 3) throw new Error("cannot 3-index slice a string");
    const b = Buffer.from(item);
    const lo = idx[0] === undefined ? 0 : n(idx[0]);
    const hi = idx[1] === undefined ? b.length : n(idx[1]);
    if (lo < 0 || hi < lo || hi > b.length) throw new Error(`index out of range: ${hi}`);
    return b.subarray(lo, hi).toString("utf8");
  }
  if (Array.isArray(item)) {
    const lo = idx[0] === undefined ? 0 : n(idx[0]);
    const hi = idx[1] === undefined ? item.length : n(idx[1]);
    if (lo < 0 || hi < lo || hi > item.length) throw new Error(`index out of range: ${hi}`);
    return item.slice(lo, hi);
  }
  throw new Error(`can't slice item of type ${typeName(item)}`);
}

function htmlEscape(s: string): string {
  return s
    .replace(/\0/g, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/'/g, "&#39;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&#34;");
}

function jsEscape(s: string): string {
  let out = "";
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === "\\") out += "\\\\";
    else if (c === "'") out += "\\'";
    else if (c === '"') out += "\\u0022";
    else if (c === "<") out += "\\u003C";
    else if (c === ">") out += "\\u003E";
    else if (c === "&") out += "\\u0026";
    else if (c === "=") out += "\\u003D";
    else if (cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += c;
  }
  return out;
}

/** Go's evalArgs for html/js/urlquery: a single string argument is used as-is, else fmt.Sprint. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args);
}

export function goBuiltins(): Map<string, FuncDef> {
  const m = new Map<string, FuncDef>();
  const def = (name: string, sig: string, fn: FuncDef["fn"]) => m.set(name, { sig, fn });
  def("and", "a*", () => null); // evaluated lazily by the executor
  def("or", "a*", () => null);
  def("not", "a", ([a]) => !isTrue(a));
  def("len", "a", ([a]) => goLen(a));
  def("index", "a*", ([item, ...keys]) => {
    let v = item;
    for (const k of keys) v = indexOne(v, k);
    return v;
  });
  def("slice", "a*", ([item, ...idx]) => goSlice(item, idx));
  def("print", "a*", (a) => sprint(a));
  def("printf", "sa*", ([f, ...a]) => sprintf(f as string, a));
  def("println", "a*", (a) => sprintln(a));
  def("html", "a*", (a) => htmlEscape(evalArgs(a)));
  def("js", "a*", (a) => jsEscape(evalArgs(a)));
  def("urlquery", "a*", (a) => encodeURIComponent(evalArgs(a)).replace(/%20/g, "+"));
  def("call", "aa*", ([f, ...a]) => {
    if (typeof f !== "function") throw new Error(`non-function of type ${typeName(f)}`);
    return (f as (...x: unknown[]) => unknown)(...a);
  });
  def("eq", "aa*", ([a, ...b]) => goEq(a, b));
  def("ne", "aa", ([a, b]) => !goEq(a, [b]));
  def("lt", "aa", ([a, b]) => goLt(a, b));
  def("le", "aa", ([a, b]) => goLt(a, b) || goEq(a, [b]));
  def("gt", "aa", ([a, b]) => !goLt(a, b) && !goEq(a, [b]));
  def("ge", "aa", ([a, b]) => !goLt(a, b));
  return m;
}
