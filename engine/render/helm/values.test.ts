import { describe, expect, it } from "vitest";
import { SeededRng } from "../../../simulator/clock/rng.ts";
import { VirtualClock } from "../../../simulator/clock/virtual.ts";
import { GtbError } from "../../core/errors.ts";
import { localFileTree, memoryFileTree, mergeValues, parseSetValues, renderChartText } from "./index.ts";

describe("parseSetValues (Helm --set syntax)", () => {
  const cases: Array<[string, unknown]> = [
    ["a.b=c", { a: { b: "c" } }],
    [
      "a=1,b=true,c=null,d=0,e=012,f=1.5,g=FALSE",
      { a: 1n, b: true, c: null, d: 0n, e: "012", f: "1.5", g: false },
    ],
    ["list[0]=x,list[2]=z", { list: ["x", null, "z"] }],
    ["a\\.b=c", { "a.b": "c" }],
    ["name={a,b,3}", { name: ["a", "b", 3n] }],
    ["nested[0].k=v,nested[0].n=2", { nested: [{ k: "v", n: 2n }] }],
    ["a=x\\,y", { a: "x,y" }],
    ["a=", { a: "" }],
    ["a.b=1,a.c=2", { a: { b: 1n, c: 2n } }],
  ];
  it.each(cases)("%s", (expr, want) => {
    expect(parseSetValues([expr])).toEqual(want);
  });
  it("forceString keeps strings", () => {
    expect(parseSetValues(["a=1,b=true"], { forceString: true })).toEqual({ a: "1", b: "true" });
  });
  it("rejects a key without a value", () => {
    expect(() => parseSetValues(["a"])).toThrow(/has no value/);
  });
});

describe("mergeValues", () => {
  it("merges maps, replaces lists and scalars, deletes on null", () => {
    const base = { a: { b: 1, c: 2 }, l: [1, 2], s: "x" };
    const out = mergeValues(base, { a: { b: null, d: 3 }, l: [9], s: { now: "map" } });
    expect(out).toEqual({ a: { c: 2, d: 3 }, l: [9], s: { now: "map" } });
    expect(base).toEqual({ a: { b: 1, c: 2 }, l: [1, 2], s: "x" });
    expect(mergeValues({ a: 1 }, { a: null }, { keepNulls: true })).toEqual({ a: null });
  });
});

const CHART = "apiVersion: v2\nname: p\nversion: 0.1.0\n";

describe("Argo CD value precedence", () => {
  it("parameters > valuesObject > values > valueFiles (in order) > chart values.yaml; null deletes", async () => {
    const tree = memoryFileTree({
      "c/Chart.yaml": CHART,
      "c/values.yaml":
        "p: chart\no: chart\nv: chart\nf2: chart\nf1: chart\nkeep: chart\ndel: x\nyes11: yes\n",
      "c/f1.yaml": "p: f1\no: f1\nv: f1\nf2: f1\nf1: f1\n",
      "envs/f2.yaml": "p: f2\no: f2\nv: f2\nf2: f2\ndel: null\n",
      "c/templates/t.yaml":
        '{{ .Values.p }} {{ .Values.o }} {{ .Values.v }} {{ .Values.f2 }} {{ .Values.f1 }} {{ .Values.keep }} {{ hasKey .Values "del" }} {{ .Values.yes11 }}',
    });
    const r = await renderChartText({
      tree,
      path: "c",
      releaseName: "r",
      helm: {
        valueFiles: ["f1.yaml", "../envs/f2.yaml"],
        values: "p: values\no: values\nv: values\n",
        valuesObject: { p: "object", o: "object" },
        parameters: [{ name: "p", value: "param" }],
      },
    });
    expect(r.outputs[0]?.text).toBe("param object values f2 f1 chart false true");
  });

  it("a missing value file is an error naming it", async () => {
    const tree = memoryFileTree({ "Chart.yaml": CHART, "templates/t.yaml": "" });
    const e = await renderChartText({
      tree,
      path: "",
      releaseName: "r",
      helm: { valueFiles: ["nope.yaml"] },
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GtbError);
    expect((e as GtbError).code).toBe("GTB_RENDER_HELM_VALUE_FILE_MISSING");
    expect((e as GtbError).path).toBe("spec.source.helm.valueFiles[0]");
  });

  it("a dependency listed but not vendored is an error", async () => {
    const tree = memoryFileTree({
      "Chart.yaml": `${CHART}dependencies:\n  - name: redis\n    version: 1.0.0\n    repository: https://charts.example.com\n`,
    });
    const e = await renderChartText({ tree, path: "", releaseName: "r" }).catch((x: unknown) => x);
    expect((e as GtbError).code).toBe("GTB_RENDER_HELM_DEPENDENCY_MISSING");
  });
});

describe("injected clock and rng", () => {
  const tree = memoryFileTree({
    "Chart.yaml": CHART,
    "templates/t.yaml": '{{ now | date "2006-01-02T15:04:05Z07:00" }} {{ uuidv4 }} {{ randAlphaNum 8 }}',
  });
  it("now/date read the injected Clock; uuidv4/randAlphaNum draw from the injected Rng", async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const run = async (seed: number) =>
      (await renderChartText({ tree, path: "", releaseName: "r" }, { clock, rng: new SeededRng(seed) }))
        .outputs[0]?.text ?? "";
    const a = await run(1);
    expect(a).toMatch(
      /^2026-01-02T03:04:05Z [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} [A-Za-z0-9]{8}$/,
    );
    expect(await run(1)).toBe(a);
    expect(await run(2)).not.toBe(a);
  });
});

describe("localFileTree", () => {
  it("lists files recursively, sorted, relative to the root; missing files read as undefined", async () => {
    const tree = localFileTree(new URL("../../../fixtures/charts/platform/chart", import.meta.url).pathname);
    const files = await tree.list("charts");
    expect(files).toContain("charts/redis/templates/service.yaml");
    expect([...files].sort()).toEqual(files);
    expect(await tree.read("nope.yaml")).toBeUndefined();
    expect(await tree.read("../../../../package.json")).toBeUndefined();
    expect((await tree.readBytes("files/b.conf"))?.length).toBe(3);
  });
});

describe("caches never leak template mutations between renders", () => {
  it("set on .Values and .Chart.Annotations does not change the next render", async () => {
    const { createHelmRenderer } = await import("./index.ts");
    const tree = memoryFileTree({
      "Chart.yaml": `${CHART}annotations:\n  a: orig\n`,
      "values.yaml": "x: orig\n",
      "templates/cm.yaml":
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: {{ .Values.x }}\n  a: {{ .Chart.Annotations.a }}\n{{- $_ := set .Values "x" "mutated" }}{{ $_ := set .Chart.Annotations "a" "mutated" }}',
    });
    const r = createHelmRenderer();
    for (let i = 0; i < 2; i++) {
      const out = await r.render({ tree, path: "", appName: "a" });
      expect(out[0]?.object.data).toEqual({ x: "orig", a: "orig" });
    }
  });
});
