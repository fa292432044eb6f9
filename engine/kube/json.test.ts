import { describe, expect, it } from "vitest";
import { copyJson, deepFreeze, jsonEqualExcept, mergePatchDelta, stableStringify } from "./json.ts";

/** RFC 7386 applied to a copy of target. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function cases(): Array<[string, unknown, unknown, unknown]> {
  return [
    ["nothing changes", { a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] }, x: 2 }, undefined],
    ["a changed leaf only", { a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2, d: 4 } }, { b: { d: 3 } }],
    ["a changed array is sent whole", { l: [1, 2] }, { l: [1, 3] }, { l: [1, 2] }],
    ["a null for a missing key is dropped", { a: null, b: 1 }, { b: 0 }, { b: 1 }],
    ["a null for a present key stays", { a: null }, { a: { x: 1 } }, { a: null }],
    ["an object onto a scalar is sent whole", { a: { x: 1 } }, { a: 5 }, { a: { x: 1 } }],
    ["no base: the whole patch", { a: { x: 1 } }, undefined, { a: { x: 1 } }],
    ["key order does not matter", { a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }, undefined],
    [
      "equal frozen lists",
      deepFreeze({ l: [{ a: 1 }], m: 2 }),
      deepFreeze({ l: [{ a: 1 }], m: 1 }),
      { m: 2 },
    ],
    [
      "a frozen map the base holds",
      deepFreeze({ a: { x: 1 } }),
      deepFreeze({ a: { x: 1, y: 2 } }),
      undefined,
    ],
    [
      "a frozen map with a null",
      deepFreeze({ a: { x: null } }),
      deepFreeze({ a: { x: 1 } }),
      { a: { x: null } },
    ],
  ];
}

describe("mergePatchDelta", () => {
  it.each(cases())("%s", (_n, patch, base, want) => {
    const got = mergePatchDelta(patch, base);
    expect(got).toEqual(want);
    // applying the delta gives what applying the whole patch gives
    expect(got === undefined ? base : applyMergePatch(base, got)).toEqual(applyMergePatch(base, patch));
  });
});

describe("mergePatchDelta with remembered equal lists", () => {
  it.each(cases())(
    "%s: the same answer with and without the memo, also when asked again",
    (_n, patch, base) => {
      const same = new WeakMap<object, unknown>();
      const want = mergePatchDelta(patch, base);
      expect(mergePatchDelta(patch, base, same)).toEqual(want);
      expect(mergePatchDelta(patch, base, same)).toEqual(want);
    },
  );

  it("remembers frozen lists only: an unfrozen list changed after an equal compare is sent", () => {
    const same = new WeakMap<object, unknown>();
    const base = deepFreeze({ l: [{ a: 1 }] });
    const frozen = deepFreeze({ l: [{ a: 1 }] });
    expect(mergePatchDelta(frozen, base, same)).toBeUndefined();
    expect(mergePatchDelta(frozen, base, same)).toBeUndefined();
    const open = { l: [{ a: 1 }] };
    expect(mergePatchDelta(open, base, same)).toBeUndefined();
    open.l[0]!.a = 2;
    expect(mergePatchDelta(open, base, same)).toEqual({ l: [{ a: 2 }] });
  });
});

describe("deepFreeze and stableStringify", () => {
  it("freezes every member and returns the document", () => {
    const doc = { a: [{ b: 1 }], c: { d: "x" } };
    expect(deepFreeze(doc)).toBe(doc);
    expect(Object.isFrozen(doc.a[0])).toBe(true);
    expect(Object.isFrozen(doc.c)).toBe(true);
  });

  it.each([
    [{ b: 1, a: [1, null, undefined, "x"], c: undefined }, '{"a":[1,null,null,"x"],"b":1}'],
    [{ z: { y: {}, x: [] } }, '{"z":{"x":[],"y":{}}}'],
    [[{ 'q"': "\n" }], '[{"q\\"":"\\n"}]'],
    ["s", '"s"'],
    [undefined, "null"],
  ])("writes %j with sorted keys as %s", (v, want) => {
    expect(stableStringify(v)).toBe(want);
  });
});

describe("jsonEqualExcept and copyJson", () => {
  it("ignores the skipped top-level keys only", () => {
    const skip = new Set(["status"]);
    expect(jsonEqualExcept({ a: 1, status: 1 }, { a: 1, status: 2 }, skip)).toBe(true);
    expect(jsonEqualExcept({ a: 1 }, { a: 1, status: 2 }, skip)).toBe(true);
    expect(jsonEqualExcept({ a: 1, s: { status: 1 } }, { a: 1, s: { status: 2 } }, skip)).toBe(false);
    expect(jsonEqualExcept({ a: 1 }, { a: 1, b: 2 }, skip)).toBe(false);
  });
  it("copies deeply", () => {
    const src = { a: [{ b: 1 }], c: { d: "x" }, e: null };
    const copy = copyJson(src);
    expect(copy).toEqual(src);
    copy.a[0]!.b = 2;
    copy.c.d = "y";
    expect(src).toEqual({ a: [{ b: 1 }], c: { d: "x" }, e: null });
  });
});
