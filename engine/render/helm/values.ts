/**
 * Helm values: YAML read as Helm reads it (YAML 1.1 through JSON: every number a float64,
 * yes/no/on/off booleans, no timestamps), Helm's deep merge (maps merge, lists and scalars
 * replace, null deletes a key) and the `--set` syntax (strvals).
 */
import { parseDocument, type Tags } from "yaml";
import { isMap, type GoMap } from "./gofmt.ts";
import { parseSimpleYaml } from "./yaml-fast.ts";

function helmTags(tags: Tags): Tags {
  return tags.filter((t) => {
    if (typeof t === "string") return t !== "timestamp" && t !== "intTime" && t !== "floatTime";
    if (t.tag === "tag:yaml.org,2002:timestamp") return false;
    return !("format" in t && t.format === "TIME");
  });
}

export class ValuesSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Parse one YAML document as Helm parses values (sigs.k8s.io/yaml). With `cache` the result is
 * memoized by text and SHARED between callers: treat it as read-only (mergeValues copies).
 */
export function parseYamlValue(text: string, cache?: Map<string, unknown>): unknown {
  if (cache !== undefined) {
    if (cache.has(text)) return cache.get(text);
    const v = parseYamlValue(text);
    if (cache.size > 20_000) cache.clear();
    cache.set(text, v);
    return v;
  }
  const fast = parseSimpleYaml(text);
  if (fast !== undefined) return fast.value;
  const doc = parseDocument(text, { version: "1.1", customTags: helmTags, merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const lp = e.linePos?.[0];
    throw new ValuesSyntaxError(e.message.split("\n")[0]!, lp?.line, lp?.col);
  }
  return normalize(doc.toJS({ maxAliasCount: 10_000 }));
}

/** Values files must hold a map (or nothing). Read-only when `cache` is given. */
export function parseValuesYaml(text: string, cache?: Map<string, unknown>): GoMap {
  const v = parseYamlValue(text, cache);
  if (v === null || v === undefined) return {};
  if (!isMap(v)) throw new ValuesSyntaxError("values must be a YAML map", 1, 1);
  return v;
}

function normalize(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Uint8Array) return v;
  if (v !== null && typeof v === "object") {
    const out: GoMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
    return out;
  }
  return v;
}

export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isMap(v)) {
    const out: GoMap = {};
    for (const k of Object.keys(v)) out[k] = deepCopy(v[k]);
    return out as T;
  }
  return v;
}

/**
 * Helm's merge of `override` onto `base`: maps merge recursively, anything else replaces,
 * and a null in the override deletes the key (Helm's coalesce onto chart values). With
 * `keepNulls` a null is kept as a value instead (how Helm layers -f files and --set before
 * coalescing them onto the chart's values). Neither input is modified.
 */
export function mergeValues(base: GoMap, override: GoMap, opts: { keepNulls?: boolean } = {}): GoMap {
  const out = deepCopy(base);
  for (const k of Object.keys(override)) {
    const o = override[k];
    if ((o === null || o === undefined) && opts.keepNulls !== true) {
      delete out[k];
      continue;
    }
    const b = out[k];
    out[k] = isMap(b) && isMap(o) ? mergeValues(b, o, opts) : deepCopy(o ?? null);
  }
  return out;
}

/** strvals.typedVal: true/false/null, int64 for integers without a leading zero, else the string. */
function typedVal(s: string, forceString: boolean): unknown {
  if (forceString) return s;
  const l = s.toLowerCase();
  if (l === "true") return true;
  if (l === "false") return false;
  if (l === "null") return null;
  if (s === "0") return 0n;
  if (s.length > 0 && s[0] !== "0" && /^[+-]?\d+$/.test(s)) {
    const n = BigInt(s);
    if (n <= 9223372036854775807n && n >= -9223372036854775808n) return n;
  }
  return s;
}

type Seg = { key: string } | { index: number };

export class SetSyntaxError extends Error {}

/** Parse one `--set` argument (`a.b=c,d[0]=e,list={x,y},esc\.aped=1`) into `target`. */
export function parseSetInto(expr: string, target: GoMap, forceString = false): GoMap {
  let i = 0;
  const s = expr;
  while (i < s.length) {
    // key path
    const path: Seg[] = [];
    let cur = "";
    let done = false;
    while (!done) {
      if (i >= s.length) throw new SetSyntaxError(`key "${cur}" has no value`);
      const c = s[i]!;
      if (c === "\\") {
        cur += s[i + 1] ?? "";
        i += 2;
      } else if (c === ".") {
        if (cur !== "") path.push({ key: cur });
        cur = "";
        i++;
      } else if (c === "[") {
        if (cur !== "") path.push({ key: cur });
        cur = "";
        const close = s.indexOf("]", i);
        if (close < 0) throw new SetSyntaxError(`key "${s.slice(0, i)}" has an unclosed [`);
        const idx = Number(s.slice(i + 1, close));
        if (!Number.isInteger(idx) || idx < 0)
          throw new SetSyntaxError(`negative or invalid index in "${s}"`);
        if (idx > 65536)
          throw new SetSyntaxError(`index of ${idx} is greater than maximum supported index 65536`);
        path.push({ index: idx });
        i = close + 1;
      } else if (c === "=") {
        if (cur !== "") path.push({ key: cur });
        i++;
        done = true;
      } else if (c === ",") {
        throw new SetSyntaxError(`key "${cur}" has no value (cannot end with ,)`);
      } else {
        cur += c;
        i++;
      }
    }
    if (path.length === 0) throw new SetSyntaxError(`empty key in "${s}"`);
    // value
    let value: unknown;
    if (s[i] === "{") {
      const list: unknown[] = [];
      i++;
      let item = "";
      while (i < s.length && s[i] !== "}") {
        if (s[i] === "\\") {
          item += s[i + 1] ?? "";
          i += 2;
        } else if (s[i] === ",") {
          list.push(typedVal(item, forceString));
          item = "";
          i++;
        } else item += s[i++];
      }
      if (s[i] !== "}") throw new SetSyntaxError(`list must terminate with '}' in "${s}"`);
      i++;
      if (item !== "" || list.length > 0) list.push(typedVal(item, forceString));
      value = list;
      if (i < s.length && s[i] !== ",") throw new SetSyntaxError(`unexpected text after list in "${s}"`);
      i++;
    } else {
      let v = "";
      while (i < s.length && s[i] !== ",") {
        if (s[i] === "\\") {
          v += s[i + 1] ?? "";
          i += 2;
        } else v += s[i++];
      }
      i++;
      value = typedVal(v, forceString);
    }
    assignPath(target, path, value);
  }
  return target;
}

function assignPath(target: GoMap, path: Seg[], value: unknown): void {
  let container: unknown = target;
  for (let p = 0; p < path.length; p++) {
    const seg = path[p]!;
    const last = p === path.length - 1;
    const nextSeg = path[p + 1];
    const fresh = () => (nextSeg !== undefined && "index" in nextSeg ? [] : {});
    if ("key" in seg) {
      const m = container as GoMap;
      if (last) {
        m[seg.key] = value;
        return;
      }
      const nx = m[seg.key];
      const wantList = nextSeg !== undefined && "index" in nextSeg;
      if (wantList ? !Array.isArray(nx) : !isMap(nx)) m[seg.key] = fresh();
      container = m[seg.key];
    } else {
      const arr = container as unknown[];
      while (arr.length <= seg.index) arr.push(null);
      if (last) {
        arr[seg.index] = value;
        return;
      }
      const nx = arr[seg.index];
      const wantList = nextSeg !== undefined && "index" in nextSeg;
      if (wantList ? !Array.isArray(nx) : !isMap(nx)) arr[seg.index] = fresh();
      container = arr[seg.index];
    }
  }
}

/** Parse `--set` expressions (Helm's `strvals.ParseInto` for each, in order) into one map. */
export function parseSetValues(exprs: readonly string[], opts: { forceString?: boolean } = {}): GoMap {
  const out: GoMap = {};
  for (const e of exprs) parseSetInto(e, out, opts.forceString ?? false);
  return out;
}
