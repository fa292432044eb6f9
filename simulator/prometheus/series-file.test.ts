import { describe, expect, it } from "vitest";
import { GtbError } from "../../engine/core/errors.ts";
import { expandSeriesValues, parseSeriesFile, parseSeriesSelector } from "./series-file.ts";

describe("promtool series notation", () => {
  it.each([
    ["0+10x3", [0, 10, 20, 30]],
    ["5x2", [5, 5, 5]],
    ["10-2x2", [10, 8, 6]],
    ["1 _ 3", [1, "_", 3]],
    ["_x3 1", ["_", "_", "_", 1]],
    ["1 stale 2", [1, "stale", 2]],
    ["Inf -Inf", [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
    ["-1+0.5x2", [-1, -0.5, 0]],
    ["1e3", [1000]],
  ] as [string, unknown[]][])("%s", (text, want) => {
    expect(expandSeriesValues(text)).toEqual(want);
  });

  it("NaN values", () => {
    expect(expandSeriesValues("NaN")[0]).toBeNaN();
  });

  it("accumulates a+bxn by repeated addition like promtool", () => {
    const v = expandSeriesValues("0+0.1x3") as number[];
    expect(v[3]).toBe(0.1 + 0.1 + 0.1);
  });

  it("rejects bad items", () => {
    expect(() => expandSeriesValues("1 abc")).toThrow(/invalid value "abc"/);
  });

  it("parses series selectors", () => {
    expect(parseSeriesSelector("up{job=\"a\", instance='b'}")).toEqual({
      __name__: "up",
      job: "a",
      instance: "b",
    });
    expect(parseSeriesSelector('{__name__="x"}')).toEqual({ __name__: "x" });
    expect(() => parseSeriesSelector("up{job=a}")).toThrow(/quoted value/);
  });
});

describe("series files", () => {
  it("reads interval and series", () => {
    const f = parseSeriesFile("interval: 15s\ninput_series:\n  - series: up\n    values: 1x2\n", "f.yaml");
    expect(f.intervalMs).toBe(15_000);
    expect(f.series).toEqual([{ labels: { __name__: "up" }, values: [1, 1, 1] }]);
  });

  it("names file, line and field path of a bad value", () => {
    const text =
      "interval: 15s\ninput_series:\n  - series: up\n    values: 1x2\n  - series: down\n    values: '1 oops'\n";
    let err: unknown;
    try {
      parseSeriesFile(text, "bad.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GtbError);
    const g = err as GtbError;
    expect(g.code).toBe("GTB_SERIES_FILE_INVALID");
    expect(g.file).toBe("bad.yaml");
    expect(g.line).toBe(6);
    expect(g.path).toBe("input_series[1].values");
    expect(g.exitCode).toBe(2);
  });

  it("rejects unknown fields and bad intervals", () => {
    expect(() => parseSeriesFile("interval: soon\ninput_series: []\n", "x")).toThrow(/invalid interval/);
    expect(() => parseSeriesFile("intervals: 1m\ninput_series: []\n", "x")).toThrow(
      /unknown field "intervals"/,
    );
  });
});
