/**
 * Differential testing against the real Prometheus engine: our answers become the
 * `exp_samples` of a `promtool test rules` file; promtool (2.42) compares exactly and prints
 * expected/got for every difference, which we re-compare at 1e-9 relative (NaN equals NaN),
 * because promtool's exact float comparison can never pass NaN or last-ulp differences.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { GtbError } from "../../engine/core/errors.ts";
import { MockPrometheus } from "./mock.ts";
import { PromQLError } from "./parser.ts";
import { parseGoFloat, parseSeriesFile, unquoteString } from "./series-file.ts";
import type { Labels } from "./types.ts";
import { keyOf, labelsString } from "./values.ts";

/** evaluation_interval of the generated rule test (promtool loads samples in these steps). */
const EVALUATION_INTERVAL_S = 15;

export interface CorpusGroup {
  name: string;
  /** Series file path, relative to the corpus file. */
  series: string;
  eval_times: number[];
  queries: string[];
}

export interface DiffCase {
  group: string;
  expr: string;
  /** Seconds from the series start. */
  time: number;
  ours: { labels: Labels; value: number }[] | { error: string };
}

export interface GroupFile {
  text: string;
  /** Time of the last sample in the file. */
  endSeconds: number;
}

export interface DiffResult {
  cases: DiffCase[];
  /** Cases where promtool's answer differs from ours (beyond 1e-9 relative), with both answers. */
  mismatches: { c: DiffCase; promtool: string }[];
  /** promtool's raw output. */
  output: string;
}

/** `promtool` on PATH, or undefined. */
export function findPromtool(): string | undefined {
  const r = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "promtool" : undefined;
}

/** Prometheus model.Duration.String() (how promtool prints eval times). */
export function promDurationString(ms: number): string {
  if (ms === 0) return "0s";
  let r = "";
  let rest = ms;
  const units: [string, number, boolean][] = [
    ["y", 31_536_000_000, true],
    ["w", 604_800_000, true],
    ["d", 86_400_000, false],
    ["h", 3_600_000, false],
    ["m", 60_000, false],
    ["s", 1000, false],
    ["ms", 1, false],
  ];
  for (const [u, mult, exact] of units) {
    if (exact && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      r += `${v}${u}`;
      rest -= v * mult;
    }
  }
  return r;
}

export function loadCorpus(path: string): CorpusGroup[] {
  const doc = parseYaml(readFileSync(path, "utf8")) as { groups?: CorpusGroup[] };
  if (!Array.isArray(doc.groups)) {
    throw new GtbError("GTB_PROMQL_CORPUS_INVALID", "corpus must have a groups list", {
      file: path,
      path: "groups",
    });
  }
  return doc.groups;
}

/** Evaluate every (query, time) of the corpus with the mock Prometheus. */
export function evaluateCorpus(corpusPath: string): { cases: DiffCase[]; files: Map<string, GroupFile> } {
  const cases: DiffCase[] = [];
  const files = new Map<string, GroupFile>();
  for (const g of loadCorpus(corpusPath)) {
    const file = resolve(dirname(corpusPath), g.series);
    const text = readFileSync(file, "utf8");
    const parsed = parseSeriesFile(text, file);
    const samples = Math.max(...parsed.series.map((x) => x.values.length));
    files.set(g.name, { text, endSeconds: ((samples - 1) * parsed.intervalMs) / 1000 });
    // promtool uses the test file's evaluation_interval as the default subquery step
    const prom = new MockPrometheus({ defaultStepMs: EVALUATION_INTERVAL_S * 1000 });
    prom.loadSeries(parsed);
    const seen = new Set<string>();
    for (const expr of g.queries) {
      for (const time of g.eval_times) {
        const id = `${expr}\u0000${time}`;
        if (seen.has(id)) continue;
        seen.add(id);
        let ours: DiffCase["ours"];
        try {
          const v = prom.evaluate(expr, time * 1000);
          if (v.type === "vector") ours = v.samples.map((s) => ({ labels: s.labels, value: s.v }));
          else if (v.type === "scalar") ours = [{ labels: {}, value: v.v }];
          else ours = { error: `result type ${v.type} cannot be checked by promtool` };
        } catch (e) {
          if (!(e instanceof PromQLError)) throw e;
          ours = { error: e.message };
        }
        cases.push({ group: g.name, expr, time, ours });
      }
    }
  }
  return { cases, files };
}

/** The promtool rule-test document carrying our answers as exp_samples. */
export function buildRuleTest(cases: DiffCase[], files: Map<string, GroupFile>): string {
  const tests: unknown[] = [];
  for (const [group, { text, endSeconds }] of files) {
    const file = parseYaml(text) as { interval?: string; input_series: unknown[] };
    const mine = cases.filter((c) => c.group === group);
    const maxSeconds = Math.max(...mine.map((c) => c.time));
    tests.push({
      interval: file.interval ?? "1m",
      input_series: file.input_series,
      promql_expr_test: [
        ...mine.map((c) => ({
          expr: c.expr,
          eval_time: `${c.time}s`,
          exp_samples:
            "error" in c.ours ? [] : c.ours.map((s) => ({ labels: labelsString(s.labels), value: s.value })),
        })),
        // promtool loads samples only up to the latest eval time: load every sample of the file
        {
          expr: "vector(0)",
          eval_time: `${Math.ceil(Math.max(maxSeconds, endSeconds) / EVALUATION_INTERVAL_S + 1) * EVALUATION_INTERVAL_S}s`,
          exp_samples: [{ labels: "{}", value: 0 }],
        },
      ],
    });
  }
  return stringify({ evaluation_interval: `${EVALUATION_INTERVAL_S}s`, tests }, { lineWidth: 0 });
}

/** Parse promtool's sample list: `{a="b", c="d"} 1E+00, {} NaN` or `nil`. */
export function parsePromtoolSamples(text: string): { labels: Labels; value: number }[] {
  const out: { labels: Labels; value: number }[] = [];
  const s = text.trim();
  if (s === "nil" || s === "[]") return out;
  let i = 0;
  while (i < s.length) {
    if (s[i] !== "{") throw new Error(`cannot parse promtool samples at "${s.slice(i)}"`);
    i++;
    const labels: Record<string, string> = {};
    while (s[i] !== "}") {
      const eq = s.indexOf("=", i);
      const name = s.slice(i, eq).trim();
      let j = eq + 2;
      while (s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      labels[name] = unquoteString(s.slice(eq + 1, j + 1));
      i = j + 1;
      if (s[i] === ",") i += 2;
    }
    i += 2;
    let end = s.indexOf(", {", i);
    if (end === -1) end = s.length;
    out.push({ labels, value: parseGoFloat(s.slice(i, end)) });
    i = end + 2;
  }
  return out;
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function sameSamples(
  a: { labels: Labels; value: number }[],
  b: { labels: Labels; value: number }[],
): boolean {
  if (a.length !== b.length) return false;
  const byKey = new Map(b.map((s) => [keyOf(s.labels), s.value]));
  return a.every((s) => {
    const v = byKey.get(keyOf(s.labels));
    return v !== undefined && close(s.value, v);
  });
}

interface Failure {
  expr: string;
  time: string;
  err?: string;
  got?: string;
}

function parseFailures(output: string): Failure[] {
  const out: Failure[] = [];
  const re = /^ {4}expr: ("(?:[^"\\]|\\.)*"), time: ([^,\n]+),(?: err: (.*)|\n {8}exp: .*\n {8}got: (.*))$/gm;
  for (let m = re.exec(output); m !== null; m = re.exec(output)) {
    out.push({ expr: JSON.parse(m[1]!) as string, time: m[2]!, err: m[3], got: m[4] });
  }
  return out;
}

/** Run the whole corpus through both engines. Throws GtbError when promtool is missing. */
export function runDifferential(
  corpusPath: string,
  promtool = findPromtool(),
  /** Test hook: alter our answers before they go to promtool (proves the harness can fail). */
  tamper?: (cases: DiffCase[]) => void,
): DiffResult {
  if (promtool === undefined) {
    throw new GtbError("GTB_PROMTOOL_MISSING", "promtool is not on PATH", {
      hint: "apt-get install -y prometheus (Debian ships promtool 2.42)",
    });
  }
  const { cases, files } = evaluateCorpus(corpusPath);
  tamper?.(cases);
  const doc = buildRuleTest(cases, files);
  const dir = mkdtempSync(join(tmpdir(), "gtb-promtool-"));
  const file = join(dir, "corpus.test.yml");
  let r: ReturnType<typeof spawnSync>;
  try {
    writeFileSync(file, doc);
    r = spawnSync(promtool, ["test", "rules", file], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const output = `${r.stdout}${r.stderr}`;
  // promtool either passes everything or lists each failing expression; anything else is a harness error
  const ran = (r.status === 0 && /SUCCESS/.test(output)) || (r.status !== 0 && /^ {4}expr: /m.test(output));
  if (!ran) {
    throw new GtbError("GTB_PROMTOOL_FAILED", `promtool test rules failed: ${output.slice(0, 2000)}`);
  }
  const mismatches: DiffResult["mismatches"] = [];
  const pending = new Map<string, DiffCase[]>();
  for (const c of cases) {
    const k = `${c.expr}\u0000${promDurationString(c.time * 1000)}`;
    const list = pending.get(k) ?? [];
    list.push(c);
    pending.set(k, list);
  }
  const failed = new Set<DiffCase>();
  for (const f of parseFailures(output)) {
    const c = pending.get(`${f.expr}\u0000${f.time}`)?.shift();
    if (c === undefined) {
      if (f.expr === "vector(0)") continue;
      throw new GtbError("GTB_PROMTOOL_OUTPUT", `cannot match promtool failure for ${f.expr} at ${f.time}`);
    }
    failed.add(c);
    if (f.err !== undefined) {
      if (!("error" in c.ours)) mismatches.push({ c, promtool: `error: ${f.err}` });
      continue;
    }
    const got = parsePromtoolSamples(f.got ?? "nil");
    if ("error" in c.ours || !sameSamples(c.ours, got)) mismatches.push({ c, promtool: f.got ?? "nil" });
  }
  // a case promtool passed is equal by construction, unless we errored and promtool returned nothing
  for (const c of cases) {
    if (!failed.has(c) && "error" in c.ours) mismatches.push({ c, promtool: "nil (no error)" });
  }
  return { cases, mismatches, output };
}
