import { describe, expect, it } from "vitest";
import { compileRegex, MemoryStore } from "./store.ts";

describe("MemoryStore", () => {
  it("binary-searches windows across chunk boundaries", () => {
    const s = new MemoryStore();
    for (let i = 0; i < 5000; i++) s.append({ __name__: "x" }, i * 1000, i);
    const [series] = s.select([{ name: "__name__", op: "=", value: "x" }]);
    const b = series!.samples(1020_000, 1030_000);
    expect(Array.from(b.t)).toEqual(Array.from({ length: 11 }, (_, i) => (1020 + i) * 1000));
    const across = series!.samples(1000_000, 1100_000);
    expect(across.t.length).toBe(101);
    expect(across.v[100]).toBe(1100);
    expect(series!.samples(6000_000, 7000_000).t.length).toBe(0);
  });

  it("drops whole chunks older than the retention window", () => {
    const s = new MemoryStore({ retentionMs: 3_600_000 });
    for (let i = 0; i < 5000; i++) s.append({ __name__: "x" }, i * 15_000, i);
    const [series] = s.select([{ name: "__name__", op: "=", value: "x" }]);
    const all = series!.samples(0, 5000 * 15_000);
    expect(all.t[0]).toBeGreaterThan(0);
    expect(all.t[all.t.length - 1]).toBe(4999 * 15_000);
    expect(all.t[0]).toBeLessThanOrEqual(4999 * 15_000 - 3_600_000);
  });

  it("rejects out-of-order samples", () => {
    const s = new MemoryStore();
    s.append({ __name__: "x" }, 1000, 1);
    expect(() => s.append({ __name__: "x" }, 1000, 2)).toThrow(/out of order/);
  });

  it("selects by postings and regexes, in label order", () => {
    const s = new MemoryStore();
    for (const code of ["500", "200", "503"]) s.append({ __name__: "req", code }, 0, 1);
    s.append({ __name__: "other", code: "500" }, 0, 1);
    const got = s.select([
      { name: "__name__", op: "=", value: "req" },
      { name: "code", op: "=~", value: "5.." },
    ]);
    expect(got.map((x) => x.labels.code)).toEqual(["500", "503"]);
    expect(s.select([{ name: "code", op: "!~", value: "5.*" }]).map((x) => x.labels.code)).toEqual(["200"]);
  });

  it("compiles RE2-style regexes anchored", () => {
    expect(compileRegex("a|b").test("ab")).toBe(false);
    expect(compileRegex("(?i)abc").test("ABC")).toBe(true);
    expect(compileRegex("(?P<x>a)").exec("a")?.groups?.x).toBe("a");
    expect(() => compileRegex("\\pL")).toThrow();
  });
});
