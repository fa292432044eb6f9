import { describe, expect, it } from "vitest";
import { GtbError } from "../../core/errors.ts";
import { memoryFileTree, renderChartText } from "./index.ts";

const CHART = 'apiVersion: v2\nname: t\nversion: 1.2.3\nappVersion: "9.9"\n';

/** Render one template (templates/x.yaml) with chart values and --set style parameters; return its text. */
async function tpl(
  src: string,
  values = "",
  opts: { parameters?: Array<{ name: string; value: string }>; helpers?: string } = {},
): Promise<string> {
  const files: Record<string, string> = {
    "Chart.yaml": CHART,
    "values.yaml": values,
    "templates/x.yaml": `# out\n${src}`,
  };
  if (opts.helpers !== undefined) files["templates/_helpers.tpl"] = opts.helpers;
  const r = await renderChartText({
    tree: memoryFileTree(files),
    path: "",
    releaseName: "rel",
    namespace: "ns",
    helm: { parameters: opts.parameters },
  });
  const m = r.outputs.find((o) => o.name === "t/templates/x.yaml");
  if (m === undefined) throw new Error("no output");
  return m.text.replace(/^# out\n/, "");
}

async function tplError(src: string, values = ""): Promise<GtbError> {
  try {
    await tpl(src, values);
  } catch (e) {
    if (e instanceof GtbError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("Go template gotchas", () => {
  it("trims whitespace with {{- and -}} (comments too)", async () => {
    expect(await tpl('a:  {{- "b" -}}  \n  c')).toBe("a:bc");
    expect(await tpl("a: 1\n{{- /* gone */ -}}\nb: 2")).toBe("a: 1b: 2");
    expect(await tpl("a: {{/* c */}}x")).toBe("a: x");
    expect(await tpl('k: v{{ "-" }}x')).toBe("k: v-x");
  });

  it("ranges over maps in sorted key order", async () => {
    const v = "m:\n  zeta: 1\n  alpha: 2\n  mid: 3\n";
    expect(await tpl("r: {{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}", v)).toBe(
      "r: alpha=2;mid=3;zeta=1;",
    );
    expect(await tpl("r: {{ range .Values.m }}{{ . }}{{ end }}", v)).toBe("r: 231");
  });

  it("with changes dot and skips empty values; else runs instead", async () => {
    const v = "a:\n  b: deep\nempty: {}\n";
    expect(await tpl("r: {{ with .Values.a }}{{ .b }}{{ end }}", v)).toBe("r: deep");
    expect(await tpl("r: {{ with .Values.empty }}x{{ else }}none{{ end }}", v)).toBe("r: none");
    expect(await tpl("r: {{ with .Values.a }}{{ .b }}{{ else with .Values.x }}no{{ end }}", v)).toBe(
      "r: deep",
    );
  });

  it("$ stays the root inside range and with", async () => {
    const v = "l: [a, b]\n";
    expect(await tpl("r: {{ range .Values.l }}{{ $.Release.Name }}-{{ . }} {{ end }}", v)).toBe(
      "r: rel-a rel-b ",
    );
    expect(await tpl("r: {{ range $i, $x := .Values.l }}{{ $i }}{{ $x }}{{ end }}", v)).toBe("r: 0a1b");
  });

  it("eq on mixed types errors like Go; values from YAML are float64", async () => {
    const e = await tplError("r: {{ if eq .Values.replicas 3 }}y{{ end }}", "replicas: 3\n");
    expect(e.code).toBe("GTB_RENDER_HELM_EXECUTION");
    expect(e.message).toContain("error calling eq: incompatible types for comparison");
    expect(e.message).toMatch(
      /^template: t\/templates\/x\.yaml:2:9: executing "t\/templates\/x\.yaml" at <eq \.Values\.replicas 3>/,
    );
    expect(e.file).toBe("templates/x.yaml");
    expect(e.line).toBe(2);
    expect(
      await tpl('r: {{ eq .Values.replicas 3.0 }} {{ eq .Values.s "x" "y" }}', "replicas: 3\ns: x\n"),
    ).toBe("r: true true");
    expect(await tpl('r: {{ eq .Values.missing "x" }}', "")).toBe("r: false");
    const lt = await tplError("r: {{ gt .Values.replicas 1 }}", "replicas: 3\n");
    expect(lt.message).toContain("error calling gt: incompatible types for comparison");
    // --set integers are int64
    expect(
      await tpl("r: {{ eq .Values.replicas 3 }}", "", { parameters: [{ name: "replicas", value: "3" }] }),
    ).toBe("r: true");
  });

  it("default treats empty values as unset", async () => {
    const v = 'f: false\nz: 0\ns: ""\nl: []\nm: {}\nt: set\n';
    expect(
      await tpl(
        'r: {{ default "d" .Values.f }} {{ default "d" .Values.z }} {{ default "d" .Values.s }} {{ default "d" .Values.l }} {{ default "d" .Values.m }} {{ default "d" .Values.none }} {{ default "d" .Values.t }}',
        v,
      ),
    ).toBe("r: d d d d d d set");
    expect(await tpl('r: {{ .Values.none | default "x" }}')).toBe("r: x");
  });

  it("toYaml sorts keys as go-yaml does and quotes what would not read back as a string", async () => {
    const v = [
      "m:",
      '  b: "true"',
      '  a: ""',
      '  c: "1.0"',
      '  d: "foo: bar"',
      '  e: "line1\\nline2"',
      "  z10: 1",
      "  z9: 2.5",
      '  on: "yes"',
      '  f: "*star"',
      "  g: 1000000",
      "  h: [x, {k: v, a: 1}]",
      "  i: {}",
      "  j: null",
      '  k: "2024-01-02"',
      '  l: " lead"',
      '  tab: "a\\tb"',
      "",
    ].join("\n");
    expect(await tpl("{{ toYaml .Values.m }}", v)).toBe(
      [
        'a: ""',
        'b: "true"',
        'c: "1.0"',
        "d: 'foo: bar'",
        "e: |-",
        "  line1",
        "  line2",
        "f: '*star'",
        "g: 1000000",
        "h:",
        "- x",
        "- a: 1",
        "  k: v",
        "i: {}",
        "j: null",
        'k: "2024-01-02"',
        "l: ' lead'",
        'tab: "a\\tb"',
        '"true": "yes"',
        "z9: 2.5",
        "z10: 1",
      ].join("\n"),
    );
  });

  it("toYaml folds long plain strings past column 80 like go-yaml v2", async () => {
    const long = "word ".repeat(30).trim();
    const out = await tpl("{{ toYaml .Values }}", `d: ${long}\n`);
    const lines = out.split("\n");
    expect(lines.length).toBe(2);
    expect(lines[0]!.length).toBeGreaterThan(80);
    expect(lines[1]!.startsWith("  word")).toBe(true);
  });

  it("prints numbers, maps, lists and nil as Go does", async () => {
    const v = "i: 3\nbig: 1000000\nf: 1.5\nsmall: 0.00001\nm: {b: 2, a: 1}\nl: [a, b]\nn: null\n";
    expect(await tpl("r: {{ .Values.i }} {{ .Values.big }} {{ .Values.f }} {{ .Values.small }}", v)).toBe(
      "r: 3 1e+06 1.5 1e-05",
    );
    expect(await tpl("r: {{ .Values.m }} {{ .Values.l }} [{{ .Values.n }}] [{{ .Values.none }}]", v)).toBe(
      "r: map[a:1 b:2] [a b] [] []",
    );
    expect(await tpl('r: {{ printf "%v|%d|%d" .Values.n .Values.i (int .Values.i) }}', v)).toBe(
      "r: <nil>|%!d(float64=3)|3",
    );
    expect(await tpl("r: {{ .Values.big }}", "", { parameters: [{ name: "big", value: "1000000" }] })).toBe(
      "r: 1000000",
    );
    expect(
      await tpl("r: {{ add 1 .Values.i }} {{ len .Values.l }} {{ div 7 2 }} {{ 1.0 }} {{ 2e3 }}", v),
    ).toBe("r: 4 2 3 1 2000");
  });

  it("formats printf verbs with Go's rules", async () => {
    const cases: Array<[string, string]> = [
      ['printf "%s-%q" "a" "b\\"c"', 'a-"b\\"c"'],
      ['printf "%05.2f|%.1f|%f" 3.14159 2.25 1.0', "03.14|2.2|1.000000"],
      ['printf "%x|%X|%o|%b" 255 255 8 5', "ff|FF|10|101"],
      ['printf "%t|%v|%T|%T|%T" true false 1 1.5 "s"', "true|false|int|float64|string"],
      ['printf "%5s|%-5s|%%" "ab" "cd"', "   ab|cd   |%"],
      ['printf "%s" 1', "%!s(int=1)"],
      ['printf "%d %d" 1', "1 %!d(MISSING)"],
      ['printf "%d" 1 2', "1%!(EXTRA int=2)"],
      ['printf "%e|%g" 123456.0 0.000001', "1.234560e+05|1e-06"],
      ['printf "%v" (list 1 "a" (dict "k" 2))', "[1 a map[k:2]]"],
      ['print 1 2 "a" 3', "1 2a3"],
    ];
    for (const [expr, want] of cases) expect(await tpl(`r: {{ ${expr} }}`)).toBe(`r: ${want}`);
  });

  it("missing values render empty; fields of missing maps are nil pointer errors", async () => {
    expect(await tpl("r: [{{ .Values.nope }}]")).toBe("r: []");
    const e = await tplError("r: {{ .Values.a.b }}");
    expect(e.message).toContain("nil pointer evaluating interface {}.b");
    const f = await tplError("r: {{ .Chart.Nope }}");
    expect(f.message).toContain("can't evaluate field Nope in type *chart.Metadata");
  });

  it("required and fail error as Helm words them", async () => {
    const e = await tplError(
      'a: 1\nr: {{ required "image.tag is required" .Values.image.tag }}',
      "image: {}\n",
    );
    expect(e.message).toBe("execution error at (t/templates/x.yaml:3:6): image.tag is required");
    const f = await tplError('r: {{ fail "nope" }}');
    expect(f.message).toBe("execution error at (t/templates/x.yaml:2:6): nope");
  });

  it("unsupported functions and syntax errors name file, line and column", async () => {
    const e = await tplError("a: 1\nb: {{ frobnicate 1 }}");
    expect(e.code).toBe("GTB_RENDER_HELM_UNSUPPORTED_FUNCTION");
    expect([e.file, e.line, e.column]).toEqual(["templates/x.yaml", 3, 7]);
    expect(e.message).toContain('function "frobnicate" not defined');
    const p = await tplError("a: {{ if .Values.x }}\nb");
    expect(p.code).toBe("GTB_RENDER_HELM_PARSE");
    expect(p.line).toBe(2);
  });

  it("if / else if / else, and/or short-circuit, not", async () => {
    const src =
      '{{ if eq .Values.k "a" }}A{{ else if eq .Values.k "b" }}B{{ else if eq .Values.k "c" }}C{{ else }}Z{{ end }}';
    expect(await tpl(`r: ${src}`, "k: b\n")).toBe("r: B");
    expect(await tpl(`r: ${src}`, "k: c\n")).toBe("r: C");
    expect(await tpl(`r: ${src}`, "k: q\n")).toBe("r: Z");
    expect(await tpl('r: {{ and false (fail "x") }} {{ or 0 "" "v" }} {{ not 0 }} {{ and 1 2 }}')).toBe(
      "r: false v true 2",
    );
  });

  it("variables, assignment across range, break / continue, range over int", async () => {
    expect(
      await tpl(
        "r: {{ $n := 0 }}{{ range .Values.l }}{{ $n = add $n . }}{{ end }}{{ $n }}",
        "l: [1, 2, 3]\n",
      ),
    ).toBe("r: 6");
    expect(
      await tpl(
        "r: {{ range .Values.l }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ if eq . 4.0 }}{{ break }}{{ end }}{{ . }}{{ end }}",
        "l: [1, 2, 3, 4, 5]\n",
      ),
    ).toBe("r: 13");
    expect(
      await tpl("r: {{ range 3 }}{{ . }}{{ end }} {{ range .Values.none }}x{{ else }}empty{{ end }}"),
    ).toBe("r: 012 empty");
  });

  it("define, template, block, include with nindent, tpl", async () => {
    const helpers = '{{- define "t.lbl" -}}\na: {{ .a }}\nb: {{ .b }}\n{{- end }}';
    expect(await tpl('m:{{- include "t.lbl" (dict "a" 1 "b" "x") | nindent 2 }}', "", { helpers })).toBe(
      "m:\n  a: 1\n  b: x",
    );
    expect(await tpl('r: {{ template "t.lbl" (dict "a" 1 "b" 2) }}', "", { helpers })).toBe("r: a: 1\nb: 2");
    expect(await tpl('r: {{ block "blk" . }}default{{ end }}')).toBe("r: default");
    expect(await tpl("r: {{ tpl .Values.t . }}", 'x: 5\nt: "{{ .Values.x }}-{{ .Release.Name }}"\n')).toBe(
      "r: 5-rel",
    );
  });

  it("Helm and sprig functions", async () => {
    const cases: Array<[string, string]> = [
      ['"a-b-" | trimSuffix "-"', "a-b"],
      ['trunc 3 "abcdef"', "abc"],
      ['"hello world" | title', "Hello World"],
      ['list "b" "a" "c" | sortAlpha | join ","', "a,b,c"],
      ['splitList "," "a,b" | last', "b"],
      ['dict "a" 1 | toJson', '{"a":1}'],
      ['"<x>" | toJson', '"\\u003cx\\u003e"'],
      ['quote "a" 1 nil', '"a" "1"'],
      ['squote "a"', "'a'"],
      ['"abc" | b64enc', "YWJj"],
      ['"YWJj" | b64dec', "abc"],
      ['"abc" | sha256sum | trunc 8', "ba7816bf"],
      ['semverCompare ">=1.19-0" "v1.31.0"', "true"],
      ['semverCompare "~1.2.0" "1.3.0"', "false"],
      [`regexReplaceAll "a(x*)b" "-ab-axxb-" "${"$"}{1}W"`, "-W-xxW-"],
      ['regexMatch "^[a-z]+$" "abc"', "true"],
      ['kindIs "map" (dict)', "true"],
      ["typeOf (list)", "[]interface {}"],
      ['coalesce "" nil "z"', "z"],
      ['ternary "y" "n" true', "y"],
      ['hasKey (dict "a" 1) "a"', "true"],
      ['keys (dict "b" 1 "a" 2) | sortAlpha', "[a b]"],
      ['pick (dict "a" 1 "b" 2) "a"', "map[a:1]"],
      ['omit (dict "a" 1 "b" 2) "a"', "map[b:2]"],
      ['merge (dict "a" 1) (dict "a" 2 "b" 3)', "map[a:1 b:3]"],
      ['mergeOverwrite (dict "a" 1) (dict "a" 2 "b" 3)', "map[a:2 b:3]"],
      ["list 1 2 2 3 | uniq", "[1 2 3]"],
      ["without (list 1 2 3) 2", "[1 3]"],
      ["has 2 (list 1 2)", "true"],
      ['compact (list "" "a" 0 1)', "[a 1]"],
      ['"FooBar" | snakecase', "foo_bar"],
      ['"foo_bar" | camelcase', "FooBar"],
      ['"FooBar" | kebabcase', "foo-bar"],
      ['abbrev 5 "hello world"', "he..."],
      ['substr 1 3 "hello"', "el"],
      ['repeat 3 "ab"', "ababab"],
      ['nospace " a b "', "ab"],
      ['"a b" | replace " " "-"', "a-b"],
      ['"  x  " | trim', "x"],
      ['trimAll "$" "$5$"', "5"],
      ['contains "ell" "hello"', "true"],
      ['atoi "42" | add 1', "43"],
      ["mul 3 4 | sub 20", "8"],
      ["max 1 5 3", "5"],
      ["floor 1.7", "1"],
      ['float64 "1.5"', "1.5"],
      ["toString 1.5", "1.5"],
      ['(fromYaml "a: 1\\nb: [x]").b', "[x]"],
      ['fromJson "{\\"a\\": 1}" | toYaml', "a: 1"],
      ['dig "a" "b" "def" (dict "a" (dict "b" "v"))', "v"],
      ['dig "a" "z" "def" (dict "a" (dict "b" "v"))', "def"],
      ['lookup "v1" "Pod" "ns" "x" | len', "0"],
      ['indent 2 "a\\nb"', "  a\n  b"],
      ["until 3", "[0 1 2]"],
      ['cat "a" nil "b"', "a b"],
      ['plural "one" "many" 2', "many"],
      ['adler32sum "abc"', "38600999"],
      ['index (list "a" "b") 1', "b"],
      ['index (dict "k" "v") "k"', "v"],
      ["slice (list 1 2 3) 1", "[2 3]"],
      [".Capabilities.KubeVersion.Version", "v1.31.0"],
      ['.Capabilities.APIVersions.Has "apps/v1"', "true"],
      ['.Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget"', "true"],
      ['.Capabilities.APIVersions.Has "argoproj.io/v1alpha1"', "false"],
      ["toJson .Chart", '{"apiVersion":"v2","appVersion":"9.9","name":"t","version":"1.2.3"}'],
      [".Chart.AppVersion", "9.9"],
      [".Template.Name", "t/templates/x.yaml"],
      [".Release.IsInstall", "true"],
      [".Release.Revision", "1"],
      ['html "<a>"', "&lt;a&gt;"],
      ['urlquery "a b&c"', "a+b%26c"],
    ];
    for (const [expr, want] of cases) expect(await tpl(`r: {{ ${expr} }}`), expr).toBe(`r: ${want}`);
  });

  it("runaway include recursion is an error, not a crash", async () => {
    const e = await tplError('a: {{ include "loop" . }}{{ define "loop" }}{{ include "loop" . }}{{ end }}');
    expect(e.message).toContain("rendering template has a nested reference name: loop");
    expect(e.message.length).toBeLessThan(1000);
  });

  it("wrong argument types error like Go", async () => {
    const e = await tplError("r: {{ upper .Values.num }}", "num: 1\n");
    expect(e.message).toContain("wrong type for value; expected string; got float64");
  });
});
