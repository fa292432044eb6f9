/**
 * The Go value model of the template engine and Go's fmt rules for it.
 *
 * Values: string, boolean, bigint (Go int/int64: template literals, --set numbers, len, sprig
 * arithmetic), number (float64: every number read from YAML values, as Helm reads them through
 * JSON), null (nil), arrays ([]interface{}), plain objects (map[string]interface{}),
 * Uint8Array ([]byte) and GoStruct (typed structs with fields and methods: .Chart, .Capabilities,
 * .Files).
 */

export type GoMethod = (...args: unknown[]) => unknown;

export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Record<string, unknown>,
    readonly methods: Record<string, GoMethod> = {},
    /** fmt.Stringer: what `{{ . }}` / %v print, when the Go type has a String method. */
    readonly stringer?: () => string,
    /** Map-typed Go values with methods (Helm's Files): what range / len / index see. */
    readonly mapView?: GoMap,
  ) {}
}

export type GoMap = Record<string, unknown>;

export function isMap(v: unknown): v is GoMap {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    !(v instanceof GoStruct) &&
    !(v instanceof Uint8Array)
  );
}

/** Go's `%T` (as Helm's values show it). */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  switch (typeof v) {
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float64";
    case "function":
      return "func(...interface {}) (interface {}, error)";
  }
  if (Array.isArray(v)) return "[]interface {}";
  if (v instanceof Uint8Array) return "[]uint8";
  if (v instanceof GoStruct) return v.typeName;
  return "map[string]interface {}";
}

/** reflect.Kind name (sprig's kindOf / kindIs). */
export function kindName(v: unknown): string {
  if (v === null || v === undefined) return "invalid";
  switch (typeof v) {
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float64";
    case "function":
      return "func";
  }
  if (Array.isArray(v) || v instanceof Uint8Array) return "slice";
  if (v instanceof GoStruct) return v.typeName.startsWith("*") ? "ptr" : "struct";
  return "map";
}

/** Go's truth: false, 0, nil, and empty string/slice/map are false; structs are true. */
export function isTrue(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    case "string":
      return v.length > 0;
    case "function":
      return true;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Uint8Array) return v.length > 0;
  if (v instanceof GoStruct) return true;
  return Object.keys(v as object).length > 0;
}

/** Decimal digits and decimal-point position of the shortest representation of |f|. */
function shortestDigits(f: number, precision?: number): { digits: string; dp: number } {
  if (precision === undefined && Number.isInteger(f) && Math.abs(f) < 1e21) {
    const s = String(Math.abs(f));
    return { digits: s.replace(/0+$/, "") || "0", dp: s.length };
  }
  const e = precision === undefined ? Math.abs(f).toExponential() : Math.abs(f).toExponential(precision - 1);
  const [mant, exp] = e.split("e") as [string, string];
  let digits = mant.replace(".", "");
  digits = digits.replace(/0+$/, "");
  if (digits === "") digits = "0";
  return { digits, dp: Number(exp) + 1 };
}

function expForm(digits: string, dp: number, prec: number | undefined): string {
  let m = digits[0]!;
  const rest = prec === undefined ? digits.slice(1) : digits.slice(1).padEnd(prec, "0");
  if (rest !== "") m += `.${rest}`;
  const x = digits === "0" ? 0 : dp - 1;
  return `${m}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
}

function fixedForm(digits: string, dp: number): string {
  if (dp <= 0) return `0.${"0".repeat(-dp)}${digits}`;
  if (dp >= digits.length) return digits + "0".repeat(dp - digits.length);
  return `${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** strconv.FormatFloat(f, 'g', prec, 64): %v uses the shortest representation. */
export function formatFloatG(f: number, prec?: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Number.POSITIVE_INFINITY) return "+Inf";
  if (f === Number.NEGATIVE_INFINITY) return "-Inf";
  const sign = f < 0 || Object.is(f, -0) ? "-" : "";
  if (f === 0) return `${sign}0`;
  const p = prec === 0 ? 1 : prec;
  const { digits, dp } = shortestDigits(f, p);
  let eprec = p ?? 6;
  if (p !== undefined && eprec > digits.length && digits.length >= dp) eprec = digits.length;
  if (p === undefined) eprec = 6;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) return sign + expForm(digits, dp, undefined);
  return sign + fixedForm(digits, dp);
}

/** %.Nf with Go's rounding: the exact binary value, ties to even. */
export function toFixedGo(a: number, prec: number): string {
  if (a >= 1e21 || prec > 60) return a.toFixed(Math.min(prec, 100));
  const exact = a.toFixed(Math.min(100, prec + 40));
  const dot = exact.indexOf(".");
  const keep = exact.slice(0, dot + 1 + prec).replace(/\.$/, "");
  const rest = exact.slice(dot + 1 + prec);
  const first = rest[0] ?? "0";
  const tail = rest.slice(1);
  let roundUp = first > "5" || (first === "5" && /[1-9]/.test(tail));
  if (first === "5" && !/[1-9]/.test(tail)) {
    const last = keep.replace(".", "").slice(-1);
    roundUp = Number(last) % 2 === 1;
  }
  if (!roundUp) return keep;
  const digits = keep.replace(".", "");
  const inc = (BigInt(digits) + 1n).toString().padStart(digits.length, "0");
  if (prec === 0) return inc;
  return `${inc.slice(0, inc.length - prec)}.${inc.slice(inc.length - prec)}`;
}

/** %e with precision (default 6). */
export function formatFloatE(f: number, prec = 6): string {
  if (!Number.isFinite(f)) return formatFloatG(f);
  const s = f.toExponential(prec);
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

/** Go %v of any value (fmt.Sprint rules); `<nil>` for nil. */
export function formatV(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return formatFloatG(v);
    case "function":
      return "0x1";
  }
  if (Array.isArray(v)) return `[${v.map(formatV).join(" ")}]`;
  if (v instanceof Uint8Array) return `[${Array.from(v).join(" ")}]`;
  if (v instanceof GoStruct) {
    if (v.stringer) return v.stringer();
    const body = Object.values(v.fields).map(formatV).join(" ");
    return v.typeName.startsWith("*") ? `&{${body}}` : `{${body}}`;
  }
  const m = v as GoMap;
  return `map[${Object.keys(m)
    .sort(compareStrings)
    .map((k) => `${k}:${formatV(m[k])}`)
    .join(" ")}]`;
}

/** Byte-order string comparison (Go's sort.Strings). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How a template action prints its value: nil prints `<no value>` (Helm then blanks it). */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return "<no value>";
  return formatV(v);
}

function isPrintable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  if (cp === 0xad || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff) return false;
  if (cp >= 0xd800 && cp < 0xe000) return false;
  return true;
}

/** strconv.Quote. */
export function quoteGo(s: string, q = '"'): string {
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q || ch === "\\") {
      out += `\\${ch}`;
      continue;
    }
    if (isPrintable(cp)) {
      out += ch;
      continue;
    }
    switch (ch) {
      case "\x07":
        out += "\\a";
        break;
      case "\b":
        out += "\\b";
        break;
      case "\f":
        out += "\\f";
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      case "\v":
        out += "\\v";
        break;
      default:
        if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, "0")}`;
        else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
        else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return out + q;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width: number | undefined;
  prec: number | undefined;
  verb: string;
}

function bad(spec: Spec, v: unknown): string {
  if (v === null || v === undefined) return `%!${spec.verb}(<nil>)`;
  return `%!${spec.verb}(${typeName(v)}=${formatV(v)})`;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  if (spec.minus) return s.padEnd(spec.width, " ");
  if (spec.zero && numeric) {
    const sign = /^[+-]/.test(s) ? s[0]! : "";
    return sign + s.slice(sign.length).padStart(spec.width - sign.length, "0");
  }
  return s.padStart(spec.width, " ");
}

function withSign(s: string, neg: boolean, spec: Spec): string {
  if (neg) return `-${s}`;
  if (spec.plus) return `+${s}`;
  if (spec.space) return ` ${s}`;
  return s;
}

function fmtInt(n: bigint, spec: Spec): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let s: string;
  switch (spec.verb) {
    case "d":
    case "v":
      s = a.toString();
      break;
    case "x":
      s = (spec.sharp ? "0x" : "") + a.toString(16);
      break;
    case "X":
      s = (spec.sharp ? "0X" : "") + a.toString(16).toUpperCase();
      break;
    case "o":
      s = (spec.sharp ? "0" : "") + a.toString(8);
      break;
    case "O":
      s = `0o${a.toString(8)}`;
      break;
    case "b":
      s = a.toString(2);
      break;
    case "c":
      return pad(String.fromCodePoint(Number(n)), spec, false);
    case "q":
      return pad(quoteGo(String.fromCodePoint(Number(n)), "'"), spec, false);
    case "U":
      return pad(`U+${a.toString(16).toUpperCase().padStart(4, "0")}`, spec, false);
    default:
      return bad(spec, n);
  }
  if (spec.prec !== undefined) s = s.padStart(spec.prec, "0");
  return pad(withSign(s, neg, spec), spec, spec.prec === undefined);
}

function fmtFloat(f: number, spec: Spec): string {
  const neg = f < 0 || Object.is(f, -0);
  const a = Math.abs(f);
  let s: string;
  switch (spec.verb) {
    case "v":
    case "g":
      s = formatFloatG(a, spec.prec);
      break;
    case "G":
      s = formatFloatG(a, spec.prec).toUpperCase();
      break;
    case "f":
    case "F":
      s = Number.isFinite(a) ? toFixedGo(a, spec.prec ?? 6) : formatFloatG(a);
      break;
    case "e":
      s = formatFloatE(a, spec.prec ?? 6);
      break;
    case "E":
      s = formatFloatE(a, spec.prec ?? 6).toUpperCase();
      break;
    default:
      return bad(spec, f);
  }
  if (s === "NaN") return pad(s, spec, false);
  return pad(withSign(s, neg, spec), spec, true);
}

function fmtString(s: string, spec: Spec): string {
  switch (spec.verb) {
    case "s":
    case "v":
      return pad(spec.prec === undefined ? s : [...s].slice(0, spec.prec).join(""), spec, false);
    case "q":
      return pad(spec.sharp && !s.includes("`") ? `\`${s}\`` : quoteGo(s), spec, false);
    case "x":
    case "X": {
      let h = Buffer.from(s, "utf8").toString("hex");
      if (spec.verb === "X") h = h.toUpperCase();
      return pad(h, spec, false);
    }
    default:
      return bad(spec, s);
  }
}

/** Format one argument with one verb. */
export function formatArg(v: unknown, spec: Spec): string {
  if (spec.verb === "T") return pad(typeName(v), spec, false);
  if (v === null || v === undefined) {
    return spec.verb === "v" || spec.verb === "s" ? pad("<nil>", spec, false) : bad(spec, v);
  }
  switch (typeof v) {
    case "string":
      return fmtString(v, spec);
    case "bigint":
      return fmtInt(v, spec);
    case "number":
      return fmtFloat(v, spec);
    case "boolean":
      return spec.verb === "t" || spec.verb === "v" ? pad(String(v), spec, false) : bad(spec, v);
  }
  if (Array.isArray(v)) {
    return pad(`[${v.map((x) => formatArg(x, { ...spec, width: undefined })).join(" ")}]`, spec, false);
  }
  if (v instanceof Uint8Array) {
    if (spec.verb === "s") return pad(Buffer.from(v).toString("utf8"), spec, false);
    if (spec.verb === "x") return pad(Buffer.from(v).toString("hex"), spec, false);
    return pad(formatV(v), spec, false);
  }
  if (v instanceof GoStruct) return pad(formatV(v), spec, false);
  if (typeof v === "function") return pad(formatV(v), spec, false);
  const m = v as GoMap;
  const inner = { ...spec, width: undefined };
  return pad(
    `map[${Object.keys(m)
      .sort(compareStrings)
      .map((k) => `${formatArg(k, inner)}:${formatArg(m[k], inner)}`)
      .join(" ")}]`,
    spec,
    false,
  );
}

/** fmt.Sprintf with Go's verbs, flags, width and precision, and its error notation. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = {
      minus: false,
      plus: false,
      sharp: false,
      zero: false,
      space: false,
      width: undefined,
      prec: undefined,
      verb: "",
    };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === "-") spec.minus = true;
      else if (c === "+") spec.plus = true;
      else if (c === "#") spec.sharp = true;
      else if (c === "0") spec.zero = !spec.minus;
      else if (c === " ") spec.space = true;
      else break;
    }
    const takeNum = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const a = args[argi++];
        return typeof a === "bigint" ? Number(a) : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = takeNum();
    if (format[i] === ".") {
      i++;
      spec.prec = takeNum() ?? 0;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += "%!(NOVERB)";
      break;
    }
    i++;
    spec.verb = verb;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argi++], spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => (a === null ? "<nil>" : `${typeName(a)}=${formatV(a)}`))
      .join(", ")})`;
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((a, idx) => {
    if (idx > 0 && typeof a !== "string" && typeof args[idx - 1] !== "string") out += " ";
    out += formatV(a);
  });
  return out;
}

/** fmt.Sprintln: always spaces, trailing newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map(formatV).join(" ")}\n`;
}
