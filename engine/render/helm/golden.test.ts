import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { HelmSourceOptions } from "../types.ts";
import {
  createHelmRenderer,
  formatHelmTemplate,
  localFileTree,
  renderChart,
  splitManifests,
} from "./index.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../fixtures/charts");

interface Case {
  name: string;
  release?: string;
  namespace?: string;
  helm?: HelmSourceOptions;
  expected: string;
}

for (const dir of readdirSync(root).sort()) {
  const cases = parse(readFileSync(join(root, dir, "cases.yaml"), "utf8")) as Case[];
  describe(`golden chart ${dir}`, () => {
    for (const c of cases) {
      it(`${c.name} renders exactly as helm template`, async () => {
        const r = await renderChart({
          tree: localFileTree(join(root, dir)),
          path: "chart",
          releaseName: c.release ?? "release-name",
          namespace: c.namespace ?? "default",
          helm: c.helm,
        });
        const want = readFileSync(join(root, dir, c.expected), "utf8");
        const got = formatHelmTemplate(r);
        // line by line first, for a readable failure
        const gl = got.split("\n");
        for (const [i, line] of want.split("\n").entries())
          expect(gl[i], `${c.expected}:${i + 1}`).toBe(line);
        expect(got).toBe(want);
      });

      it(`${c.name} through the Renderer port: objects parsed, namespaces not injected`, async () => {
        const renderer = createHelmRenderer();
        const out = await renderer.render({
          tree: localFileTree(join(root, dir)),
          path: "chart",
          appName: c.release ?? "release-name",
          namespace: c.namespace ?? "default",
          helm: { ...c.helm, releaseName: c.release ?? "release-name", skipCrds: true },
        });
        const want = readFileSync(join(root, dir, c.expected), "utf8");
        const docs = splitManifests(want)
          .map((d) => ({
            source: /^# Source: (.*)$/m.exec(d)?.[1],
            object: parse(d, { version: "1.1" }) as unknown,
          }))
          .filter((d) => d.object !== null);
        expect(out.map((m) => m.source)).toEqual(docs.map((d) => d.source));
        expect(out.map((m) => m.object)).toEqual(docs.map((d) => d.object));
        for (const m of out) expect(m.object.metadata?.namespace).toBeUndefined();
      });
    }
  });
}

describe("CRDs", () => {
  it("the Renderer includes crds/ first unless skipCrds (as Argo CD passes --include-crds)", async () => {
    const renderer = createHelmRenderer();
    const req = { tree: localFileTree(join(root, "platform")), path: "chart", appName: "rel" };
    const withCrds = await renderer.render(req);
    expect(withCrds[0]?.source).toBe("platform/crds/widgets.yaml");
    expect(withCrds[0]?.object.kind).toBe("CustomResourceDefinition");
    const without = await renderer.render({ ...req, helm: { skipCrds: true } });
    expect(without.some((m) => m.object.kind === "CustomResourceDefinition")).toBe(false);
  });
});
