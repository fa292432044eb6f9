import { describe, expect, it } from "vitest";
import { parseDuration, parseTime, rfc3339, rfc3339Micro } from "./clock.ts";

describe("rfc3339", () => {
  const table: Array<[number, string]> = [
    [0, "1970-01-01T00:00:00Z"],
    [999, "1970-01-01T00:00:00Z"],
    [-1, "1969-12-31T23:59:59Z"],
    [86_399_999, "1970-01-01T23:59:59Z"],
    [86_400_000, "1970-01-02T00:00:00Z"],
    [1_767_571_200_000, "2026-01-05T00:00:00Z"],
    [1_767_571_200_000 + 3_723_500, "2026-01-05T01:02:03Z"],
    [1_767_571_200_000 + 86_399_000, "2026-01-05T23:59:59Z"],
    [253_402_300_799_999, "9999-12-31T23:59:59Z"],
    [253_402_300_800_000, "+010000-01-01T00:00:00Z"],
    [-62_167_219_200_001, "-000001-12-31T23:59:59Z"],
  ];
  it.each(table)("formats %d as %s", (ms, want) => {
    expect(rfc3339(ms)).toBe(want);
  });

  it("formats times that jump back and forth within and across days as Date does", () => {
    let ms = 1_767_571_200_000;
    for (let i = 0; i < 5_000; i++) {
      ms += ((i * 7_919) % 200_000) - 60_000;
      const want = new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
      expect(rfc3339(ms)).toBe(want);
    }
  });

  it("rejects a time that is not a number of ms", () => {
    expect(() => rfc3339(Number.NaN)).toThrow(RangeError);
  });
});

describe("parseTime", () => {
  it.each([
    ["2026-01-05T00:01:00Z", Date.UTC(2026, 0, 5, 0, 1, 0)],
    ["2026-01-05T00:01:00.250Z", Date.UTC(2026, 0, 5, 0, 1, 0, 250)],
    ["2026-01-05T01:01:00+01:00", Date.UTC(2026, 0, 5, 0, 1, 0)],
  ])("parses %s as Date does, also when asked again", (text, want) => {
    expect(parseTime(text)).toBe(want);
    expect(parseTime(text)).toBe(want);
  });

  it("answers NaN for text that is not a date, every time", () => {
    expect(parseTime("soon")).toBeNaN();
    expect(parseTime("soon")).toBeNaN();
  });
});

describe("parseDuration", () => {
  it.each([
    ["60s", 60_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    [" 90 ", 90_000],
    [1.5, 1_500],
  ])("parses %s, also when asked again", (input, want) => {
    expect(parseDuration(input)).toBe(want);
    expect(parseDuration(input)).toBe(want);
  });

  it("rejects an invalid duration every time (errors are not remembered as values)", () => {
    expect(() => parseDuration("10 minutes")).toThrow(RangeError);
    expect(() => parseDuration("10 minutes")).toThrow(RangeError);
  });
});

describe("rfc3339Micro", () => {
  it("writes what Date writes, with microseconds, for times within and across seconds and days", () => {
    let ms = 1_767_571_200_000;
    for (let i = 0; i < 5_000; i++) {
      ms += ((i * 7_919) % 200_000) - 60_000 + (i % 7) * 0.25;
      expect(rfc3339Micro(ms)).toBe(`${new Date(ms).toISOString().slice(0, -1)}000Z`);
    }
    for (const t of [0, -1, -999, -0.5, -1000.5, 1, 999.9, 253_402_300_799_999]) {
      expect(rfc3339Micro(t)).toBe(`${new Date(t).toISOString().slice(0, -1)}000Z`);
    }
  });
});
