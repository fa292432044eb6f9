/**
 * Series files in promtool's notation, the input both engines share:
 *
 * ```yaml
 * interval: 15s
 * input_series:
 *   - series: 'http_requests_total{code="200"}'
 *     values: '0+10x100 _ stale 5'
 * ```
 * Time 0 is the Unix epoch (like `promtool test rules`); sample i is at i * interval.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";
import { parseDuration } from "../../engine/core/clock.ts";
import { GtbError } from "../../engine/core/errors.ts";
import type { Labels } from "./types.ts";

/** One parsed item of a values string: a number, a missing scrape or a staleness marker. */
export type SeriesValue = number | "_" | "stale";

export interface InputSeries {
  labels: Labels;
  values: SeriesValue[];
}

export interface SeriesFile {
  intervalMs: number;
  series: InputSeries[];
}

/** Parse a Go float literal as Prometheus accepts it ("+Inf", "-inf", "NaN", "1e3", "0x1F"). */
export function parseGoFloat(s: string): number {
  const t = s.trim();
  const lower = t.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") {
    return Number.POSITIVE_INFINITY;
  }
  if (lower === "-inf" || lower === "-infinity") return Number.NEGATIVE_INFINITY;
  if (lower === "nan") return Number.NaN;
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) {
    const neg = t.startsWith("-");
    const n = Number.parseInt(t.replace(/^[+-]?0x/i, ""), 16);
    return neg ? -n : n;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number.NaN;
  return Number(t);
}

function isFloatLiteral(s: string): boolean {
  return !Number.isNaN(parseGoFloat(s)) || s.toLowerCase().replace(/^[+-]/, "") === "nan";
}

/**
 * Expand promtool's series notation: `_` (missing), `stale`, `_xn` (n missing), `axn` (n+1 copies),
 * `a+bxn` / `a-bxn` (n+1 values from a stepping by b, accumulated by repeated addition like promtool).
 * Throws Error with a message naming the bad item.
 */
export function expandSeriesValues(text: string): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const item of text.trim().split(/\s+/)) {
    if (item === "") continue;
    if (item === "_") {
      out.push("_");
      continue;
    }
    if (item === "stale") {
      out.push("stale");
      continue;
    }
    const blanks = /^_x(\d+)$/.exec(item);
    if (blanks) {
      for (let i = 0; i < Number(blanks[1]); i++) out.push("_");
      continue;
    }
    const m = /^([+-]?[^+\-x]+(?:e[+-]?\d+)?)(?:([+-][^x]+))?x(\d+)$/i.exec(item);
    if (m && isFloatLiteral(m[1]!) && (m[2] === undefined || isFloatLiteral(m[2]))) {
      let v = parseGoFloat(m[1]!);
      const step = m[2] === undefined ? 0 : parseGoFloat(m[2]);
      const n = Number(m[3]);
      for (let i = 0; i <= n; i++) {
        out.push(v);
        v += step;
      }
      continue;
    }
    if (isFloatLiteral(item)) {
      out.push(parseGoFloat(item));
      continue;
    }
    throw new Error(
      `invalid value "${item}": expected a number, "_", "stale", "_xN", "AxN" or "A+BxN" (e.g. 0+10x100)`,
    );
  }
  return out;
}

/** Parse `name{a="b", c='d'}` or `{__name__="x"}` into a label set. Throws Error on bad syntax. */
export function parseSeriesSelector(text: string): Labels {
  const s = text.trim();
  const labels: Record<string, string> = {};
  let i = 0;
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  if (name) {
    labels.__name__ = name[0];
    i = name[0].length;
  }
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  skipWs();
  if (i < s.length) {
    if (s[i] !== "{") throw new Error(`unexpected "${s.slice(i)}" after the metric name`);
    i++;
    for (;;) {
      skipWs();
      if (s[i] === "}") {
        i++;
        break;
      }
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
      if (!ln) throw new Error(`expected a label name at "${s.slice(i)}"`);
      i += ln[0].length;
      skipWs();
      if (s[i] !== "=") throw new Error(`expected "=" after label ${ln[0]}`);
      i++;
      skipWs();
      const q = s[i];
      if (q !== '"' && q !== "'") throw new Error(`expected a quoted value for label ${ln[0]}`);
      let j = i + 1;
      while (j < s.length && s[j] !== q) j += s[j] === "\\" ? 2 : 1;
      if (j >= s.length) throw new Error(`unterminated value for label ${ln[0]}`);
      labels[ln[0]] = unquoteString(s.slice(i, j + 1));
      i = j + 1;
      skipWs();
      if (s[i] === ",") i++;
      else if (s[i] !== "}") throw new Error(`expected "," or "}" after label ${ln[0]}`);
    }
    skipWs();
    if (i < s.length) throw new Error(`unexpected "${s.slice(i)}" after the label set`);
  }
  if (labels.__name__ === undefined && Object.keys(labels).length === 0) {
    throw new Error("a series needs a metric name or at least one label");
  }
  return labels;
}

const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** Unquote a PromQL string literal ("..." or '...' with Go escapes, `...` raw). */
export function unquoteString(lit: string): string {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new Error(`unterminated string ${lit}`);
  const body = lit.slice(1, -1);
  if (q === "`") return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new Error(`invalid escape at the end of ${lit}`);
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
    } else if (e === "x" || e === "u" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Error(`invalid escape \\${e}${hex}`);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += len;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error(`invalid octal escape \\${oct}`);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else {
      throw new Error(`unknown escape sequence \\${e}`);
    }
  }
  return out;
}

/** Parse the text of a series file. `file` is used in error messages only. */
export function parseSeriesFile(text: string, file: string): SeriesFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const fail = (node: YamlNode | null | undefined, path: string, msg: string, hint?: string): never => {
    const pos = node?.range ? lc.linePos(node.range[0]) : undefined;
    throw new GtbError("GTB_SERIES_FILE_INVALID", msg, {
      file,
      line: pos?.line,
      column: pos?.col,
      path,
      hint:
        hint ?? "see promtool's series notation: series: 'name{label=\"v\"}', values: '0+10x100 _ stale 5'",
    });
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new GtbError("GTB_SERIES_FILE_INVALID", `YAML syntax error: ${e.message.split("\n")[0]}`, {
      file,
      line: e.linePos?.[0]?.line,
      column: e.linePos?.[0]?.col,
      hint: "fix the YAML syntax",
    });
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, "", "a series file must be a mapping with interval and input_series");
  let intervalMs = 60_000;
  const intervalNode = root.get("interval", true);
  if (intervalNode !== undefined) {
    const raw = isScalar(intervalNode) ? intervalNode.value : undefined;
    try {
      if (typeof raw !== "string" && typeof raw !== "number") throw new RangeError("not a duration");
      intervalMs = parseDuration(raw);
      if (intervalMs <= 0) throw new RangeError("must be > 0");
    } catch {
      fail(intervalNode, "interval", `invalid interval ${JSON.stringify(raw)}`, 'use a duration like "15s"');
    }
  }
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : "";
    if (k !== "interval" && k !== "input_series") {
      fail(pair.key as YamlNode, k, `unknown field "${k}"`, "allowed fields: interval, input_series");
    }
  }
  const list = root.get("input_series", true);
  if (!isSeq(list)) return fail(list ?? root, "input_series", "input_series must be a list");
  const series: InputSeries[] = [];
  for (const [idx, item] of list.items.entries()) {
    const base = `input_series[${idx}]`;
    if (!isMap(item)) return fail(item as YamlNode, base, "each input series must be a mapping");
    const sNode = item.get("series", true);
    const vNode = item.get("values", true);
    if (!isScalar(sNode) || typeof sNode.value !== "string") {
      return fail(sNode ?? item, `${base}.series`, "series must be a string like 'name{label=\"v\"}'");
    }
    if (!isScalar(vNode) || (typeof vNode.value !== "string" && typeof vNode.value !== "number")) {
      return fail(vNode ?? item, `${base}.values`, "values must be a string like '0+10x100'");
    }
    let labels: Labels;
    try {
      labels = parseSeriesSelector(sNode.value);
    } catch (e) {
      return fail(sNode, `${base}.series`, (e as Error).message);
    }
    let values: SeriesValue[];
    try {
      values = expandSeriesValues(String(vNode.value));
    } catch (e) {
      return fail(vNode, `${base}.values`, (e as Error).message);
    }
    series.push({ labels, values });
  }
  return { intervalMs, series };
}

export function loadSeriesFile(path: string): SeriesFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new GtbError("GTB_SERIES_FILE_UNREADABLE", `cannot read series file: ${(e as Error).message}`, {
      file: path,
      hint: "check the path passed with --series",
    });
  }
  return parseSeriesFile(text, path);
}
