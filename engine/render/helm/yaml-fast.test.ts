import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { splitManifests } from "./index.ts";
import { parseYamlValue } from "./values.ts";
import { parseSimpleYaml } from "./yaml-fast.ts";

/** The full parser alone (the fast path is an optimisation that must never change a result). */
function full(text: string): unknown {
  return parseYamlValue(`%YAML 1.1\n---\n${text}`);
}

function* yamlFiles(dir: string): Generator<string> {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* yamlFiles(p);
    else if (/\.ya?ml$/.test(f) && !p.includes("/templates/")) yield p;
  }
}

describe("fast YAML path agrees with the full parser", () => {
  const snippets = [
    "a: 1\nb: 1.5\nc: -3\nd: 0.25\ne: 010\nf: 0x1F\ng: 1e3\nh: 1_000\n",
    "yes: y\nno: N\non: off\nt: True\nn: ~\ne:\nq: ''\ns: \"x\\ty\"\n",
    "v: 1.16.0\nip: 10.0.0.1\ncpu: 100m\nmem: 128Mi\np: 80%\nd: 2024-01-02\nt: 12:30\n",
    "sha: 0a1b2c\nsha2: 9f8e7d\nsha3: 12e45\nsha4: 0x1f\nsha5: 3c4fe9\n",
    "k: |\n  line1\n\n  line3\nk2: |-\n  a\n  b\nk3: |+\n  keep\n\nnext: 1\n",
    "list:\n- a\n- b: 1\n  c: 2\n-\n  - nested\n- \"q\"\n- 'it''s'\n",
    "m:\n  n:\n    o: p # comment\n  # full comment\n  q: [1, 2]\n  r: {a: 1}\n",
    "anchors: &a\n  x: 1\nref: *a\n",
    "\"quoted key\": 1\n'single': 2\nplain key: 3\n",
    "multi: first\n  continued\n",
    "- a\n- b\n",
    "scalar\n",
    "",
    "# only comments\n",
    "a: 'x' # c\nb: \"y\" # c\nc: x#y\n",
    "url: http://example.com:8080/path\ncolon: a:b\n",
    "dash: -x\nneg: -5\nminus: -\n",
    "t1: 3.9.0-fix\nt2: 1.2-rc.1\nt3: 1.2.3-4e5\nt4: 1.2-E5\nt5: 1.2-.inf\nt6: 1.2-nan\nt7: 12.0-beta\n",
    "t1: 1.0-1\nt2: 1.5-3\nt3: 2001.12-14\nt4: 1.0-1.0\nt5: 2.0-\n",
  ];
  it.each(snippets)("%j", (text) => {
    const fast = parseSimpleYaml(text);
    if (fast !== undefined) expect(fast.value).toEqual(full(text));
  });

  it("reads a version tag with a suffix itself (values files of a fleet's commits)", () => {
    expect(parseSimpleYaml("image:\n  tag: 3.10.0-fix\n")?.value).toEqual({ image: { tag: "3.10.0-fix" } });
  });

  it("on every fixture document and values file", () => {
    const root = new URL("../../../fixtures/charts", import.meta.url).pathname;
    let checked = 0;
    for (const f of yamlFiles(root)) {
      const text = readFileSync(f, "utf8");
      for (const doc of f.includes("/expected/") ? splitManifests(text) : [text]) {
        const fast = parseSimpleYaml(doc);
        if (fast === undefined) continue;
        expect(fast.value, f).toEqual(full(doc));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
