/**
 * Renders a loaded chart as `helm template` does: values layered and scoped to subcharts,
 * every template parsed into one set (Helm's order, so parent defines win), each non-partial
 * template executed with its built-in objects, `<no value>` blanked, output split into YAML
 * documents and sorted by Helm's kind install order (hooks after the manifests).
 */
import { createHash } from "node:crypto";
import type { Clock } from "../../core/clock.ts";
import { GtbError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import type { KubeObject } from "../../kube/types.ts";
import { type LoadedChart, chartObject } from "./chart.ts";
import { marshalYaml } from "./encode.ts";
import { ExecError, Executor, type FuncDef, type NamedTemplate, type TemplateLookup } from "./exec.ts";
import { goBuiltins } from "./funcs-go.ts";
import { type SprigEnv, sprigFuncs } from "./funcs-sprig.ts";
import { GoStruct, formatV, isMap, type GoMap } from "./gofmt.ts";
import {
  type ArgNode,
  type Node,
  type ParsedFile,
  type Pipeline,
  TemplateSyntaxError,
  parseTemplate,
} from "./parse.ts";
import { ValuesSyntaxError, mergeValues, parseYamlValue } from "./values.ts";

/** Helm's releaseutil.InstallOrder. */
export const INSTALL_ORDER: readonly string[] = [
  "PriorityClass",
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodSecurityPolicy",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "SecretList",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleList",
  "ClusterRoleBinding",
  "ClusterRoleBindingList",
  "Role",
  "RoleList",
  "RoleBinding",
  "RoleBindingList",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];
const ORDER_INDEX = new Map(INSTALL_ORDER.map((k, i) => [k, i]));

/** Helm's default capabilities for `helm template` (Helm 3.16, built against Kubernetes 1.31). */
export const DEFAULT_KUBE_VERSION = "v1.31.0";
const KINDS_BY_GROUP_VERSION: Record<string, string[]> = {
  v1: [
    "ConfigMap",
    "Endpoints",
    "Namespace",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "Secret",
    "Service",
    "ServiceAccount",
  ],
  "apps/v1": ["DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
  "autoscaling/v2": ["HorizontalPodAutoscaler"],
  "batch/v1": ["CronJob", "Job"],
  "networking.k8s.io/v1": ["Ingress", "IngressClass", "NetworkPolicy"],
  "policy/v1": ["PodDisruptionBudget"],
  "rbac.authorization.k8s.io/v1": ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
  "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
  "admissionregistration.k8s.io/v1": ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
  "scheduling.k8s.io/v1": ["PriorityClass"],
  "storage.k8s.io/v1": ["StorageClass"],
};

/** Group/versions and group/version/kinds `helm template` knows without a cluster. */
export const DEFAULT_API_VERSIONS: readonly string[] = [
  "v1",
  "admissionregistration.k8s.io/v1",
  "apiextensions.k8s.io/v1",
  "apiregistration.k8s.io/v1",
  "apps/v1",
  "authentication.k8s.io/v1",
  "authorization.k8s.io/v1",
  "autoscaling/v1",
  "autoscaling/v2",
  "batch/v1",
  "certificates.k8s.io/v1",
  "coordination.k8s.io/v1",
  "discovery.k8s.io/v1",
  "events.k8s.io/v1",
  "flowcontrol.apiserver.k8s.io/v1",
  "networking.k8s.io/v1",
  "node.k8s.io/v1",
  "policy/v1",
  "rbac.authorization.k8s.io/v1",
  "scheduling.k8s.io/v1",
  "storage.k8s.io/v1",
  ...Object.entries(KINDS_BY_GROUP_VERSION).flatMap(([gv, kinds]) => kinds.map((k) => `${gv}/${k}`)),
];

export interface ChartManifest {
  /** `<chart>/templates/<file>` (Helm's `# Source:`). */
  source: string;
  /** The document text as Helm prints it (trimmed). */
  content: string;
  /** Parsed object; null for documents holding only comments. */
  object: KubeObject | null;
  hook: boolean;
}

export interface ChartRender {
  chart: string;
  /** CRDs from crds/ (not templated), when requested. */
  crds: ChartManifest[];
  /** Manifests in Helm's order, then hooks. */
  manifests: ChartManifest[];
  /** Rendered NOTES.txt of the top chart ("" when none). */
  notes: string;
}

export interface RenderChartOptions {
  releaseName: string;
  namespace: string;
  /** User-supplied values, already layered (valueFiles, values, valuesObject, parameters). */
  values: GoMap;
  kubeVersion?: string;
  apiVersions?: readonly string[];
  includeCrds?: boolean;
  clock: Pick<Clock, "now">;
  rng: Pick<Rng, "int">;
  /** Parsed templates by content hash, shared between renders. */
  cache?: Map<string, ParsedFile>;
  /** Function table shared between renders (built per render when absent). */
  funcs?: FuncTable;
}

interface TemplateUnit {
  name: string;
  treePath: string;
  src: string;
  chart: LoadedChart;
  values: GoMap;
  basePath: string;
}

/** Parsed templates are shared by content: identical files of different charts parse once. */
function hashKey(src: string): string {
  return createHash("sha1").update(src).digest("base64");
}

function treePathOf(chart: LoadedChart, rel: string): string {
  return chart.dir === "" ? rel : `${chart.dir}/${rel}`;
}

/** Walk the chart and its enabled subcharts, scoping values as Helm does. */
function collectUnits(chart: LoadedChart, fullPath: string, values: GoMap, out: TemplateUnit[]): void {
  for (const t of chart.templates) {
    out.push({
      name: `${fullPath}/${t.path}`,
      treePath: treePathOf(chart, t.path),
      src: t.src,
      chart,
      values,
      basePath: `${fullPath}/templates`,
    });
  }
  const globals = isMap(values.global) ? values.global : {};
  for (const sub of chart.subcharts) {
    const dep = chart.dependencies.find((d) => d.name === sub.name);
    const name = dep?.alias ?? sub.name;
    if (dep?.condition !== undefined) {
      const enabled = conditionValue(values, dep.condition);
      if (enabled === false) continue;
    }
    const scoped = isMap(values[name]) ? (values[name] as GoMap) : {};
    let subValues = mergeValues(sub.values, scoped);
    subValues = mergeValues(subValues, {
      global: mergeValues(isMap(subValues.global) ? subValues.global : {}, globals),
    });
    values[name] = subValues;
    const renamed: LoadedChart =
      name === sub.name ? sub : { ...sub, name, metadata: { ...sub.metadata, name } };
    collectUnits(renamed, `${fullPath}/charts/${name}`, subValues, out);
  }
}

/** A dependency's `condition`: first path (comma-separated) that resolves to a bool decides. */
function conditionValue(values: GoMap, condition: string): boolean | undefined {
  for (const path of condition.split(",").map((p) => p.trim())) {
    let cur: unknown = values;
    for (const seg of path.split(".")) cur = isMap(cur) ? cur[seg] : undefined;
    if (typeof cur === "boolean") return cur;
  }
  return undefined;
}

/** Helm's sortTemplates: deepest paths first, then reverse lexical; later definitions win. */
function helmParseOrder(units: TemplateUnit[]): TemplateUnit[] {
  const depth = (n: string) => n.split("/").length;
  return [...units].sort((a, b) => {
    const da = depth(a.name);
    const db = depth(b.name);
    if (da !== db) return db - da;
    return a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
  });
}

function capabilities(kubeVersion: string, apiVersions: readonly string[]): GoStruct {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(kubeVersion.trim());
  if (!m) {
    throw new GtbError("GTB_RENDER_HELM_KUBE_VERSION", `invalid kube version "${kubeVersion}"`, {
      hint: 'use a version such as "1.31" or "v1.31.2"',
    });
  }
  const version = `v${m[1]}.${m[2]}.${m[3] ?? "0"}${m[4] ?? ""}`;
  const kv = new GoStruct(
    "chartutil.KubeVersion",
    { Version: version, Major: m[1]!, Minor: m[2]! },
    { GitVersion: () => version, String: () => version },
    () => version,
  );
  const set = new Set(apiVersions);
  const apis = new GoStruct("chartutil.VersionSet", {}, { Has: (v: unknown) => set.has(String(v)) }, () =>
    formatV([...apiVersions]),
  );
  const helm = new GoStruct("chartutil.HelmVersion", {
    Version: "v3.16.3",
    GitCommit: "",
    GitTreeState: "",
    GoVersion: "go1.22.7",
  });
  return new GoStruct("*chartutil.Capabilities", { KubeVersion: kv, APIVersions: apis, HelmVersion: helm });
}

function globMatch(pattern: string, path: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "{") re += "(?:";
    else if (c === "}") re += ")";
    else if (c === "," && re.includes("(?:")) re += "|";
    else re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(path);
}

/** `.Files`: Helm's files type (a map of path to bytes) with its methods. */
function filesObject(files: Map<string, Uint8Array>): GoStruct {
  const view: GoMap = {};
  for (const [k, v] of files) view[k] = v;
  const text = (k: string) => {
    const b = files.get(k);
    return b === undefined ? "" : Buffer.from(b).toString("utf8");
  };
  const byBase = (enc: (b: Uint8Array) => string) => {
    const m: GoMap = {};
    for (const [k, v] of files) m[k.slice(k.lastIndexOf("/") + 1)] = enc(v);
    return Object.keys(m).length === 0 ? "" : marshalYaml(m).replace(/\n$/, "");
  };
  return new GoStruct(
    "engine.files",
    {},
    {
      Get: (n: unknown) => text(String(n)),
      GetBytes: (n: unknown) => files.get(String(n)) ?? new Uint8Array(),
      Lines: (n: unknown) => {
        const t = text(String(n));
        return t === "" ? [] : t.replace(/\n$/, "").split("\n");
      },
      Glob: (p: unknown) => {
        const sub = new Map<string, Uint8Array>();
        for (const [k, v] of files) if (globMatch(String(p), k)) sub.set(k, v);
        return filesObject(sub);
      },
      AsConfig: () => byBase((b) => Buffer.from(b).toString("utf8")),
      AsSecrets: () => byBase((b) => Buffer.from(b).toString("base64")),
    },
    undefined,
    view,
  );
}

/** Check every function name at parse time, as Go does. */
function checkFuncs(file: ParsedFile, funcs: ReadonlyMap<string, FuncDef>): void {
  const visitArg = (a: ArgNode): void => {
    if (a.t === "ident" && !funcs.has(a.name)) {
      throw new TemplateSyntaxError(a.pos, `function "${a.name}" not defined`);
    }
    if (a.t === "pipe") visitPipe(a.pipe);
    if (a.t === "chain") visitArg(a.node);
  };
  const visitPipe = (p: Pipeline): void => {
    for (const c of p.cmds) for (const a of c.args) visitArg(a);
  };
  const visit = (nodes: Node[]): void => {
    for (const n of nodes) {
      if (n.t === "action") visitPipe(n.pipe);
      else if (n.t === "if" || n.t === "with" || n.t === "range") {
        visitPipe(n.pipe);
        visit(n.list);
        if (n.elseList) visit(n.elseList);
      } else if (n.t === "template" && n.pipe) visitPipe(n.pipe);
    }
  };
  visit(file.root);
  for (const d of file.defines.values()) visit(d);
}

function parseError(e: TemplateSyntaxError, treePath: string, unsupported: boolean): GtbError {
  return new GtbError(
    unsupported ? "GTB_RENDER_HELM_UNSUPPORTED_FUNCTION" : "GTB_RENDER_HELM_PARSE",
    `parse error at (${e.pos.file}:${e.pos.line}): ${e.detail}`,
    {
      file: treePath,
      line: e.pos.line,
      column: e.pos.col + 1,
      hint: unsupported
        ? "the built-in renderer supports Go's template builtins, Sprig's functions and Helm's (include, tpl, required, fail, toYaml, fromYaml, toJson, fromJson, lookup)"
        : "fix the template syntax",
    },
  );
}

/** Turn an execution failure into a GtbError worded as Helm words it. */
function execError(e: ExecError, pathOf: (name: string) => string): GtbError {
  const origin = e.origin;
  const outer = e.pos;
  const message =
    e.userMessage !== undefined
      ? `execution error at (${outer.file}:${outer.line}:${outer.col}): ${e.userMessage}`
      : e.message;
  return new GtbError(
    e.undefinedFunc !== undefined ? "GTB_RENDER_HELM_UNSUPPORTED_FUNCTION" : "GTB_RENDER_HELM_EXECUTION",
    message,
    {
      file: pathOf(origin.file),
      line: origin.line,
      column: origin.col + 1,
      hint:
        e.userMessage !== undefined
          ? "the chart asked for this (required/fail): set the value it names"
          : e.undefinedFunc !== undefined
            ? `function "${e.undefinedFunc}" is not supported by the built-in Helm renderer`
            : undefined,
    },
  );
}

/** Helm's releaseutil.SplitManifests. */
export function splitManifests(text: string): string[] {
  return text
    .trim()
    .split(/(?:^|\s*\n)---\s*/)
    .filter((d) => d !== "")
    .map((d) => d.trim());
}

function kindLess(a: ChartManifest, b: ChartManifest): number {
  const ka = a.object?.kind ?? "";
  const kb = b.object?.kind ?? "";
  const ia = ORDER_INDEX.get(ka);
  const ib = ORDER_INDEX.get(kb);
  if (ia === undefined && ib === undefined) return ka < kb ? -1 : ka > kb ? 1 : 0;
  if (ia === undefined) return 1;
  if (ib === undefined) return -1;
  return ia - ib;
}

function toManifest(source: string, content: string, treePath: string): ChartManifest {
  let obj: unknown;
  try {
    obj = parseYamlValue(content);
  } catch (e) {
    const ve = e instanceof ValuesSyntaxError ? e : undefined;
    throw new GtbError(
      "GTB_RENDER_HELM_YAML",
      `YAML parse error on ${source}: ${(e as Error).message}${ve?.line === undefined ? "" : ` (line ${ve.line} of the document)`}`,
      { file: treePath, hint: "run `gitops-testbed render` on the chart to see the rendered text" },
    );
  }
  if (obj !== null && !isMap(obj)) {
    throw new GtbError(
      "GTB_RENDER_HELM_YAML",
      `YAML parse error on ${source}: a manifest must be a YAML map`,
      {
        file: treePath,
      },
    );
  }
  const object = obj === null ? null : (obj as unknown as KubeObject);
  const annotations = object?.metadata?.annotations;
  const hook = isMap(annotations) && typeof annotations["helm.sh/hook"] === "string";
  return { source, content, object, hook };
}

/** The function table (Go builtins + Sprig + Helm), built once and bound to one render at a time. */
export interface FuncTable {
  funcs: Map<string, FuncDef>;
  env: { current: SprigEnv | undefined };
}

export function newFuncTable(): FuncTable {
  const env: FuncTable["env"] = { current: undefined };
  const bound = (): SprigEnv => {
    if (env.current === undefined) throw new Error("template functions used outside a render");
    return env.current;
  };
  const proxy: SprigEnv = {
    clock: { now: () => bound().clock.now() },
    rng: { int: (lo, hi) => bound().rng.int(lo, hi) },
    tpl: (src, data, exec) => bound().tpl(src, data, exec),
  };
  return { funcs: new Map<string, FuncDef>([...goBuiltins(), ...sprigFuncs(proxy)]), env };
}

export interface TemplateOutput {
  /** Helm's template name, `<chart>/templates/<file>`. */
  name: string;
  /** Path of the template in the file tree. */
  treePath: string;
  text: string;
}

/** Execute every non-partial template of a loaded chart; returns their texts (in name order) and NOTES.txt. */
export function executeChart(
  chart: LoadedChart,
  opts: RenderChartOptions,
): { outputs: TemplateOutput[]; notes: string } {
  const cache = opts.cache ?? new Map<string, ParsedFile>();
  const values = mergeValues(chart.values, opts.values);
  const units: TemplateUnit[] = [];
  collectUnits(chart, chart.name, values, units);

  const registry = new Map<string, NamedTemplate>();
  const lookup: TemplateLookup = { get: (n) => registry.get(n) };
  const parse = (name: string, src: string): ParsedFile => {
    const key = hashKey(src);
    let pf = cache.get(key);
    if (pf === undefined) {
      pf = parseTemplate(name, src);
      checkFuncs(pf, funcs);
      if (cache.size > 50_000) cache.clear();
      cache.set(key, pf);
    }
    return pf;
  };
  const table = opts.funcs ?? newFuncTable();
  const funcs = table.funcs;
  const env: SprigEnv = {
    clock: opts.clock,
    rng: opts.rng,
    tpl: (src, data, exec): string => {
      let pf: ParsedFile;
      try {
        pf = parse(exec.currentName(), src);
      } catch (e) {
        if (e instanceof TemplateSyntaxError) throw new Error(`cannot parse template "${src}": ${e.message}`);
        throw e;
      }
      const local: TemplateLookup = {
        get: (n) => {
          const d = pf.defines.get(n);
          return d === undefined ? registry.get(n) : { name: n, file: exec.currentFile(), nodes: d };
        },
      };
      const sub: Executor = new Executor(local, funcs);
      return sub
        .executeNodes(exec.currentName(), pf.root, data, exec.currentFile())
        .replaceAll("<no value>", "");
    },
  };
  // Execution below is synchronous, so binding the shared table to this render is safe.
  table.env.current = env;
  try {
    return executeBound(chart, opts, units, parse, registry, lookup, funcs);
  } finally {
    table.env.current = undefined;
  }
}

function executeBound(
  chart: LoadedChart,
  opts: RenderChartOptions,
  units: TemplateUnit[],
  parse: (name: string, src: string) => ParsedFile,
  registry: Map<string, NamedTemplate>,
  lookup: TemplateLookup,
  funcs: Map<string, FuncDef>,
): { outputs: TemplateOutput[]; notes: string } {
  const pathOf = new Map(units.map((u) => [u.name, u.treePath]));
  const pathFor = (name: string) => pathOf.get(name) ?? name;
  const parsed = new Map<string, ParsedFile>();
  for (const u of helmParseOrder(units)) {
    let pf: ParsedFile;
    try {
      pf = parse(u.name, u.src);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw parseError(e, u.treePath, e.detail.startsWith("function "));
      throw e;
    }
    parsed.set(u.name, pf);
    registry.set(u.name, { name: u.name, file: u.name, nodes: pf.root });
    for (const [dn, nodes] of pf.defines) registry.set(dn, { name: dn, file: u.name, nodes });
  }

  const caps = capabilities(opts.kubeVersion ?? DEFAULT_KUBE_VERSION, [
    ...DEFAULT_API_VERSIONS,
    ...(opts.apiVersions ?? []),
  ]);
  const release: GoMap = {
    Name: opts.releaseName,
    Namespace: opts.namespace,
    IsUpgrade: false,
    IsInstall: true,
    Revision: 1n,
    Service: "Helm",
  };
  const chartObjects = new Map<LoadedChart, { chart: GoStruct; files: GoStruct }>();
  const exec = new Executor(lookup, funcs);
  const outputs: TemplateOutput[] = [];
  let notes = "";
  // Execute in Helm's order (so the first error reported is Helm's), output in file-name order.
  for (const u of helmParseOrder(units)) {
    const base = u.name.slice(u.name.lastIndexOf("/") + 1);
    const isNotes = u.name.endsWith("/templates/NOTES.txt");
    if (base.startsWith("_")) continue;
    if (isNotes && u.chart !== chart) continue;
    let objs = chartObjects.get(u.chart);
    if (objs === undefined) {
      objs = { chart: chartObject(u.chart.metadata), files: filesObject(u.chart.files) };
      chartObjects.set(u.chart, objs);
    }
    const data: GoMap = {
      Values: u.values,
      Release: release,
      Chart: objs.chart,
      Capabilities: caps,
      Template: { Name: u.name, BasePath: u.basePath },
      Files: objs.files,
      Subcharts: {},
    };
    let text: string;
    try {
      text = exec.executeNodes(u.name, parsed.get(u.name)!.root, data).replaceAll("<no value>", "");
    } catch (e) {
      if (e instanceof ExecError) throw execError(e, pathFor);
      throw e;
    }
    if (isNotes) notes = text;
    else outputs.push({ name: u.name, treePath: u.treePath, text });
  }
  outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { outputs, notes };
}

/** Render a loaded chart. */
export function renderLoadedChart(chart: LoadedChart, opts: RenderChartOptions): ChartRender {
  const { outputs, notes } = executeChart(chart, opts);

  const generic: ChartManifest[] = [];
  const hooks: ChartManifest[] = [];
  for (const { name, treePath, text } of outputs) {
    if (text.trim() === "") continue;
    for (const doc of splitManifests(text)) {
      const m = toManifest(name, doc, treePath);
      (m.hook ? hooks : generic).push(m);
    }
  }
  const crds: ChartManifest[] = [];
  if (opts.includeCrds) {
    for (const c of chart.crds) {
      for (const doc of splitManifests(c.src))
        crds.push(toManifest(`${chart.name}/${c.path}`, doc, treePathOf(chart, c.path)));
    }
  }
  return {
    chart: chart.name,
    crds,
    manifests: [...stableSort(generic, kindLess), ...stableSort(hooks, kindLess)],
    notes,
  };
}

function stableSort<T>(xs: T[], cmp: (a: T, b: T) => number): T[] {
  return xs
    .map((x, i) => ({ x, i }))
    .sort((a, b) => cmp(a.x, b.x) || a.i - b.i)
    .map((e) => e.x);
}

/** `helm template` output: each document as `---\n# Source: <file>\n<text>\n`. */
export function formatHelmTemplate(r: ChartRender): string {
  return [...r.crds, ...r.manifests].map((m) => `---\n# Source: ${m.source}\n${m.content}\n`).join("");
}
