import { describe, expect, it } from "vitest";
import { cloneJson, mergeForeignPatch, mergePatch, ownJson, share, shareEqual } from "./objutil.ts";
import { deepFreeze } from "../../engine/kube/json.ts";

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

describe("share", () => {
  const old = deepFreeze({
    spec: { replicas: 2, template: { labels: { app: "a" } } },
    status: {
      conditions: [
        { type: "Ready", status: "True" },
        { type: "Progressing", status: "True" },
      ],
    },
    list: [1, 2],
  });

  // [name, next, paths (into the result) that must be old's own objects, paths that must not]
  const cases: Array<[string, () => Record<string, unknown>, string[][], string[][]]> = [
    ["an equal copy is old itself", () => structuredClone(old), [[]], []],
    [
      "a changed leaf keeps its siblings' subtrees",
      () => ({ ...structuredClone(old), spec: { replicas: 3, template: { labels: { app: "a" } } } }),
      [["status"], ["list"], ["spec", "template"]],
      [[], ["spec"]],
    ],
    [
      "list items are shared one by one",
      () => ({
        ...structuredClone(old),
        status: {
          conditions: [
            { type: "Ready", status: "False" },
            { type: "Progressing", status: "True" },
          ],
        },
      }),
      [["status", "conditions", "1"], ["spec"]],
      [["status"], ["status", "conditions"], ["status", "conditions", "0"]],
    ],
    ["an added member makes a map differ", () => ({ ...structuredClone(old), extra: 1 }), [["spec"]], [[]]],
    ["a removed member makes a map differ", () => ({ spec: structuredClone(old.spec) }), [["spec"]], [[]]],
    ["a longer list differs", () => ({ ...structuredClone(old), list: [1, 2, 3] }), [["spec"]], [["list"]]],
    ["a list is never a map", () => ({ ...structuredClone(old), spec: [] }), [["status"]], [["spec"]]],
  ];
  const at = (v: unknown, path: string[]): unknown =>
    path.reduce<unknown>((cur, k) => (cur as Record<string, unknown>)[k], v);

  it.each(cases)("%s", (_name, make, same, fresh) => {
    const next = make();
    const want = structuredClone(next);
    const got = share(old, next);
    expect(got).toEqual(want);
    for (const p of same) expect(at(got, p)).toBe(at(old, p));
    for (const p of fresh) expect(at(got, p)).not.toBe(at(old, p));
  });

  it("a list that dropped its oldest items and appended new ones shares the items it kept", () => {
    const measurements = deepFreeze([1, 2, 3, 4].map((n) => ({ value: `[${n}]`, phase: "Successful" })));
    const slid = [3, 4, 5, 6].map((n) => ({ value: `[${n}]`, phase: "Successful" }));
    const got = share(measurements, structuredClone(slid));
    expect(got).toEqual(slid);
    expect(got[0]).toBe(measurements[2]);
    expect(got[1]).toBe(measurements[3]);
    expect(got).not.toBe(measurements);
    // a list whose first item is new matches position by position as before
    const changed = share(measurements, [
      { value: "[9]", phase: "Failed" },
      ...structuredClone(measurements).slice(1),
    ]);
    expect(changed[1]).toBe(measurements[1]);
    expect(changed[0]).not.toBe(measurements[0]);
  });

  it("leaves frozen values and the members skipped alone, and compares what it could not share", () => {
    const frozen = deepFreeze(structuredClone(old));
    expect(share(old, frozen)).toBe(frozen);
    const next = structuredClone(old) as Record<string, unknown>;
    (next.spec as Record<string, unknown>).replicas = 99;
    // the skipped member differs, is left as it is and does not count
    expect(shareEqual(old, next, new Set(["spec"]))).toBe(true);
    expect(next.spec).not.toBe(old.spec);
    expect(next.status).toBe(old.status);
    expect(shareEqual(old, structuredClone(next) as Record<string, unknown>)).toBe(false);
    // a frozen member equal to old's (kept as it is by share) still counts as equal
    const withFrozen = { ...structuredClone(old), status: deepFreeze(structuredClone(old.status)) };
    expect(shareEqual(old, withFrozen)).toBe(true);
    expect(withFrozen.status).not.toBe(old.status);
    const frozenOther = { ...structuredClone(old), status: deepFreeze({ phase: "Other" }) };
    expect(shareEqual(old, frozenOther)).toBe(false);
  });
});

describe("mergeForeignPatch", () => {
  const target = deepFreeze({
    metadata: { name: "a", labels: { x: "1", y: "2" } },
    spec: { replicas: 1, list: [1, 2] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  });
  class Box {
    toJSON() {
      return { boxed: true };
    }
  }
  // [name, patch]: the result must be mergePatch(target, JSON round trip of patch)
  const cases: Array<[string, Record<string, unknown>]> = [
    [
      "scalars, removals and new maps",
      { spec: { replicas: 3, extra: { a: 1 } }, metadata: { labels: { y: null } } },
    ],
    ["lists replace", { status: { conditions: [{ type: "Ready", status: "False" }] }, spec: { list: [] } }],
    ["undefined members are no members", { spec: { replicas: undefined, paused: true }, status: undefined }],
    ["a non-finite number is null: a removal", { spec: { replicas: Number.NaN } }],
    ["values JSON writes its own way", { spec: { box: new Box(), when: new Date(0), nested: [new Box()] } }],
    ["frozen parts of a read", { spec: target.spec, status: { conditions: target.status.conditions } }],
    [
      "lists equal to the target's",
      { spec: { list: [1, 2] }, status: { conditions: [{ status: "True", type: "Ready" }] } },
    ],
    ["a list equal but for values JSON converts", { spec: { list: [1, undefined], other: [new Date(0)] } }],
    [
      "an item equal but for a non-finite number",
      { status: { conditions: [{ type: "Ready", status: "True", n: Number.NaN }] } },
    ],
  ];
  it.each(cases)("%s: what merging a copy of the patch gives", (_name, patch) => {
    expect(mergeForeignPatch(target, patch)).toEqual(mergePatch(target, cloneJson(patch)));
  });

  it("keeps what the patch leaves as it was: the target's own maps, lists and items", () => {
    expect(mergeForeignPatch(target, { spec: { replicas: 1 }, status: {} })).toBe(target);
    const same = mergeForeignPatch(target, { status: { conditions: [{ status: "True", type: "Ready" }] } });
    expect(same).toBe(target);
    const stored = deepFreeze({
      status: { items: [{ n: 1 }, { n: 2 }, { n: 3 }], phase: "Running" },
      spec: { a: 1 },
    });
    const next = mergeForeignPatch(stored, {
      status: { items: [{ n: 1 }, { n: 20 }, { n: 3 }] },
    }) as typeof stored;
    expect(next.spec).toBe(stored.spec);
    expect(next.status.items[0]).toBe(stored.status.items[0]);
    expect(next.status.items[1]).toEqual({ n: 20 });
    expect(next.status.items[2]).toBe(stored.status.items[2]);
    // a bounded list that dropped its oldest item and appended one
    const slid = mergeForeignPatch(stored, {
      status: { items: [{ n: 2 }, { n: 3 }, { n: 4 }] },
    }) as typeof stored;
    expect(slid.status.items[0]).toBe(stored.status.items[1]);
    expect(slid.status.items[1]).toBe(stored.status.items[2]);
    expect(slid.status.items).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
  });

  it("a list item that changed keeps the old item's equal members", () => {
    const measurements = [{ phase: "Successful", value: "[1]" }];
    const stored = deepFreeze({
      status: {
        metricResults: [
          { name: "a", count: 1, measurements, extra: { k: "v" } },
          { name: "b", count: 1, measurements: [] },
        ],
      },
    });
    const patch = {
      status: {
        metricResults: [
          {
            name: "a",
            count: 2,
            measurements: [...measurements, { phase: "Failed", value: "[2]" }],
            extra: { k: "v" },
          },
          { name: "b", count: 1, measurements: [] },
        ],
      },
    };
    const next = mergeForeignPatch(stored, patch) as typeof stored;
    expect(next).toEqual(mergePatch(stored, cloneJson(patch)));
    const [a, b] = next.status.metricResults;
    expect(b).toBe(stored.status.metricResults[1]);
    expect(a).not.toBe(stored.status.metricResults[0]);
    expect(a!.extra).toBe(stored.status.metricResults[0]!.extra);
    expect(a!.measurements[0]).toBe(measurements[0]);
    expect(a!.measurements[1]).not.toBe(patch.status.metricResults[0]!.measurements[1]);
    // a member JSON drops or converts is not the old one's
    const conv = mergeForeignPatch(stored, {
      status: {
        metricResults: [
          { name: "a", count: Number.NaN, extra: undefined },
          { name: "b", count: 1 },
        ],
      },
    }) as { status: { metricResults: unknown[] } };
    expect(conv.status.metricResults).toEqual([
      { name: "a", count: null },
      { name: "b", count: 1 },
    ]);
  });

  it("keeps nothing of the caller's patch: changing it afterwards changes no result", () => {
    const patch = { spec: { list: [1, { deep: "x" }], more: { a: "b" } } };
    const merged = mergeForeignPatch(target, patch) as { spec: { list: unknown[]; more: unknown } };
    (patch.spec.list[1] as { deep: string }).deep = "changed";
    patch.spec.list.push(9);
    patch.spec.more.a = "changed";
    expect(merged.spec.list).toEqual([1, { deep: "x" }]);
    expect(merged.spec.more).toEqual({ a: "b" });
  });
});
