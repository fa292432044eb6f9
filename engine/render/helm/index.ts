/**
 * The built-in Helm renderer: renders charts with a Go text/template engine written in
 * TypeScript (no helm binary), with Argo CD's value precedence:
 * parameters > valuesObject > values > valueFiles (in order) > chart values.yaml.
 */
import type { Clock } from "../../core/clock.ts";
import { GtbError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import { deepFreeze, stableStringify } from "../../kube/json.ts";
import type { FileTree, HelmSourceOptions, RenderRequest, RenderedManifest, Renderer } from "../types.ts";
import { loadChart } from "./chart.ts";
import type { GoMap } from "./gofmt.ts";
import type { ParsedFile } from "./parse.ts";
import {
  type ChartRender,
  type FuncTable,
  newFuncTable,
  type RenderChartOptions,
  type TemplateOutput,
  executeChart,
  renderLoadedChart,
} from "./render.ts";
import { SetSyntaxError, ValuesSyntaxError, mergeValues, parseSetInto, parseValuesYaml } from "./values.ts";

export { localFileTree, memoryFileTree } from "./fs-tree.ts";
export { mergeValues, parseSetValues, parseValuesYaml } from "./values.ts";
export { formatHelmTemplate, splitManifests, INSTALL_ORDER, DEFAULT_KUBE_VERSION } from "./render.ts";
export type { ChartManifest, ChartRender, TemplateOutput } from "./render.ts";

export interface HelmRendererOptions {
  /** Source of `now` (default: the Unix epoch, so output is reproducible). */
  clock?: Pick<Clock, "now">;
  /** Source of uuidv4 / randAlphaNum (default: seeded from release and chart name). */
  rng?: Pick<Rng, "int">;
  /** `.Capabilities.KubeVersion` unless the request gives one (default v1.31.0). */
  kubeVersion?: string;
}

export interface RenderChartInput {
  tree: FileTree;
  /** Chart directory inside the tree ("" or "." for the root). */
  path: string;
  helm?: HelmSourceOptions;
  releaseName: string;
  namespace?: string;
  kubeVersion?: string;
  apiVersions?: string[];
  includeCrds?: boolean;
}

/** Deterministic default randomness: a small PRNG (mulberry32) seeded from a string. */
function seededInts(seed: string): Pick<Rng, "int"> {
  let h = 1779033703;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
  let a = h >>> 0;
  return {
    int(lo, hi) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const f = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      return lo + Math.floor(f * (hi - lo + 1));
    },
  };
}

function joinPath(dir: string, rel: string): string {
  const base = dir === "." ? "" : dir.replace(/\/$/, "");
  const parts: string[] = [];
  for (const seg of `${base}/${rel}`.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

/** Layer the user's values: valueFiles (in order), values, valuesObject, parameters. */
export async function userValues(
  tree: FileTree,
  chartPath: string,
  helm: HelmSourceOptions | undefined,
  yamlCache?: Map<string, unknown>,
): Promise<GoMap> {
  let out: GoMap = {};
  const layer = (m: GoMap) => {
    out = mergeValues(out, m, { keepNulls: true });
  };
  const parseOr = (text: string, file: string, path: string): GoMap => {
    try {
      return parseValuesYaml(text, yamlCache);
    } catch (e) {
      const ve = e instanceof ValuesSyntaxError ? e : undefined;
      throw new GtbError("GTB_RENDER_HELM_VALUES", `cannot parse ${file}: ${(e as Error).message}`, {
        file,
        line: ve?.line,
        column: ve?.column,
        path,
      });
    }
  };
  for (const [i, vf] of (helm?.valueFiles ?? []).entries()) {
    const path = `spec.source.helm.valueFiles[${i}]`;
    if (/^[a-z]+:\/\//i.test(vf) || vf.startsWith("$")) {
      throw new GtbError(
        "GTB_RENDER_HELM_VALUE_FILE_UNSUPPORTED",
        `value file ${vf} is not in the chart's repository`,
        {
          path,
          hint: "remote value files and $ref sources are not supported; use a path relative to the chart",
        },
      );
    }
    const file = vf.startsWith("/") ? joinPath("", vf) : joinPath(chartPath, vf);
    const text = await tree.read(file);
    if (text === undefined) {
      throw new GtbError("GTB_RENDER_HELM_VALUE_FILE_MISSING", `value file ${vf} not found`, {
        file,
        path,
        hint: "value file paths are relative to the chart directory",
      });
    }
    layer(parseOr(text, file, path));
  }
  if (helm?.values !== undefined && helm.values.trim() !== "")
    layer(parseOr(helm.values, "values", "spec.source.helm.values"));
  if (helm?.valuesObject !== undefined) layer(helm.valuesObject);
  for (const [i, p] of (helm?.parameters ?? []).entries()) {
    const value = p.value.startsWith("{") && p.value.endsWith("}") ? p.value : p.value.replace(/,/g, "\\,");
    try {
      layer(parseSetInto(`${p.name}=${value}`, {}, p.forceString ?? false));
    } catch (e) {
      if (!(e instanceof SetSyntaxError)) throw e;
      throw new GtbError("GTB_RENDER_HELM_SET", `invalid parameter ${p.name}: ${e.message}`, {
        path: `spec.source.helm.parameters[${i}]`,
        hint: "parameter names use Helm's --set syntax: a.b.c, list[0], escaped\\.dots",
      });
    }
  }
  return out;
}

type RenderOpts = HelmRendererOptions & {
  /** Parsed templates by content hash. */
  cache?: Map<string, ParsedFile>;
  /** Parsed Chart.yaml / values files by text. */
  yamlCache?: Map<string, unknown>;
  /** Template functions, built once. */
  funcs?: FuncTable;
};

/** Lower level: load and render a chart, returning Helm's documents with their text. */
export async function renderChart(input: RenderChartInput, opts: RenderOpts = {}): Promise<ChartRender> {
  const { chart, options } = await prepare(input, opts);
  return renderLoadedChart(chart, options);
}

/** Lowest level: each template's rendered text before YAML parsing (`helm template --show-only` style). */
export async function renderChartText(
  input: RenderChartInput,
  opts: RenderOpts = {},
): Promise<{ outputs: TemplateOutput[]; notes: string }> {
  const { chart, options } = await prepare(input, opts);
  return executeChart(chart, options);
}

async function prepare(input: RenderChartInput, opts: RenderOpts) {
  const chart = await loadChart(input.tree, input.path, opts.yamlCache);
  const values = await userValues(input.tree, input.path, input.helm, opts.yamlCache);
  const options: RenderChartOptions = {
    releaseName: input.releaseName,
    namespace: input.namespace ?? "default",
    values,
    kubeVersion: input.kubeVersion ?? opts.kubeVersion,
    apiVersions: input.apiVersions,
    includeCrds: input.includeCrds ?? false,
    clock: opts.clock ?? { now: () => 0 },
    rng: opts.rng ?? seededInts(`${input.releaseName}/${chart.name}`),
    cache: opts.cache,
    funcs: opts.funcs,
  };
  return { chart, options };
}

/** Renders remembered by content (bounded: the oldest goes first). */
const MEMO_ENTRIES = 256;

/**
 * What a render is a function of, when the tree identifies the chart directory's content (a Git
 * tree's object ID) and every value file lies inside it; undefined otherwise.
 */
async function renderKey(req: RenderRequest): Promise<string | undefined> {
  const dir = joinPath("", req.path);
  const prefix = dir === "" ? "" : `${dir}/`;
  for (const vf of req.helm?.valueFiles ?? []) {
    const file = vf.startsWith("/") ? joinPath("", vf) : joinPath(dir, vf);
    if (!file.startsWith(prefix)) return undefined;
  }
  const id = await req.tree.contentId?.(dir);
  if (id === undefined) return undefined;
  return stableStringify([
    id,
    dir,
    req.helm ?? null,
    req.appName,
    req.namespace ?? null,
    req.kubeVersion ?? null,
    req.apiVersions ?? null,
  ]);
}

/**
 * The Renderer port's "helm" adapter (built-in engine). Parsed templates are cached by content, and
 * so is a whole render that read neither the clock nor the random source (`now`, `randAlphaNum`,
 * ...): the same chart content, values and options give the same documents, so a render of content
 * seen before (a revert to an earlier tag, a new revision that left the chart alone) is the earlier
 * render itself (deep-frozen: its documents are shared).
 */
export function createHelmRenderer(opts: HelmRendererOptions = {}): Renderer {
  const cache = new Map<string, ParsedFile>();
  const yamlCache = new Map<string, unknown>();
  const funcs = newFuncTable();
  const memo = new Map<string, RenderedManifest[]>();
  return {
    name: "helm",
    async render(req: RenderRequest): Promise<RenderedManifest[]> {
      const key = await renderKey(req);
      const hit = key === undefined ? undefined : memo.get(key);
      if (hit !== undefined) return hit;
      // the render is remembered only if it read neither the clock nor the random source
      let pure = true;
      const clock = opts.clock;
      const rng = opts.rng;
      const r = await renderChart(
        {
          tree: req.tree,
          path: req.path,
          helm: req.helm,
          releaseName: req.helm?.releaseName ?? req.appName,
          namespace: req.namespace,
          kubeVersion: req.kubeVersion,
          apiVersions: req.apiVersions,
          includeCrds: req.helm?.skipCrds !== true,
        },
        {
          ...opts,
          ...(clock !== undefined
            ? {
                clock: {
                  now: () => {
                    pure = false;
                    return clock.now();
                  },
                },
              }
            : {}),
          ...(rng !== undefined
            ? {
                rng: {
                  int: (lo: number, hi: number) => {
                    pure = false;
                    return rng.int(lo, hi);
                  },
                },
              }
            : {}),
          cache,
          yamlCache,
          funcs,
        },
      );
      const out: RenderedManifest[] = [];
      for (const m of [...r.crds, ...r.manifests])
        if (m.object !== null) out.push({ object: m.object, source: m.source });
      if (key === undefined || !pure) return out;
      // shared by every later render of the same content: frozen whole, so that a caller that
      // changed one would fail loudly instead of changing the next caller's documents
      deepFreeze(out);
      memo.set(key, out);
      if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
      return out;
    },
  };
}
