import { describe, expect, it } from "vitest";
import { memoFrozen, mergeDiff } from "./kube-util.ts";

describe("mergeDiff (JSON merge patch turning before into after)", () => {
  const shared = { a: [1, 2] };
  const cases: Array<[string, unknown, unknown, unknown]> = [
    ["equal documents: no patch", { a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] } }, undefined],
    ["the same object: no patch", shared, shared, undefined],
    ["a changed leaf", { a: 1, b: 2 }, { a: 1, b: 3 }, { b: 3 }],
    ["a removed key becomes null", { a: 1, b: 2 }, { a: 1 }, { b: null }],
    ["an added nested key", { s: { x: 1 } }, { s: { x: 1, y: 2 } }, { s: { y: 2 } }],
    ["arrays are replaced whole", { l: [1, 2, 3] }, { l: [1, 2] }, { l: [1, 2] }],
    ["an unchanged array is left out", { l: [{ p: 1 }], n: 1 }, { l: [{ p: 1 }], n: 2 }, { n: 2 }],
    ["object to scalar", { o: { x: 1 } }, { o: 5 }, { o: 5 }],
  ];
  it.each(cases)("%s", (_name, before, after, want) => {
    expect(mergeDiff(before, after)).toEqual(want);
  });
});

describe("memoFrozen", () => {
  it("computes once per frozen key and every time for a mutable one", () => {
    const memo = new WeakMap<object, number>();
    let calls = 0;
    const f = (k: { n: number }) => {
      calls++;
      return k.n * 2;
    };
    const frozen = Object.freeze({ n: 2 });
    expect([memoFrozen(memo, frozen, f), memoFrozen(memo, frozen, f)]).toEqual([4, 4]);
    expect(calls).toBe(1);
    const mutable = { n: 2 };
    memoFrozen(memo, mutable, f);
    mutable.n = 5;
    expect(memoFrozen(memo, mutable, f)).toBe(10);
    expect(calls).toBe(3);
  });
});
