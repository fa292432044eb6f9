import { describe, expect, it } from "vitest";
import { rfc3339 } from "./clock.ts";

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
