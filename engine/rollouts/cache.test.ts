import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/types.ts";
import { ObjectCache } from "./cache.ts";

function obj(name: string, rv: string | undefined, opts: { owner?: string; uid?: string; v?: number } = {}) {
  const o: KubeObject = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: "default",
      uid: opts.uid ?? `uid-${name}`,
      ...(rv === undefined ? {} : { resourceVersion: rv }),
      ...(opts.owner === undefined
        ? {}
        : {
            ownerReferences: [
              { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "web", uid: opts.owner },
            ],
          }),
    },
    spec: { v: opts.v ?? 0 },
  };
  return o;
}

type Op = ["upsert", KubeObject] | ["remove", KubeObject];

describe("ObjectCache", () => {
  const cases: Array<{ name: string; ops: Op[]; want: number | undefined }> = [
    {
      name: "a newer resourceVersion replaces",
      ops: [
        ["upsert", obj("a", "5", { v: 1 })],
        ["upsert", obj("a", "6", { v: 2 })],
      ],
      want: 2,
    },
    {
      name: "an older one (a late watch event after a write response) is ignored",
      ops: [
        ["upsert", obj("a", "10", { v: 1 })],
        ["upsert", obj("a", "9", { v: 2 })],
      ],
      want: 1,
    },
    {
      name: "integers compare by value, not as text",
      ops: [
        ["upsert", obj("a", "9", { v: 1 })],
        ["upsert", obj("a", "10", { v: 2 })],
      ],
      want: 2,
    },
    {
      name: "opaque resourceVersions: the last one seen wins",
      ops: [
        ["upsert", obj("a", "x9", { v: 1 })],
        ["upsert", obj("a", "x1", { v: 2 })],
      ],
      want: 2,
    },
    {
      name: "a delete removes",
      ops: [
        ["upsert", obj("a", "5", { v: 1 })],
        ["remove", obj("a", "5")],
      ],
      want: undefined,
    },
    {
      name: "a late write response of the deleted object does not resurrect it",
      ops: [
        ["upsert", obj("a", "5", { v: 1 })],
        ["remove", obj("a", "7")],
        ["upsert", obj("a", "6", { v: 2 })],
      ],
      want: undefined,
    },
    {
      name: "a recreated object (new uid) is accepted after a delete",
      ops: [
        ["upsert", obj("a", "5")],
        ["remove", obj("a", "7")],
        ["upsert", obj("a", "3", { uid: "new", v: 3 })],
      ],
      want: 3,
    },
    {
      name: "a late delete of an older incarnation keeps the new one",
      ops: [
        ["upsert", obj("a", "9", { uid: "new", v: 4 })],
        ["remove", obj("a", "7", { uid: "old" })],
      ],
      want: 4,
    },
  ];
  it.each(cases)("$name", ({ ops, want }) => {
    const c = new ObjectCache();
    for (const [op, o] of ops) {
      if (op === "upsert") c.upsert(o);
      else c.remove(o);
    }
    expect((c.get("default", "a")?.spec as { v: number } | undefined)?.v).toBe(want);
  });

  it("indexes by owning Rollout uid and follows owner changes and deletes", () => {
    const c = new ObjectCache();
    c.upsert(obj("a", "1", { owner: "r1" }));
    c.upsert(obj("b", "2", { owner: "r1" }));
    c.upsert(obj("c", "3", { owner: "r2" }));
    c.upsert(obj("d", "4"));
    expect(c.ownedBy("r1").map((o) => o.metadata.name)).toEqual(["a", "b"]);
    c.upsert(obj("b", "5", { owner: "r2" }));
    c.remove(obj("a", "6", { owner: "r1" }));
    expect(c.ownedBy("r1")).toEqual([]);
    expect(c.ownedBy("r2").map((o) => o.metadata.name)).toEqual(["c", "b"]);
    expect(c.ownedBy(undefined)).toEqual([]);
  });

  it("replace() keeps exactly a fresh list and returns what it dropped", () => {
    const c = new ObjectCache();
    c.upsert(obj("a", "1"));
    c.upsert(obj("b", "2"));
    const gone = c.replace([obj("b", "3", { v: 7 }), obj("c", "4")]);
    expect(gone.map((o) => o.metadata.name)).toEqual(["a"]);
    expect(c.list().map((o) => o.metadata.name)).toEqual(["b", "c"]);
    expect((c.get("default", "b")?.spec as { v: number } | undefined)?.v).toBe(7);
  });

  it("freeze: a stored object cannot be mutated", () => {
    const c = new ObjectCache({ freeze: true });
    c.upsert(obj("a", "1"));
    const o = c.get("default", "a")!;
    expect(() => {
      (o.spec as { v: number }).v = 3;
    }).toThrow(TypeError);
  });
});
