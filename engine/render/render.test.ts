import { describe, expect, it } from "vitest";
import { SeededRng } from "../../simulator/clock/rng.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { createDirectoryRenderer } from "./directory.ts";
import { globMatch } from "./glob.ts";
import { splitHelmOutput } from "./helm-binary.ts";
import { createKustomizeRenderer } from "./kustomize.ts";
import { MemoryFileTree } from "./memory-tree.ts";
import { createDefaultRenderers, detectSourceType } from "./select.ts";
import type { Renderer } from "./types.ts";

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;
const names = (ms: Array<{ object: { metadata: { name?: string } } }>) =>
  ms.map((m) => m.object.metadata.name);

describe("glob", () => {
  it.each([
    ["*.yaml", "a.yaml", true],
    ["*.yaml", "sub/a.yaml", true],
    ["{a.yaml,b.yaml}", "b.yaml", true],
    ["{a.yaml,b.yaml}", "c.yaml", false],
    ["prod/*", "prod/x.yml", true],
    ["[ab].json", "c.json", false],
    ["?.json", "a.json", true],
  ])("%s matches %s: %s", (pattern, path, want) => {
    expect(globMatch(pattern, path)).toBe(want);
  });
});

describe("directory renderer", () => {
  const tree = new MemoryFileTree({
    "app/a.yaml": `${cm("a")}---\n${cm("a2")}\n---\n`,
    "app/b.yml": cm("b"),
    "app/c.json": JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [JSON.parse(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }))],
    }),
    "app/README.md": "# not a manifest",
    "app/sub/d.yaml": cm("d"),
    "app/.hidden/e.yaml": cm("e"),
  });
  const r = createDirectoryRenderer();
  const base = { tree, path: "app", appName: "x" };

  it("reads top-level yaml/yml/json, multi-doc, flattens Lists, no recursion by default", async () => {
    expect(names(await r.render(base))).toEqual(["a", "a2", "b", "c"]);
  });
  it("recurses when asked, skipping hidden dirs", async () => {
    expect(names(await r.render({ ...base, directory: { recurse: true } }))).toEqual([
      "a",
      "a2",
      "b",
      "c",
      "d",
    ]);
  });
  it("applies include brace globs and exclude", async () => {
    expect(names(await r.render({ ...base, directory: { include: "{a.yaml,b.yml}" } }))).toEqual([
      "a",
      "a2",
      "b",
    ]);
    expect(names(await r.render({ ...base, directory: { recurse: true, exclude: "sub/*" } }))).toEqual([
      "a",
      "a2",
      "b",
      "c",
    ]);
  });
  it("answers a render of content it has seen (same content id) with that render, without reading", async () => {
    const reads: string[] = [];
    const identified = (files: Record<string, string>, id: string) => {
      const t = new MemoryFileTree(files);
      return {
        read: (p: string) => {
          reads.push(p);
          return t.read(p);
        },
        readBytes: (p: string) => t.readBytes(p),
        list: (d: string) => t.list(d),
        contentId: async (d: string) => (d === "app" ? id : undefined),
      };
    };
    const fresh = createDirectoryRenderer();
    const first = await fresh.render({
      tree: identified({ "app/a.yaml": cm("a") }, "t1"),
      path: "app",
      appName: "x",
    });
    const again = await fresh.render({
      tree: identified({ "app/a.yaml": cm("a") }, "t1"),
      path: "app",
      appName: "y",
    });
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // its documents too, down to their leaves' parents: a caller cannot change the next one's
    const doc = first[0]!.object as unknown as { metadata: object; data: Record<string, string> };
    expect(Object.isFrozen(doc) && Object.isFrozen(doc.metadata) && Object.isFrozen(doc.data)).toBe(true);
    expect(() => {
      doc.data.count = "4";
    }).toThrow(TypeError);
    expect(reads).toEqual(["app/a.yaml"]);
    // other options or other content render again
    expect(
      names(
        await fresh.render({ tree: identified({ "app/b.yaml": cm("b") }, "t2"), path: "app", appName: "x" }),
      ),
    ).toEqual(["b"]);
    const sub = { "app/a.yaml": cm("a"), "app/s/c.yaml": cm("c") };
    expect(
      names(
        await fresh.render({
          tree: identified(sub, "t1"),
          path: "app",
          appName: "x",
          directory: { recurse: true },
        }),
      ),
    ).toEqual(["a", "c"]);
  });
  it("reports YAML errors with file and line", async () => {
    const bad = new MemoryFileTree({
      "p/x.yaml": `${cm("ok")}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n`,
    });
    await expect(r.render({ tree: bad, path: "p", appName: "x" })).rejects.toMatchObject({
      code: "GTB_RENDER_PARSE",
      file: "p/x.yaml",
      line: 12,
    });
    const nokind = new MemoryFileTree({ "p/x.yaml": "apiVersion: v1\nmetadata: {name: a}\n" });
    await expect(r.render({ tree: nokind, path: "p", appName: "x" })).rejects.toMatchObject({
      code: "GTB_RENDER_INVALID_MANIFEST",
    });
  });
});

describe("kustomize renderer", () => {
  it("builds an overlay referencing a base outside its path, applying source options", async () => {
    const tree = new MemoryFileTree({
      "base/kustomization.yaml": "resources:\n- cm.yaml\n",
      "base/cm.yaml": cm("settings"),
      "overlays/prod/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: prod-\n",
      "unrelated/big.yaml": cm("nope"),
    });
    const r = createKustomizeRenderer({ clock: new VirtualClock() });
    const out = await r.render({
      tree,
      path: "overlays/prod",
      appName: "x",
      kustomize: { nameSuffix: "-v1" },
    });
    expect(names(out)).toEqual(["prod-settings-v1"]);
  });
  it("turns a kustomize failure into GTB_RENDER_KUSTOMIZE", async () => {
    const tree = new MemoryFileTree({ "k/kustomization.yaml": "resources:\n- missing.yaml\n" });
    const r = createKustomizeRenderer({ clock: new VirtualClock() });
    await expect(r.render({ tree, path: "k", appName: "x" })).rejects.toMatchObject({
      code: "GTB_RENDER_KUSTOMIZE",
    });
  });
});

describe("source type detection and helm output", () => {
  it.each([
    [{ "c/Chart.yaml": "name: c" }, {}, "helm"],
    [{ "c/kustomization.yaml": "resources: []" }, {}, "kustomize"],
    [{ "c/a.yaml": cm("a") }, {}, "directory"],
    [{ "c/a.yaml": cm("a") }, { helm: {} }, "helm"],
  ])("detects %j %j as %s", async (files, extra, want) => {
    expect(await detectSourceType(new MemoryFileTree(files), { path: "c", ...extra })).toBe(want);
  });
  it("keeps helm # Source: comments", () => {
    const out = splitHelmOutput(
      `---\n# Source: c/templates/cm.yaml\n${cm("a")}---\n# Source: c/templates/b.yaml\n${cm("b")}`,
      "c",
    );
    expect(out.map((m) => m.source)).toEqual(["c/templates/cm.yaml", "c/templates/b.yaml"]);
  });
});

describe("default renderers", () => {
  it("falls back to the built-in chart renderer when no helm binary is used", async () => {
    const set = await createDefaultRenderers({ clock: new VirtualClock(), helmBinary: false });
    const tree = new MemoryFileTree({
      "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
      "c/values.yaml": "count: 1\n",
      "c/templates/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  count: {{ .Values.count | quote }}\n",
    });
    const out = await set.helm.render({
      tree,
      path: "c",
      appName: "rel",
      helm: { parameters: [{ name: "count", value: "2" }] },
    });
    expect(out.map((m) => [m.object.metadata.name, (m.object as { data?: unknown }).data])).toEqual([
      ["rel-cm", { count: "2" }],
    ]);
  });
});

describe("helm renderer memo", () => {
  const chart = (template: string, values = "count: 1\n"): Record<string, string> => ({
    "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "c/values.yaml": values,
    "c/values-prod.yaml": "count: 3\n",
    "c/templates/cm.yaml": template,
  });
  const CM =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  count: {{ .Values.count | quote }}\n";
  const identified = (files: Record<string, string>, id: string) => {
    const t = new MemoryFileTree(files);
    return {
      read: (p: string) => t.read(p),
      readBytes: (p: string) => t.readBytes(p),
      list: (d: string) => t.list(d),
      contentId: async (d: string) => (d === "c" ? id : undefined),
    };
  };
  const data = (out: Awaited<ReturnType<Renderer["render"]>>) =>
    out.map((m) => (m.object as { data?: Record<string, string> }).data);

  it("answers a render of chart content it has seen with that render (frozen); other options render again", async () => {
    const set = await createDefaultRenderers({ clock: new VirtualClock(), helmBinary: false });
    const req = { path: "c", appName: "rel", helm: { valueFiles: ["values-prod.yaml"] } };
    const first = await set.helm.render({ ...req, tree: identified(chart(CM), "t1") });
    const again = await set.helm.render({ ...req, tree: identified(chart(CM), "t1") });
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // its documents too, down to their leaves' parents: a caller cannot change the next one's
    const doc = first[0]!.object as unknown as { metadata: object; data: Record<string, string> };
    expect(Object.isFrozen(doc) && Object.isFrozen(doc.metadata) && Object.isFrozen(doc.data)).toBe(true);
    expect(() => {
      doc.data.count = "4";
    }).toThrow(TypeError);
    expect(data(first)).toEqual([{ count: "3" }]);
    const other = await set.helm.render({ ...req, appName: "rel2", tree: identified(chart(CM), "t1") });
    expect(other).not.toBe(first);
    const changed = await set.helm.render({ ...req, tree: identified(chart(CM, "count: 5\n"), "t2") });
    expect(data(changed)).toEqual([{ count: "3" }]);
    expect(changed).not.toBe(first);
  });

  it("renders again a chart that reads the clock or the random source, and value files outside the chart", async () => {
    const clock = new VirtualClock();
    const set = await createDefaultRenderers({ clock, helmBinary: false });
    const timed = chart(`${CM}  at: {{ now | unixEpoch | quote }}\n`);
    const a = await set.helm.render({ path: "c", appName: "r", tree: identified(timed, "t3") });
    await clock.runUntil(clock.now() + 5_000);
    const b = await set.helm.render({ path: "c", appName: "r", tree: identified(timed, "t3") });
    expect(b).not.toBe(a);
    expect(data(b)[0]?.at).not.toBe(data(a)[0]?.at);
    // a random source of the world's: each render draws anew
    const drawn = await createDefaultRenderers({ clock, rng: new SeededRng(7), helmBinary: false });
    const random = chart(`${CM}  pw: {{ randAlphaNum 8 | quote }}\n`);
    const c = await drawn.helm.render({ path: "c", appName: "r", tree: identified(random, "t4") });
    const d = await drawn.helm.render({ path: "c", appName: "r", tree: identified(random, "t4") });
    expect(d).not.toBe(c);
    expect(data(d)[0]?.pw).not.toBe(data(c)[0]?.pw);
    // without one, the draws are seeded by release and chart: the same render, remembered
    const seeded = await set.helm.render({ path: "c", appName: "r", tree: identified(random, "t4") });
    expect(await set.helm.render({ path: "c", appName: "r", tree: identified(random, "t4") })).toBe(seeded);
    const outside = { ...chart(CM), "shared.yaml": "count: 7\n" };
    const req = { path: "c", appName: "r", helm: { valueFiles: ["../shared.yaml"] } };
    const e = await set.helm.render({ ...req, tree: identified(outside, "t5") });
    const f = await set.helm.render({ ...req, tree: identified(outside, "t5") });
    expect(f).not.toBe(e);
    expect(data(f)).toEqual([{ count: "7" }]);
  });
});
