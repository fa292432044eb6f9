/**
 * The materialized series store: append-only Float64Array chunks per series, a postings index
 * (label=value -> series ids) for selection, and a retention window that drops whole chunks.
 * Implements SeriesProvider; lazy providers (the traffic model) plug in beside it.
 */
import type { InputSeries, SeriesFile } from "./series-file.ts";
import type { LabelMatcher, Labels, SampleBlock, SeriesProvider, SeriesSource } from "./types.ts";
import { keyOf } from "./values.ts";

/** Samples per full chunk; a series' newest chunk starts small and doubles up to this size. */
const CHUNK = 1024;
const FIRST_CHUNK = 32;

class Chunk {
  t: Float64Array;
  v: Float64Array;
  stale: Uint8Array | undefined;
  n = 0;
  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  /** Double the capacity (up to CHUNK); false when already full size. */
  grow(): boolean {
    const cap = this.t.length;
    if (cap >= CHUNK) return false;
    const next = Math.min(CHUNK, cap * 2);
    const t = new Float64Array(next);
    const v = new Float64Array(next);
    t.set(this.t);
    v.set(this.v);
    this.t = t;
    this.v = v;
    if (this.stale !== undefined) {
      const st = new Uint8Array(next);
      st.set(this.stale);
      this.stale = st;
    }
    return true;
  }
}

/** Sort key of a label set that orders like Prometheus' labels.Compare. */
export const labelsKey = keyOf;

function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with a[i] > x. */
function upperBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const EMPTY: SampleBlock = { t: new Float64Array(0), v: new Float64Array(0) };

export class StoredSeries implements SeriesSource {
  readonly labels: Labels;
  readonly key: string;
  private chunks: Chunk[] = [];

  constructor(labels: Labels, key: string) {
    this.labels = labels;
    this.key = key;
  }

  /** Time of the newest sample, or -Infinity. */
  get lastTime(): number {
    const c = this.chunks[this.chunks.length - 1];
    return c === undefined || c.n === 0 ? Number.NEGATIVE_INFINITY : c.t[c.n - 1]!;
  }

  append(t: number, v: number, stale: boolean): void {
    if (t <= this.lastTime) {
      throw new RangeError(`out of order sample at ${t} for ${this.key.split("\u0000").join("=")}`);
    }
    let c = this.chunks[this.chunks.length - 1];
    if (c === undefined || (c.n === c.t.length && !c.grow())) {
      c = new Chunk(this.chunks.length === 0 ? FIRST_CHUNK : CHUNK);
      this.chunks.push(c);
    }
    c.t[c.n] = t;
    c.v[c.n] = v;
    if (stale) {
      c.stale ??= new Uint8Array(c.t.length);
      c.stale[c.n] = 1;
    }
    c.n++;
  }

  /** Drop chunks whose newest sample is older than `minT`. */
  truncate(minT: number): void {
    let drop = 0;
    while (drop < this.chunks.length - 1 && this.chunks[drop]!.t[this.chunks[drop]!.n - 1]! < minT) drop++;
    if (drop > 0) this.chunks.splice(0, drop);
  }

  samples(startMs: number, endMs: number): SampleBlock {
    const cs = this.chunks;
    // first chunk whose last sample >= startMs
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cs[mid]!;
      if (c.t[c.n - 1]! < startMs) lo = mid + 1;
      else hi = mid;
    }
    if (lo === cs.length) return EMPTY;
    const first = cs[lo]!;
    const i0 = lowerBound(first.t, first.n, startMs);
    const endExcl = (c: Chunk) => upperBound(c.t, c.n, endMs);
    const firstEnd = endExcl(first);
    if (firstEnd < first.n || lo === cs.length - 1) {
      if (firstEnd <= i0) return EMPTY;
      return {
        t: first.t.subarray(i0, firstEnd),
        v: first.v.subarray(i0, firstEnd),
        stale: first.stale?.subarray(i0, firstEnd),
      };
    }
    // spans chunks: copy
    const ts: number[] = [];
    const vs: number[] = [];
    const st: number[] = [];
    let anyStale = false;
    for (let ci = lo; ci < cs.length; ci++) {
      const c = cs[ci]!;
      const a = ci === lo ? i0 : 0;
      const b = endExcl(c);
      for (let i = a; i < b; i++) {
        ts.push(c.t[i]!);
        vs.push(c.v[i]!);
        const s = c.stale?.[i] ?? 0;
        st.push(s);
        if (s) anyStale = true;
      }
      if (b < c.n) break;
    }
    return {
      t: Float64Array.from(ts),
      v: Float64Array.from(vs),
      stale: anyStale ? Uint8Array.from(st) : undefined,
    };
  }
}

export interface CompiledMatcher extends LabelMatcher {
  /** For regex matchers: the anchored regular expression. */
  readonly re?: RegExp;
}

/** Compile a matcher as Prometheus does: regexes are anchored `^(?:re)$`. Throws on a bad regex. */
export function compileMatcher(m: LabelMatcher): CompiledMatcher {
  if (m.op !== "=~" && m.op !== "!~") return m;
  return { ...m, re: compileRegex(m.value) };
}

/** Go RE2-style anchored regex; `(?i)` prefix becomes the `i` flag. */
export function compileRegex(src: string): RegExp {
  let flags = "u";
  let body = src.replace(/\(\?P</g, "(?<");
  const flagPrefix = /^\(\?([imsU]+)\)/.exec(body);
  if (flagPrefix) {
    for (const f of flagPrefix[1]!) {
      if (f === "i") flags += "i";
      else if (f === "s") flags += "s";
      else if (f === "m") flags += "m";
      else throw new SyntaxError(`unsupported regex flag ${f}`);
    }
    body = body.slice(flagPrefix[0].length);
  }
  if (/\(\?[^:=!<]/.test(body) || /\\[pPzAQE]/.test(body)) {
    throw new SyntaxError(`unsupported RE2 construct in ${JSON.stringify(src)}`);
  }
  return new RegExp(`^(?:${body})$`, flags);
}

export function matches(m: CompiledMatcher, value: string): boolean {
  switch (m.op) {
    case "=":
      return value === m.value;
    case "!=":
      return value !== m.value;
    case "=~":
      return (m.re ?? compileRegex(m.value)).test(value);
    case "!~":
      return !(m.re ?? compileRegex(m.value)).test(value);
  }
}

export function matchesAll(ms: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const m of ms) if (!matches(m, labels[m.name] ?? "")) return false;
  return true;
}

export interface MemoryStoreOptions {
  /** Samples older than newest - retentionMs are dropped (whole chunks); default: keep all. */
  retentionMs?: number;
}

const NO_SERIES: readonly StoredSeries[] = [];

export class MemoryStore implements SeriesProvider {
  private readonly series: StoredSeries[] = [];
  private readonly byKey = new Map<string, StoredSeries>();
  private readonly postings = new Map<string, Map<string, number[]>>();
  private readonly selectCache = new Map<string, readonly StoredSeries[]>();
  /** The same by matcher list (a cached parse hands the same list every time), valid for one `generation`. */
  private readonly selectByList = new WeakMap<
    readonly LabelMatcher[],
    { generation: number; out: readonly StoredSeries[] }
  >();
  /** Bumped when a series is added. */
  private generation = 0;
  private readonly retentionMs: number;
  private maxT = Number.NEGATIVE_INFINITY;

  constructor(opts: MemoryStoreOptions = {}) {
    this.retentionMs = opts.retentionMs ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.series.length;
  }

  /** Get or create the series with exactly these labels. */
  getOrCreate(labels: Labels): StoredSeries {
    const key = labelsKey(labels);
    let s = this.byKey.get(key);
    if (s !== undefined) return s;
    s = new StoredSeries(Object.freeze({ ...labels }), key);
    const id = this.series.length;
    this.series.push(s);
    this.byKey.set(key, s);
    for (const [n, v] of Object.entries(labels)) {
      let byValue = this.postings.get(n);
      if (byValue === undefined) {
        byValue = new Map();
        this.postings.set(n, byValue);
      }
      let list = byValue.get(v);
      if (list === undefined) {
        list = [];
        byValue.set(v, list);
      }
      list.push(id);
    }
    this.selectCache.clear();
    this.generation++;
    return s;
  }

  /** Append one sample (ms). `stale` appends a staleness marker. Samples must be in time order per series. */
  append(labels: Labels, t: number, v: number, stale = false): void {
    this.getOrCreate(labels).append(t, v, stale);
    if (t > this.maxT) {
      const before = this.maxT;
      this.maxT = t;
      if (Number.isFinite(this.retentionMs) && Math.floor(t / 3_600_000) !== Math.floor(before / 3_600_000)) {
        this.applyRetention();
      }
    }
  }

  /** Load series in promtool notation: sample i at startMs + i * intervalMs. */
  loadSeries(file: SeriesFile, startMs = 0): void {
    for (const s of file.series) this.loadOne(s, file.intervalMs, startMs);
  }

  private loadOne(s: InputSeries, intervalMs: number, startMs: number): void {
    const stored = this.getOrCreate(s.labels);
    s.values.forEach((v, i) => {
      if (v === "_") return;
      const t = startMs + i * intervalMs;
      if (v === "stale") stored.append(t, Number.NaN, true);
      else stored.append(t, v, false);
      if (t > this.maxT) this.maxT = t;
    });
  }

  applyRetention(): void {
    if (!Number.isFinite(this.retentionMs)) return;
    const minT = this.maxT - this.retentionMs;
    for (const s of this.series) s.truncate(minT);
  }

  /** Series matching all matchers, in label order (like Prometheus' sorted series sets). */
  select(matchers: readonly LabelMatcher[]): readonly StoredSeries[] {
    if (this.series.length === 0) return NO_SERIES;
    const byList = this.selectByList.get(matchers);
    if (byList !== undefined && byList.generation === this.generation) return byList.out;
    const out = this.selectByKey(matchers);
    this.selectByList.set(matchers, { generation: this.generation, out });
    return out;
  }

  private selectByKey(matchers: readonly LabelMatcher[]): readonly StoredSeries[] {
    const cacheKey = matchers.map((m) => `${m.name}\u0000${m.op}\u0000${m.value}`).join("\u0001");
    const cached = this.selectCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const compiled = matchers.map(compileMatcher);
    let candidates: readonly number[] | undefined;
    for (const m of compiled) {
      if (m.op !== "=" || m.value === "") continue;
      const list = this.postings.get(m.name)?.get(m.value) ?? [];
      if (candidates === undefined || list.length < candidates.length) candidates = list;
    }
    const out: StoredSeries[] = [];
    const check = (s: StoredSeries) => {
      if (matchesAll(compiled, s.labels)) out.push(s);
    };
    if (candidates !== undefined) for (const id of candidates) check(this.series[id]!);
    else for (const s of this.series) check(s);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.selectCache.set(cacheKey, out);
    return out;
  }

  labelNames(): readonly string[] {
    return [...this.postings.keys()].sort();
  }
}
