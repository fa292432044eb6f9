import { describe, expect, it } from "vitest";
import { copyJson, jsonEqualExcept, mergePatchDelta } from "./json.ts";

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

describe("mergePatchDelta", () => {
  const cases: Array<[string, unknown, unknown, unknown]> = [
    ["nothing changes", { a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] }, x: 2 }, undefined],
    ["a changed leaf only", { a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2, d: 4 } }, { b: { d: 3 } }],
    ["a changed array is sent whole", { l: [1, 2] }, { l: [1, 3] }, { l: [1, 2] }],
    ["a null for a missing key is dropped", { a: null, b: 1 }, { b: 0 }, { b: 1 }],
    ["a null for a present key stays", { a: null }, { a: { x: 1 } }, { a: null }],
    ["an object onto a scalar is sent whole", { a: { x: 1 } }, { a: 5 }, { a: { x: 1 } }],
    ["no base: the whole patch", { a: { x: 1 } }, undefined, { a: { x: 1 } }],
    ["key order does not matter", { a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }, undefined],
  ];
  it.each(cases)("%s", (_n, patch, base, want) => {
    const got = mergePatchDelta(patch, base);
    expect(got).toEqual(want);
    // applying the delta gives what applying the whole patch gives
    expect(got === undefined ? base : applyMergePatch(base, got)).toEqual(applyMergePatch(base, patch));
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
