import { describe, expect, it } from "vitest";
import { memoByText } from "./memo.ts";

describe("memoByText", () => {
  it("calls the function once per text, also for an undefined answer, and empties itself when full", () => {
    const calls: string[] = [];
    const f = memoByText((t) => {
      calls.push(t);
      return t === "none" ? undefined : t.length;
    }, 3);
    expect([f("a"), f("bb"), f("a"), f("none"), f("none")]).toEqual([1, 2, 1, undefined, undefined]);
    expect(calls).toEqual(["a", "bb", "none"]);
    // full (3 entries): the next new text empties the memo, so "a" is computed again
    expect(f("cccc")).toBe(4);
    expect(f("a")).toBe(1);
    expect(calls).toEqual(["a", "bb", "none", "cccc", "a"]);
    // the last two stay remembered
    expect([f("cccc"), f("a")]).toEqual([4, 1]);
    expect(calls).toHaveLength(5);
  });
});
