import { describe, expect, it } from "vitest";
import { jsonEqual, memoFrozen, mergeDiff } from "./kube-util.ts";

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
    [
      "an array whose items only reorder keys is unchanged",
      { l: [{ p: 1, q: 2 }] },
      { l: [{ q: 2, p: 1 }] },
      undefined,
    ],
    [
      "undefined members in an array's items count as absent",
      { l: [{ p: 1 }] },
      { l: [{ p: 1, q: undefined }] },
      undefined,
    ],
    [
      "a changed item deep in an array replaces the array",
      { l: [{ p: [1, 2] }] },
      { l: [{ p: [1, 3] }] },
      { l: [{ p: [1, 3] }] },
    ],
    [
      "an item gaining a key replaces the array",
      { l: [{ p: 1 }] },
      { l: [{ p: 1, q: 0 }] },
      { l: [{ p: 1, q: 0 }] },
    ],
    [
      "an item losing a key replaces the array",
      { l: [{ p: 1, q: 0 }] },
      { l: [{ p: 1 }] },
      { l: [{ p: 1 }] },
    ],
    ["null and an object differ", { l: [null] }, { l: [{}] }, { l: [{}] }],
  ];
  it.each(cases)("%s", (_name, before, after, want) => {
    expect(mergeDiff(before, after)).toEqual(want);
  });
});

describe("jsonEqual (as JSON.stringify would compare, ignoring key order)", () => {
  const docs: unknown[] = [
    null,
    0,
    1,
    "1",
    true,
    [],
    {},
    [1, 2],
    [2, 1],
    { a: 1 },
    { a: "1" },
    { a: 1, b: [1, { c: null }] },
    { a: 1, b: [1, { c: 0 }] },
    [{ a: 1 }, { b: 2 }],
    { a: [] },
    { a: {} },
  ];
  it("agrees with comparing serializations for every pair", () => {
    for (const a of docs) {
      for (const b of docs) {
        expect(jsonEqual(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(
          JSON.stringify(a) === JSON.stringify(b),
        );
      }
    }
  });
  it("ignores key order and undefined members", () => {
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined, c: 3 })).toBe(false);
    expect(jsonEqual([undefined], [null])).toBe(true);
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
