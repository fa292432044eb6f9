import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.ts";
import { MockPrometheus } from "./mock.ts";
import { PromQLError } from "./parser.ts";
import { parseSeriesFile } from "./series-file.ts";
import type { LabelMatcher, SampleBlock, SeriesProvider, SeriesSource } from "./types.ts";
import { matchesAll } from "./store.ts";

const FILE = parseSeriesFile(
  "interval: 15s\ninput_series:\n  - series: 'req{code=\"200\"}'\n    values: '0+15x20'\n  - series: 'req{code=\"500\"}'\n    values: '0+3x20'\n",
  "inline",
);

/** A lazy provider: one counter growing 1/s, generated per window on demand. */
class LazyCounter implements SeriesProvider {
  calls = 0;
  private readonly src: SeriesSource = {
    labels: { __name__: "req", code: "503" },
    samples: (start: number, end: number): SampleBlock => {
      this.calls++;
      const t: number[] = [];
      const v: number[] = [];
      for (let x = Math.ceil(start / 15_000) * 15_000; x <= end; x += 15_000) {
        t.push(x);
        v.push(x / 1000);
      }
      return { t, v };
    },
  };
  select(ms: readonly LabelMatcher[]): readonly SeriesSource[] {
    return matchesAll(ms, this.src.labels) ? [this.src] : [];
  }
}

describe("MockPrometheus", () => {
  it("answers instant queries in the API data model", async () => {
    const p = new MockPrometheus();
    p.loadSeries(FILE);
    const d = await p.query('sum(rate(req{code="500"}[1m])) / sum(rate(req[1m]))', 120_000);
    expect(d.resultType).toBe("vector");
    const r = (d as { result: { metric: object; value: [number, string] }[] }).result;
    expect(r).toHaveLength(1);
    expect(r[0]!.metric).toEqual({});
    expect(r[0]!.value[0]).toBe(120);
    expect(Number(r[0]!.value[1])).toBeCloseTo(3 / 18, 12);
  });

  it("answers range queries with one series per label set, sorted", async () => {
    const p = new MockPrometheus();
    p.loadSeries(FILE);
    const d = await p.queryRange("req", 0, 30_000, 15_000);
    expect(d).toEqual({
      resultType: "matrix",
      result: [
        {
          metric: { __name__: "req", code: "200" },
          values: [
            [0, "0"],
            [15, "15"],
            [30, "30"],
          ],
        },
        {
          metric: { __name__: "req", code: "500" },
          values: [
            [0, "0"],
            [15, "3"],
            [30, "6"],
          ],
        },
      ],
    });
  });

  it("rejects more than 11,000 points per series", async () => {
    const p = new MockPrometheus();
    await expect(p.queryRange("req", 0, 11_001_000, 1000)).rejects.toThrow(/11,000 points/);
  });

  it("merges lazy providers with the materialized store and generates only the window asked for", async () => {
    const p = new MockPrometheus();
    p.loadSeries(FILE);
    const lazy = new LazyCounter();
    p.addProvider(lazy);
    const d = await p.query("rate(req[1m])", 120_000);
    expect(d.resultType).toBe("vector");
    const byCode = Object.fromEntries(
      (d as { result: { metric: Record<string, string>; value: [number, string] }[] }).result.map((r) => [
        r.metric.code,
        r.value[1],
      ]),
    );
    expect(byCode).toEqual({ "200": "1", "500": "0.2", "503": "1" });
    expect(lazy.calls).toBe(1);
  });

  it("hides samples older than the retention window", async () => {
    const clock = new VirtualClock(0);
    const p = new MockPrometheus({ clock, retentionMs: 60_000 });
    p.loadSeries(FILE);
    await clock.runUntil(240_000);
    expect((await p.query("count_over_time(req[5m])", 240_000)).result).toEqual([
      { metric: { code: "200" }, value: [240, "5"] },
      { metric: { code: "500" }, value: [240, "5"] },
    ]);
  });

  it("injects faults: unavailable, empty, nan, slow and timeout", async () => {
    const clock = new VirtualClock(0);
    const p = new MockPrometheus({ clock });
    p.loadSeries(FILE);
    p.setFault({ kind: "unavailable" });
    await expect(p.query("req", 0)).rejects.toMatchObject({ errorType: "unavailable" });
    p.setFault({ kind: "empty" });
    expect(await p.query("req", 0)).toEqual({ resultType: "vector", result: [] });
    p.setFault({ kind: "nan" });
    expect(await p.query('req{code="200"}', 15_000)).toEqual({
      resultType: "vector",
      result: [{ metric: { __name__: "req", code: "200" }, value: [15, "NaN"] }],
    });
    p.setFault({ kind: "slow", delayMs: 5000 });
    const slow = p.query('req{code="200"}', 15_000);
    await clock.runFor(4999);
    let done = false;
    void slow.then(() => {
      done = true;
    });
    await clock.settle();
    expect(done).toBe(false);
    await clock.runFor(1);
    expect((await slow).result).toHaveLength(1);
    const timedOut = p.query("req", 0, { timeoutMs: 1000 });
    const check = expect(timedOut).rejects.toBeInstanceOf(PromQLError);
    await clock.runFor(1000);
    await check;
    p.clearFault();
    expect((await p.query("req", 0)).result).toHaveLength(2);
  });

  it("lists series, label names and values", () => {
    const p = new MockPrometheus();
    p.loadSeries(FILE);
    expect(p.series(['req{code="500"}'])).toEqual([{ __name__: "req", code: "500" }]);
    expect(p.labelNames()).toEqual(["__name__", "code"]);
    expect(p.labelValues("code")).toEqual(["200", "500"]);
  });
});
