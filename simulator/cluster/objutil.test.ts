import { describe, expect, it } from "vitest";
import { cloneJson, ownJson } from "./objutil.ts";
import { deepFreeze } from "./store.ts";

describe("cloneJson and ownJson", () => {
  // [name, value, JSON.parse(JSON.stringify(value))]
  const cases: Array<[string, unknown, unknown]> = [
    ["nested maps and lists", { a: { b: [1, "x", true, null] } }, { a: { b: [1, "x", true, null] } }],
    ["undefined members dropped, in lists null", { a: undefined, b: [undefined, 2] }, { b: [null, 2] }],
    [
      "non-finite numbers become null",
      { a: Number.NaN, b: [Number.POSITIVE_INFINITY] },
      { a: null, b: [null] },
    ],
  ];
  it.each(cases)("%s: the JSON round trip's result", (_name, value, want) => {
    expect(cloneJson(value)).toEqual(want);
    expect(ownJson(value)).toEqual(want);
  });

  it("ownJson shares frozen subtrees, copies the rest, and always gives a fresh top level", () => {
    const stored = deepFreeze({ spec: { replicas: 1 }, status: { phase: "Running" } });
    const mine = { ...stored, status: { phase: "Failed", extra: [1] } };
    const owned = ownJson(mine);
    expect(owned.spec).toBe(stored.spec);
    expect(owned.status).not.toBe(mine.status);
    expect(owned.status.extra).not.toBe(mine.status.extra);
    expect(owned).toEqual(mine);
    const top = ownJson(stored);
    expect(top).not.toBe(stored);
    expect(Object.isFrozen(top)).toBe(false);
    expect(top.spec).toBe(stored.spec);
    // cloneJson copies everything
    expect(cloneJson(stored).spec).not.toBe(stored.spec);
  });
});
