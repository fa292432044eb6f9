/**
 * Sprig's functions as Helm ships them (env/expandenv removed), plus Helm's own:
 * include, tpl, required, fail, toYaml, fromYaml, toJson, fromJson, lookup.
 * Time and randomness come from the injected Clock and Rng.
 */
import { createHash } from "node:crypto";
import semver from "semver";
import type { Clock } from "../../core/clock.ts";
import type { Rng } from "../../core/rng.ts";
import { FuncError, type Executor, type FuncDef } from "./exec.ts";
import { marshalJson, marshalYaml } from "./encode.ts";
import { formatV, isMap, isTrue, kindName, quoteGo, typeName, type GoMap } from "./gofmt.ts";
import { deepCopy, parseYamlValue } from "./values.ts";
import { formatGoTime, goTime, isGoTime } from "./gotime.ts";

export interface SprigEnv {
  clock: Pick<Clock, "now">;
  rng: Pick<Rng, "int">;
  /** Renders a template string with `data` (tpl). */
  tpl(src: string, data: unknown, exec: Executor): string;
}

/** sprig strval: strings as-is, []byte as text, Stringers, else %v. */
export function strval(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  return formatV(v);
}

function toInt64(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string") {
    const s = v.trim();
    if (/^[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9]\d*|0)$/.test(s)) {
      const neg = s.startsWith("-");
      const body = s.replace(/^[+-]/, "");
      const b = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body.toLowerCase());
      return neg ? -b : b;
    }
    if (/^[+-]?\d*\.?\d+([eE][+-]?\d+)?$/.test(s)) return 0n;
    return 0n;
  }
  return 0n;
}

function toFloat64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const f = Number(v.trim());
    return v.trim() === "" || Number.isNaN(f) ? 0 : f;
  }
  return 0;
}

/** sprig strslice: list items (nils skipped) as strings; a scalar becomes a one-item list. */
function strslice(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(strval);
  return [strval(v)];
}

function asList(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`Cannot ${fn} on type ${typeName(v)}`);
}

function goTitle(s: string): string {
  let prevLetter = false;
  let out = "";
  for (const c of s) {
    const isWord = /[\p{L}\p{N}_']/u.test(c);
    out += isWord && !prevLetter ? c.toUpperCase() : c;
    prevLetter = isWord;
  }
  return out;
}

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "");
}

function goRegex(re: string, flags = ""): RegExp {
  let f = flags;
  let src = re;
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    src = src.slice(m[0].length);
    for (const c of m[1]!) if (c !== "U" && !f.includes(c)) f += c;
  }
  src = src.replace(/\(\?P</g, "(?<").replace(/\\z/g, "$(?![\\s\\S])");
  try {
    return new RegExp(src, f);
  } catch (e) {
    throw new Error(`error parsing regexp: ${e instanceof Error ? e.message : String(e)}: \`${re}\``);
  }
}

function goReplacement(repl: string): string {
  return repl.replace(/\$\{(\d+)\}/g, "$$$1").replace(/\$\{(\w+)\}/g, "$$<$1>");
}

/** Masterminds/semver constraint check (ranges joined by ||, comparators by space or comma). */
export function semverCompareFn(constraint: string, version: string): boolean {
  const v = semver.parse(version.trim().replace(/^v/, ""), { loose: true });
  if (v === null) throw new Error("Invalid Semantic Version");
  const alternatives = constraint.split("||").map((a) => a.trim());
  return alternatives.some((alt) =>
    alt
      .split(/[\s,]+/)
      .filter((c) => c !== "")
      .every((c) => checkComparator(c, v)),
  );
}

function checkComparator(c: string, v: semver.SemVer): boolean {
  const m =
    /^(>=|<=|!=|=>|=<|>|<|=|~>|~|\^)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(
      c,
    );
  if (!m) throw new Error(`improper constraint: ${c}`);
  const op = m[1] ?? "=";
  const wild = (x: string | undefined) => x === undefined || /^[xX*]$/.test(x);
  const maj = wild(m[2]) ? 0 : Number(m[2]);
  const min = wild(m[3]) ? 0 : Number(m[3]);
  const pat = wild(m[4]) ? 0 : Number(m[4]);
  const pre = m[5] ?? "";
  const base = `${maj}.${min}.${pat}${pre}`;
  const allowPre = pre !== "";
  if (v.prerelease.length > 0 && !allowPre) return false;
  const cmp = semver.compare(v, base);
  const nextMinor = `${maj}.${min + 1}.0-0`;
  const nextMajor = `${maj + 1}.0.0-0`;
  switch (op) {
    case ">":
      return cmp > 0;
    case "<":
      return cmp < 0;
    case ">=":
    case "=>":
      return cmp >= 0;
    case "<=":
    case "=<":
      return cmp <= 0;
    case "!=":
      return cmp !== 0;
    case "~":
    case "~>":
      return cmp >= 0 && semver.lt(v, wild(m[3]) ? nextMajor : nextMinor);
    case "^":
      return cmp >= 0 && semver.lt(v, maj === 0 ? nextMinor : nextMajor);
    default:
      if (wild(m[3])) return v.major === maj;
      if (wild(m[4])) return v.major === maj && v.minor === min;
      return cmp === 0;
  }
}

function adler32(s: string): bigint {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s)) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return BigInt(((b << 16) | a) >>> 0);
}

function mergeInto(dst: GoMap, src: GoMap, overwrite: boolean): GoMap {
  for (const k of Object.keys(src)) {
    const s = src[k];
    const d = dst[k];
    if (isMap(d) && isMap(s)) mergeInto(d, s, overwrite);
    else if (!Object.hasOwn(dst, k) || d === null) dst[k] = deepCopy(s);
    else if (overwrite && isTrue(s)) dst[k] = deepCopy(s);
  }
  return dst;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function sprigFuncs(env: SprigEnv): Map<string, FuncDef> {
  const m = new Map<string, FuncDef>();
  const def = (name: string, sig: string, fn: FuncDef["fn"]) => m.set(name, { sig, fn });
  const rand = (n: bigint, alphabet: string) => {
    let s = "";
    for (let i = 0; i < Number(n); i++) s += alphabet[env.rng.int(0, alphabet.length - 1)];
    return s;
  };

  // Helm
  def("include", "sa", ([name, data], ctx) => {
    const n = name as string;
    const depth = ctx.exec.includeDepth.get(n) ?? 0;
    if (depth > 1000)
      throw new Error(`rendering template has a nested reference name: ${n}: unable to execute template`);
    ctx.exec.includeDepth.set(n, depth + 1);
    try {
      if (ctx.exec.templates.get(n) === undefined)
        throw new Error(`template: no template "${n}" associated with template "gotpl"`);
      return ctx.exec.execute(n, data);
    } catch (e) {
      if (e instanceof RangeError) {
        throw new Error(`rendering template has a nested reference name: ${n}: unable to execute template`);
      }
      throw e;
    } finally {
      ctx.exec.includeDepth.set(n, depth);
    }
  });
  def("tpl", "sa", ([src, data], ctx) => env.tpl(src as string, data, ctx.exec));
  def("required", "sa", ([msg, v]) => {
    if (v === null || v === undefined || v === "") throw new FuncError(msg as string, msg as string);
    return v;
  });
  def("fail", "s", ([msg]) => {
    throw new FuncError(msg as string, msg as string);
  });
  def("lookup", "ssss", () => ({}));
  def("toYaml", "a", ([v]) => {
    try {
      return marshalYaml(v).replace(/\n$/, "");
    } catch {
      return "";
    }
  });
  def("mustToYaml", "a", ([v]) => marshalYaml(v).replace(/\n$/, ""));
  def("fromYaml", "s", ([s]) => {
    try {
      const v = parseYamlValue(s as string);
      if (v === null) return {};
      if (!isMap(v))
        throw new Error(
          `error unmarshaling JSON: json: cannot unmarshal ${Array.isArray(v) ? "array" : typeName(v)} into Go value of type map[string]interface {}`,
        );
      return v;
    } catch (e) {
      return { Error: e instanceof Error ? e.message : String(e) };
    }
  });
  def("fromYamlArray", "s", ([s]) => {
    try {
      const v = parseYamlValue(s as string);
      if (v === null) return [];
      if (!Array.isArray(v))
        throw new Error(
          "error unmarshaling JSON: json: cannot unmarshal object into Go value of type []interface {}",
        );
      return v;
    } catch (e) {
      return [e instanceof Error ? e.message : String(e)];
    }
  });
  const jsonFn = (opts: { escapeHtml?: boolean; indent?: string }, must: boolean) => (args: unknown[]) => {
    try {
      return marshalJson(args[0], opts);
    } catch (e) {
      if (must) throw e;
      return "";
    }
  };
  def("toJson", "a", jsonFn({}, false));
  def("mustToJson", "a", jsonFn({}, true));
  def("toPrettyJson", "a", jsonFn({ indent: "  " }, false));
  def("mustToPrettyJson", "a", jsonFn({ indent: "  " }, true));
  def("toRawJson", "a", jsonFn({ escapeHtml: false }, false));
  def("mustToRawJson", "a", jsonFn({ escapeHtml: false }, true));
  const fromJson = (s: string): unknown => {
    const v = JSON.parse(s) as unknown;
    return v;
  };
  def("fromJson", "s", ([s]) => {
    try {
      const v = fromJson(s as string);
      return isMap(v) ? v : {};
    } catch (e) {
      return { Error: e instanceof Error ? e.message : String(e) };
    }
  });
  def("mustFromJson", "s", ([s]) => fromJson(s as string));
  def("fromJsonArray", "s", ([s]) => {
    try {
      const v = fromJson(s as string);
      return Array.isArray(v) ? v : [];
    } catch (e) {
      return [e instanceof Error ? e.message : String(e)];
    }
  });

  // strings
  def("indent", "is", ([n, s]) => {
    const pad = " ".repeat(Number(n));
    return pad + (s as string).replace(/\n/g, `\n${pad}`);
  });
  def("nindent", "is", ([n, s]) => {
    const pad = " ".repeat(Number(n));
    return `\n${pad}${(s as string).replace(/\n/g, `\n${pad}`)}`;
  });
  def("quote", "a*", (a) =>
    a
      .filter((x) => x !== null)
      .map((x) => quoteGo(strval(x)))
      .join(" "),
  );
  def("squote", "a*", (a) =>
    a
      .filter((x) => x !== null)
      .map((x) => `'${strval(x)}'`)
      .join(" "),
  );
  def("trim", "s", ([s]) => (s as string).trim());
  def("trimAll", "ss", ([cut, s]) => {
    const set = new Set([...(cut as string)]);
    const chars = [...(s as string)];
    let a = 0;
    let b = chars.length;
    while (a < b && set.has(chars[a]!)) a++;
    while (b > a && set.has(chars[b - 1]!)) b--;
    return chars.slice(a, b).join("");
  });
  def("trimPrefix", "ss", ([p, s]) =>
    (s as string).startsWith(p as string) ? (s as string).slice((p as string).length) : s,
  );
  def("trimSuffix", "ss", ([p, s]) =>
    (p as string) !== "" && (s as string).endsWith(p as string)
      ? (s as string).slice(0, -(p as string).length)
      : s,
  );
  def("trunc", "is", ([n, s]) => {
    const c = Number(n);
    const str = s as string;
    if (c < 0 && str.length + c > 0) return str.slice(str.length + c);
    if (c >= 0 && str.length > c) return str.slice(0, c);
    return str;
  });
  def("replace", "sss", ([o, n, s]) => (s as string).split(o as string).join(n as string));
  def("lower", "s", ([s]) => (s as string).toLowerCase());
  def("upper", "s", ([s]) => (s as string).toUpperCase());
  def("title", "s", ([s]) => goTitle(s as string));
  def("untitle", "s", ([s]) =>
    (s as string).replace(/(^|\s)(\S)/g, (_x, a: string, b: string) => a + b.toLowerCase()),
  );
  def("contains", "ss", ([sub, s]) => (s as string).includes(sub as string));
  def("hasPrefix", "ss", ([p, s]) => (s as string).startsWith(p as string));
  def("hasSuffix", "ss", ([p, s]) => (s as string).endsWith(p as string));
  def("cat", "a*", (a) =>
    a
      .filter((x) => x !== null)
      .map(strval)
      .join(" "),
  );
  def("join", "sa", ([sep, v]) => strslice(v).join(sep as string));
  def("split", "ss", ([sep, s]) => {
    const out: GoMap = {};
    (s as string).split(sep as string).forEach((p, i) => {
      out[`_${i}`] = p;
    });
    return out;
  });
  def("splitList", "ss", ([sep, s]) => (s as string).split(sep as string));
  def("splitn", "sis", ([sep, n, s]) => {
    const parts = (s as string).split(sep as string);
    const k = Number(n);
    const out: GoMap = {};
    const kept =
      k > 0 && parts.length > k ? [...parts.slice(0, k - 1), parts.slice(k - 1).join(sep as string)] : parts;
    kept.forEach((p, i) => {
      out[`_${i}`] = p;
    });
    return out;
  });
  def("repeat", "is", ([n, s]) => (s as string).repeat(Math.max(0, Number(n))));
  def("substr", "iis", ([a, b, s]) => {
    const str = s as string;
    const start = Number(a);
    const end = Number(b);
    if (start < 0) return str.slice(0, end);
    if (end < 0 || end > str.length) return str.slice(start);
    return str.slice(start, end);
  });
  def("nospace", "s", ([s]) => (s as string).replace(/\s+/g, ""));
  def("snakecase", "s", ([s]) =>
    words(s as string)
      .map((w) => w.toLowerCase())
      .join("_"),
  );
  def("kebabcase", "s", ([s]) =>
    words(s as string)
      .map((w) => w.toLowerCase())
      .join("-"),
  );
  def("camelcase", "s", ([s]) =>
    (s as string)
      .split(/[_\s-]+/)
      .filter((w) => w !== "")
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(""),
  );
  def("swapcase", "s", ([s]) =>
    [...(s as string)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(""),
  );
  def("abbrev", "is", ([w, s]) => {
    const width = Number(w);
    const str = s as string;
    if (width < 4 || str.length <= width) return str;
    return `${str.slice(0, width - 3)}...`;
  });
  def("initials", "s", ([s]) =>
    (s as string)
      .split(/\s+/)
      .filter((w) => w !== "")
      .map((w) => w[0])
      .join(""),
  );
  def("plural", "ssi", ([one, many, n]) => (n === 1n ? one : many));
  def("toString", "a", ([v]) => strval(v));
  def("toStrings", "a", ([v]) => strslice(v));
  def("b64enc", "s", ([s]) => Buffer.from(s as string).toString("base64"));
  def("b64dec", "s", ([s]) => {
    const str = (s as string).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(str) || str.length % 4 !== 0)
      return "illegal base64 data at input byte 0";
    return Buffer.from(str, "base64").toString("utf8");
  });
  def("b32enc", "s", ([s]) => base32(Buffer.from(s as string)));
  def("sha256sum", "s", ([s]) =>
    createHash("sha256")
      .update(s as string)
      .digest("hex"),
  );
  def("sha1sum", "s", ([s]) =>
    createHash("sha1")
      .update(s as string)
      .digest("hex"),
  );
  def("adler32sum", "s", ([s]) => adler32(s as string).toString());
  def("regexMatch", "ss", ([re, s]) => goRegex(re as string).test(s as string));
  def("mustRegexMatch", "ss", ([re, s]) => goRegex(re as string).test(s as string));
  def("regexFind", "ss", ([re, s]) => goRegex(re as string).exec(s as string)?.[0] ?? "");
  def("regexFindAll", "ssi", ([re, s, n]) => {
    const all = [...(s as string).matchAll(goRegex(re as string, "g"))].map((x) => x[0]);
    return Number(n) < 0 ? all : all.slice(0, Number(n));
  });
  def("regexReplaceAll", "sss", ([re, s, r]) =>
    (s as string).replace(goRegex(re as string, "g"), goReplacement(r as string)),
  );
  def("regexReplaceAllLiteral", "sss", ([re, s, r]) =>
    (s as string).replace(goRegex(re as string, "g"), () => r as string),
  );
  def("regexSplit", "ssi", ([re, s, n]) => {
    const parts = (s as string).split(goRegex(re as string, "g"));
    return Number(n) < 0 ? parts : parts.slice(0, Number(n));
  });
  def("semverCompare", "ss", ([c, v]) => semverCompareFn(c as string, v as string));

  // defaults and logic
  def("default", "aa*", ([d, ...given]) => (given.length === 0 || !isTrue(given[0]) ? d : given[0]));
  def("empty", "a", ([v]) => !isTrue(v));
  def("coalesce", "a*", (a) => a.find((x) => isTrue(x)) ?? null);
  def("all", "a*", (a) => a.every((x) => isTrue(x)));
  def("any", "a*", (a) => a.some((x) => isTrue(x)));
  def("ternary", "aab", ([t, f, c]) => (c ? t : f));
  def("kindOf", "a", ([v]) => kindName(v));
  def("kindIs", "sa", ([k, v]) => kindName(v) === k);
  def("typeOf", "a", ([v]) => typeName(v));
  def("typeIs", "sa", ([t, v]) => typeName(v) === t);
  def("typeIsLike", "sa", ([t, v]) => typeName(v) === t || `*${typeName(v)}` === t);
  def("deepEqual", "aa", ([a, b]) => marshalJson(a) === marshalJson(b));

  // numbers
  def("int", "a", ([v]) => toInt64(v));
  def("int64", "a", ([v]) => toInt64(v));
  def("float64", "a", ([v]) => toFloat64(v));
  def("atoi", "s", ([s]) => (/^[+-]?\d+$/.test(s as string) ? BigInt(s as string) : 0n));
  def("add", "a*", (a) => a.reduce<bigint>((acc, x) => acc + toInt64(x), 0n));
  def("add1", "a", ([v]) => toInt64(v) + 1n);
  def("sub", "aa", ([a, b]) => toInt64(a) - toInt64(b));
  def("mul", "aa*", ([a, ...r]) => r.reduce<bigint>((acc, x) => acc * toInt64(x), toInt64(a)));
  def("div", "aa", ([a, b]) => {
    const d = toInt64(b);
    if (d === 0n) throw new Error("runtime error: integer divide by zero");
    return toInt64(a) / d;
  });
  def("mod", "aa", ([a, b]) => {
    const d = toInt64(b);
    if (d === 0n) throw new Error("runtime error: integer divide by zero");
    return toInt64(a) % d;
  });
  const pickInt = (args: unknown[], better: (x: bigint, y: bigint) => boolean) => {
    let best = toInt64(args[0]);
    for (const x of args.slice(1).map(toInt64)) if (better(x, best)) best = x;
    return best;
  };
  def("max", "aa*", (a) => pickInt(a, (x, y) => x > y));
  def("min", "aa*", (a) => pickInt(a, (x, y) => x < y));
  def("addf", "a*", (a) => a.reduce<number>((acc, x) => acc + toFloat64(x), 0));
  def("subf", "aa*", ([a, ...r]) => r.reduce<number>((acc, x) => acc - toFloat64(x), toFloat64(a)));
  def("mulf", "aa*", ([a, ...r]) => r.reduce<number>((acc, x) => acc * toFloat64(x), toFloat64(a)));
  def("divf", "aa*", ([a, ...r]) => r.reduce<number>((acc, x) => acc / toFloat64(x), toFloat64(a)));
  def("maxf", "aa*", ([a, ...r]) => Math.max(toFloat64(a), ...r.map(toFloat64)));
  def("minf", "aa*", ([a, ...r]) => Math.min(toFloat64(a), ...r.map(toFloat64)));
  def("float", "a", ([v]) => toFloat64(v));
  def("ceil", "a", ([v]) => Math.ceil(toFloat64(v)));
  def("floor", "a", ([v]) => Math.floor(toFloat64(v)));
  def("round", "ai*", ([v, p, ...r]) => {
    const f = toFloat64(v);
    const pow = 10 ** Number(p);
    const roundOn = r.length > 0 ? toFloat64(r[0]) : 0.5;
    const digit = Math.abs(f) * pow;
    const intPart = Math.trunc(digit);
    const rounded = digit - intPart >= roundOn ? Math.ceil(digit) : Math.floor(digit);
    return (Math.sign(f) * rounded) / pow;
  });
  def("until", "i", ([n]) => [...seq(0n, n as bigint, (n as bigint) < 0n ? -1n : 1n)]);
  def("untilStep", "iii", ([a, b, s]) => [...seq(a as bigint, b as bigint, s as bigint)]);
  def("seq", "a*", (a) => {
    const n = a.map(toInt64);
    if (n.length === 1) return [...seq(1n, n[0]! + 1n, 1n)].map(String).join(" ");
    if (n.length === 2)
      return [...seq(n[0]!, n[1]! + (n[1]! >= n[0]! ? 1n : -1n), n[1]! >= n[0]! ? 1n : -1n)].join(" ");
    return [...seq(n[0]!, n[2]! + (n[1]! > 0n ? 1n : -1n), n[1]!)].join(" ");
  });

  // lists
  def("list", "a*", (a) => [...a]);
  def("tuple", "a*", (a) => [...a]);
  const append = (l: unknown, v: unknown) => [...(l === null ? [] : asList(l, "append")), v];
  def("append", "aa", ([l, v]) => append(l, v));
  def("push", "aa", ([l, v]) => append(l, v));
  def("mustAppend", "aa", ([l, v]) => append(l, v));
  def("prepend", "aa", ([l, v]) => [v, ...(l === null ? [] : asList(l, "prepend"))]);
  def("concat", "a*", (a) => a.flatMap((l) => (l === null ? [] : asList(l, "concat"))));
  def("first", "a", ([l]) => (l === null ? null : (asList(l, "find first")[0] ?? null)));
  def("last", "a", ([l]) => {
    if (l === null) return null;
    const arr = asList(l, "find last");
    return arr[arr.length - 1] ?? null;
  });
  def("rest", "a", ([l]) => (l === null ? [] : asList(l, "find rest").slice(1)));
  def("initial", "a", ([l]) => (l === null ? [] : asList(l, "find initial").slice(0, -1)));
  def("reverse", "a", ([l]) => (l === null ? [] : [...asList(l, "reverse")].reverse()));
  const same = (a: unknown, b: unknown) => a === b || marshalJson(a) === marshalJson(b);
  def("uniq", "a", ([l]) => {
    const out: unknown[] = [];
    for (const x of l === null ? [] : asList(l, "uniq")) if (!out.some((y) => same(x, y))) out.push(x);
    return out;
  });
  def("without", "aa*", ([l, ...omit]) => asList(l, "without").filter((x) => !omit.some((o) => same(x, o))));
  def("has", "aa", ([needle, l]) => (l === null ? false : asList(l, "has").some((x) => same(x, needle))));
  def("compact", "a", ([l]) => asList(l, "compact").filter((x) => isTrue(x)));
  def("sortAlpha", "a", ([l]) => strslice(l).sort());
  def("chunk", "ia", ([n, l]) => {
    const arr = asList(l, "chunk");
    const out: unknown[][] = [];
    for (let i = 0; i < arr.length; i += Number(n)) out.push(arr.slice(i, i + Number(n)));
    return out;
  });

  // dicts
  def("dict", "a*", (a) => {
    const out: GoMap = {};
    for (let i = 0; i < a.length; i += 2) out[strval(a[i])] = i + 1 < a.length ? a[i + 1] : "";
    return out;
  });
  def("get", "ms", ([d, k]) => (isMap(d) && Object.hasOwn(d, k as string) ? d[k as string] : ""));
  def("set", "msa", ([d, k, v]) => {
    (d as GoMap)[k as string] = v;
    return d;
  });
  def("unset", "ms", ([d, k]) => {
    delete (d as GoMap)[k as string];
    return d;
  });
  def("hasKey", "ms", ([d, k]) => isMap(d) && Object.hasOwn(d, k as string));
  def("keys", "m*", (ds) => ds.flatMap((d) => (isMap(d) ? Object.keys(d).sort() : [])));
  def("values", "m", ([d]) =>
    isMap(d)
      ? Object.keys(d)
          .sort()
          .map((k) => d[k])
      : [],
  );
  def("pick", "ms*", ([d, ...ks]) => {
    const out: GoMap = {};
    for (const k of ks as string[]) if (isMap(d) && Object.hasOwn(d, k)) out[k] = d[k];
    return out;
  });
  def("omit", "ms*", ([d, ...ks]) => {
    const out: GoMap = {};
    if (isMap(d)) for (const k of Object.keys(d)) if (!(ks as string[]).includes(k)) out[k] = d[k];
    return out;
  });
  def("merge", "mm*", ([d, ...srcs]) =>
    srcs.reduce<GoMap>((acc, s) => mergeInto(acc, (s ?? {}) as GoMap, false), d as GoMap),
  );
  def("mergeOverwrite", "mm*", ([d, ...srcs]) =>
    srcs.reduce<GoMap>((acc, s) => mergeInto(acc, (s ?? {}) as GoMap, true), d as GoMap),
  );
  def("deepCopy", "a", ([v]) => deepCopy(v));
  def("dig", "a*", (a) => {
    if (a.length < 3) throw new Error("dig needs at least three arguments");
    const d = a[a.length - 1];
    const dflt = a[a.length - 2];
    let cur: unknown = d;
    for (const k of a.slice(0, -2)) {
      if (!isMap(cur) || !Object.hasOwn(cur, strval(k))) return dflt;
      cur = cur[strval(k)];
    }
    return cur;
  });
  def("pluck", "sa*", ([k, ...ds]) =>
    ds.filter((d) => isMap(d) && Object.hasOwn(d, k as string)).map((d) => (d as GoMap)[k as string]),
  );

  // crypto-ish and random (seeded)
  def("uuidv4", "", () => {
    const b = Array.from({ length: 16 }, () => env.rng.int(0, 255));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  });
  def("randAlphaNum", "i", ([n]) => rand(n as bigint, ALNUM));
  def("randAlpha", "i", ([n]) => rand(n as bigint, ALNUM.slice(0, 52)));
  def("randNumeric", "i", ([n]) => rand(n as bigint, "0123456789"));
  def("randAscii", "i", ([n]) =>
    rand(n as bigint, Array.from({ length: 94 }, (_x, i) => String.fromCharCode(33 + i)).join("")),
  );
  def("randInt", "ii", ([a, b]) => BigInt(env.rng.int(Number(a), Number(b) - 1)));

  // time (injected clock; UTC)
  def("now", "", () => goTime(env.clock.now()));
  const timeArg = (t: unknown): number => {
    if (isGoTime(t)) return t.ms;
    if (typeof t === "bigint") return Number(t) * 1000;
    if (typeof t === "number") return Math.trunc(t) * 1000;
    return env.clock.now();
  };
  def("date", "sa", ([f, t]) => formatGoTime(timeArg(t), f as string));
  def("dateInZone", "sas", ([f, t]) => formatGoTime(timeArg(t), f as string));
  def("htmlDate", "a", ([t]) => formatGoTime(timeArg(t), "2006-01-02"));
  def("htmlDateInZone", "as", ([t]) => formatGoTime(timeArg(t), "2006-01-02"));
  def("unixEpoch", "a", ([t]) => String(Math.floor(timeArg(t) / 1000)));
  def("dateModify", "sa", ([d, t]) => goTime(timeArg(t) + parseGoDuration(d as string)));
  def("duration", "a", ([s]) => `${toInt64(s)}s`);
  return m;
}

function* seq(a: bigint, b: bigint, step: bigint): Generator<bigint> {
  if (step === 0n) return;
  for (let i = a; step > 0n ? i < b : i > b; i += step) yield i;
}

function parseGoDuration(s: string): number {
  const m = /^([+-]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(s.trim());
  if (!m) throw new Error(`time: invalid duration "${s}"`);
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const p of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(p[1]) * unit[p[2]!]!;
  return m[1] === "-" ? -total : total;
}

function base32(b: Buffer): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += "=";
  return out;
}
