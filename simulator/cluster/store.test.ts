import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../engine/kube/types.ts";
import { builtinTypes, type ResourceType } from "./registry.ts";
import { Store } from "./store.ts";

const type = (kind: string): ResourceType => builtinTypes().find((t) => t.kind === kind)!;
const CM = type("ConfigMap");
const SECRET = type("Secret");

/** A store with a 5-record window after `writes` writes alternating ConfigMaps and Secrets. */
function storeAfter(writes: number): Store {
  const s = new Store(5);
  for (let i = 0; i < writes; i++) {
    const t = i % 2 === 0 ? CM : SECRET;
    const rv = s.nextRv();
    const obj: KubeObject = {
      apiVersion: "v1",
      kind: t.kind,
      metadata: { name: `o${i}`, namespace: i % 3 === 0 ? "a" : "b", resourceVersion: String(rv) },
    };
    s.put(t, obj, rv, undefined);
  }
  return s;
}

describe("Store", () => {
  // [writes, since rv, type key, expected resourceVersions or "expired"]
  const cases: Array<[number, number, string | undefined, number[] | "expired"]> = [
    [3, 0, undefined, [1, 2, 3]],
    [3, 2, undefined, [3]],
    [3, 3, undefined, []],
    [3, 0, CM.key, [1, 3]],
    [8, 3, undefined, [4, 5, 6, 7, 8]],
    [8, 5, undefined, [6, 7, 8]],
    [8, 5, SECRET.key, [6, 8]],
    [8, 2, undefined, "expired"],
    [12, 7, undefined, [8, 9, 10, 11, 12]],
    [12, 11, CM.key, []],
    [12, 100, undefined, []],
  ];
  it.each(cases)("after %i writes, since(%i, %s) gives %j", (writes, rv, key, want) => {
    const got = storeAfter(writes).since(rv, key);
    expect(got === undefined ? "expired" : got.map((r) => r.rv)).toEqual(want);
  });

  it("lists a namespace's objects from its index, and forgets removed ones", () => {
    const s = storeAfter(6);
    expect([...s.inNamespace(CM, "a").keys()]).toEqual(["a/o0"]);
    expect([...s.inNamespace(CM, "b").keys()].sort()).toEqual(["b/o2", "b/o4"]);
    const live = s.get(CM, "b", "o2")!;
    s.remove(CM, live.obj, s.nextRv(), live);
    expect([...s.inNamespace(CM, "b").keys()]).toEqual(["b/o4"]);
    expect(s.inNamespace(CM, "none").size).toBe(0);
  });

  it("freezes what it stores, deeply", () => {
    const s = storeAfter(1);
    const o = s.get(CM, "a", "o0")!.obj;
    expect(Object.isFrozen(o) && Object.isFrozen(o.metadata)).toBe(true);
    expect(() => {
      (o.metadata as { name?: string }).name = "x";
    }).toThrow(TypeError);
  });

  it("calls typed listeners with their type's records only, and all-type listeners with every record", () => {
    const s = new Store();
    const typed: string[] = [];
    const all: string[] = [];
    const stop = s.subscribe((r) => typed.push(r.key), CM.key);
    s.subscribe((r) => all.push(r.key));
    for (const t of [CM, SECRET, CM]) {
      const rv = s.nextRv();
      s.put(
        t,
        { apiVersion: "v1", kind: t.kind, metadata: { name: `x${rv}`, namespace: "a" } },
        rv,
        undefined,
      );
    }
    stop();
    const rv = s.nextRv();
    s.put(
      CM,
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late", namespace: "a" } },
      rv,
      undefined,
    );
    expect(typed).toEqual([CM.key, CM.key]);
    expect(all).toEqual([CM.key, SECRET.key, CM.key, CM.key]);
  });
});
