import { describe, expect, it } from "vitest";
import { diffFlat, editFields, fieldsOf, fieldsToSet, flatten, scopeOf, setToFields } from "./fields.ts";
import type { JsonMap } from "./json.ts";
import { schemaOf } from "./schema.ts";

/** The reference: flatten both sides in full and compare. */
function fullDiff(before: JsonMap, after: JsonMap, apiVersion: string, kind: string) {
  const schema = schemaOf(apiVersion, kind);
  const b = flatten(scopeOf(before, undefined), schema, true);
  const a = flatten(scopeOf(after, undefined), schema, true);
  return {
    changed: [...a].filter(([p, v]) => b.get(p) !== v).map(([p]) => p),
    removed: [...b.keys()].filter((p) => !a.has(p)),
  };
}

const containers = [
  {
    name: "app",
    image: "img:v1",
    ports: [{ containerPort: 8080, protocol: "TCP" }],
    env: [{ name: "A", value: "1" }],
  },
  { name: "side", image: "side:v1" },
];
const pod = (spec: JsonMap, labels: JsonMap = { app: "a" }): JsonMap => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", labels },
  spec,
});
const shared = { containers, nodeName: "n1", tolerations: [{ key: "k", operator: "Exists" }] };

describe("diffFlat", () => {
  const cases: Array<[string, JsonMap, JsonMap]> = [
    ["same object", pod(shared), pod(shared)],
    ["shared spec, new label", pod(shared), pod(shared, { app: "a", tier: "web" })],
    ["label removed", pod(shared, { app: "a", tier: "web" }), pod(shared)],
    [
      "image changed in one item",
      pod(shared),
      pod({ ...shared, containers: [{ ...containers[0], image: "img:v2" }, containers[1]] }),
    ],
    ["item added", pod({ containers: [containers[0]] }), pod(shared)],
    ["item removed", pod(shared), pod({ ...shared, containers: [containers[1]] })],
    ["list emptied", pod(shared), pod({ ...shared, tolerations: [] })],
    ["atomic list changed", pod(shared), pod({ ...shared, tolerations: [{ key: "k", operator: "Equal" }] })],
    [
      "map became a scalar",
      pod({ ...shared, affinity: { nodeAffinity: {} } }),
      pod({ ...shared, affinity: "x" }),
    ],
    [
      "map emptied",
      pod({ ...shared, securityContext: { runAsUser: 1 } }),
      pod({ ...shared, securityContext: {} }),
    ],
    ["subtree added", pod({ containers }), pod({ ...shared, securityContext: { runAsUser: 1, fsGroup: 2 } })],
    ["number vs string", pod({ ...shared, priority: 1 }), pod({ ...shared, priority: "1" })],
    [
      "repeated keys (compared in full)",
      pod({ containers: [containers[0], { ...containers[0], image: "dup" }] }),
      pod({ containers: [{ ...containers[0], image: "dup" }] }),
    ],
    [
      "undefined members are absent",
      pod({ ...shared, hostname: undefined }),
      pod({ ...shared, hostname: "h" }),
    ],
  ];
  it.each(cases)("%s: same as comparing full field sets", (_name, before, after) => {
    const schema = schemaOf("v1", "Pod");
    const d = diffFlat(scopeOf(before, undefined), scopeOf(after, undefined), schema);
    const want = fullDiff(before, after, "v1", "Pod");
    expect([...d.changed].sort()).toEqual(want.changed.sort());
    expect([...d.removed].sort()).toEqual(want.removed.sort());
  });

  it("reports nothing for identical content in distinct objects, and the change for a real one", () => {
    const schema = schemaOf("v1", "Pod");
    const a = pod(structuredClone(shared));
    expect(diffFlat(scopeOf(pod(shared), undefined), scopeOf(a, undefined), schema)).toEqual({
      changed: new Set(),
      removed: new Set(),
    });
    const b = pod({ ...shared, nodeName: "n2" });
    expect([...diffFlat(scopeOf(pod(shared), undefined), scopeOf(b, undefined), schema).changed]).toEqual([
      "f:spec\u0000f:nodeName",
    ]);
  });
});

describe("fieldsOf and editFields", () => {
  // the reference: render the full set of member paths
  const render = (o: JsonMap) =>
    setToFields(flatten(scopeOf(o, undefined), schemaOf("v1", "Pod"), true).keys());
  const objects: Array<[string, JsonMap]> = [
    ["pod with lists, maps and leaves", pod(shared, { app: "a", tier: "web", "z-last": "1", "0": "n" })],
    ["only metadata", pod({})],
    [
      "empty and atomic values",
      pod({ ...shared, securityContext: {}, tolerations: [], nodeSelector: { a: "b" } }),
    ],
    ["repeated keys", pod({ containers: [containers[0], { ...containers[0], image: "dup" }] })],
    ["undefined members", pod({ ...shared, hostname: undefined })],
    [
      "status conditions",
      { ...pod(shared), status: { phase: "Running", conditions: [{ type: "b" }, { type: "a" }] } },
    ],
  ];

  it.each(objects)("%s: fieldsOf renders what setToFields renders, in the same order", (_name, o) => {
    const got = fieldsOf(scopeOf(o, undefined), schemaOf("v1", "Pod"));
    expect(JSON.stringify(got)).toBe(JSON.stringify(render(o)));
  });

  it.each(objects)("%s: without intermediate members fieldsOf renders the set an apply owns", (_name, o) => {
    const scope = scopeOf(o, undefined);
    const got = fieldsOf(scope, schemaOf("v1", "Pod"), false);
    expect(JSON.stringify(got)).toBe(
      JSON.stringify(setToFields(flatten(scope, schemaOf("v1", "Pod")).keys())),
    );
  });

  it.each(objects)("%s: frozen parts render as unfrozen ones do, each mode its own", (_name, o) => {
    const deepFrozen = (v: unknown): unknown => {
      if (typeof v === "object" && v !== null) {
        for (const x of Object.values(v)) deepFrozen(x);
        Object.freeze(v);
      }
      return v;
    };
    const copy = structuredClone(o);
    const spec = deepFrozen(copy.spec);
    const meta = deepFrozen(copy.metadata);
    const schema = schemaOf("v1", "Pod");
    for (const intermediate of [true, false, true]) {
      // a fresh top level around the same frozen members, as a controller stamping pods from a template
      const scope = scopeOf({ ...copy, spec, metadata: meta } as JsonMap, undefined);
      const want = setToFields(flatten(scopeOf(o, undefined), schema, intermediate).keys());
      expect(JSON.stringify(fieldsOf(scope, schema, intermediate))).toBe(JSON.stringify(want));
    }
  });

  it("objects of one shape share one frozen tree, and every shape renders its own", () => {
    const schema = schemaOf("v1", "Pod");
    // in this order: each differs from the one before in one thing the tree depends on
    const shapes: JsonMap[] = [
      pod(shared, { app: "a" }),
      pod(shared, { app: "b" }),
      pod(shared, { ap: "a" }),
      pod(shared, { "1:a": "x" }),
      pod(shared, { "1": "a:x" }),
      pod({ ...shared, containers: [containers[1], containers[0]] }),
      pod({ ...shared, containers: [{ name: "other", image: "i" }] }),
      pod({ ...shared, containers: [containers[0], { image: "no name" }] }),
      pod({ ...shared, containers: [containers[0], { image: "no name" }, { image: "again" }] }),
      pod(shared, {}),
      pod(shared, { a: { b: "c" } }),
      pod(shared, { a: "b" }),
      pod({ ...shared, nodeName: { a: undefined } }),
    ];
    const seen: unknown[] = [];
    for (const o of shapes) {
      const got = fieldsOf(scopeOf(o, undefined), schema);
      expect(JSON.stringify(got)).toBe(JSON.stringify(render(o)));
      expect(Object.isFrozen(got)).toBe(true);
      seen.push(got);
    }
    // values are not part of the shape: the first two share their tree, the rest differ
    expect(seen[1]).toBe(seen[0]);
    expect(new Set(seen).size).toBe(shapes.length - 1);
  });

  const edits: Array<[string, JsonMap, JsonMap]> = [
    ["label added", pod(shared), pod(shared, { app: "a", b: "c" })],
    ["labels replaced", pod(shared), pod(shared, { x: "y" })],
    ["item removed", pod(shared), pod({ ...shared, containers: [containers[1]] })],
    ["item added", pod({ containers: [containers[1]] }), pod(shared)],
    ["list emptied and map became a leaf", pod(shared), pod({ containers, tolerations: [], nodeName: {} })],
    ["everything removed", pod(shared), { apiVersion: "v1", kind: "Pod", metadata: {} }],
    ["from nothing", { apiVersion: "v1", kind: "Pod", metadata: {} }, pod(shared)],
  ];

  it.each(edits)("%s: editFields gives the tree of the edited set", (_name, before, after) => {
    const base = render(before);
    const from = fieldsToSet(base);
    const to = fieldsToSet(render(after));
    const adds = [...to].filter((p) => !from.has(p));
    const dels = [...from].filter((p) => !to.has(p));
    const got = editFields(base, adds, dels);
    expect(JSON.stringify(got)).toBe(JSON.stringify(render(after)));
    expect(JSON.stringify(base)).toBe(JSON.stringify(render(before)));
  });
});
