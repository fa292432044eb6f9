/**
 * Loads a chart from a FileTree as Helm's loader does: Chart.yaml, values.yaml,
 * templates/, crds/, vendored subcharts under charts/, other files as .Files,
 * all filtered by .helmignore.
 */
import { GtbError } from "../../core/errors.ts";
import type { FileTree } from "../types.ts";
import { GoStruct, isMap, type GoMap } from "./gofmt.ts";
import { ValuesSyntaxError, deepCopy, parseValuesYaml, parseYamlValue } from "./values.ts";

export interface ChartDependency {
  name: string;
  alias?: string;
  condition?: string;
  version?: string;
  repository?: string;
}

export interface LoadedChart {
  name: string;
  /** Directory of the chart inside the tree ("" for the root). */
  dir: string;
  metadata: GoMap;
  values: GoMap;
  /** Paths relative to the chart dir ("templates/x.yaml") with their text. */
  templates: Array<{ path: string; src: string }>;
  crds: Array<{ path: string; src: string }>;
  files: Map<string, Uint8Array>;
  dependencies: ChartDependency[];
  /** Vendored subcharts keyed by directory name under charts/. */
  subcharts: LoadedChart[];
}

function globToRegex(glob: string): string {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i);
      if (close < 0) re += "\\[";
      else {
        re += `[${glob.slice(i + 1, close).replace(/^!/, "^")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return re;
}

/** Helm's .helmignore rules: globs matched on the path or the base name; dir/ and !negation. */
export function helmIgnore(text: string): (path: string, isDir: boolean) => boolean {
  const rules: Array<{ re: RegExp; negate: boolean; dirOnly: boolean; base: boolean }> = [];
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.slice(0, -1);
    line = line.replace(/^\//, "");
    const base = !line.includes("/");
    rules.push({ re: new RegExp(`^${globToRegex(line)}$`), negate, dirOnly, base });
  }
  return (path, isDir) => {
    let ignored = false;
    const baseName = path.slice(path.lastIndexOf("/") + 1);
    for (const r of rules) {
      if (r.dirOnly && !isDir) continue;
      const hit = r.base ? r.re.test(baseName) : r.re.test(path);
      if (hit) ignored = !r.negate;
    }
    return ignored;
  };
}

function isIgnored(rel: string, ignore: (p: string, d: boolean) => boolean): boolean {
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i++) if (ignore(parts.slice(0, i).join("/"), true)) return true;
  return ignore(rel, false);
}

function join(dir: string, rel: string): string {
  return dir === "" || dir === "." ? rel : `${dir.replace(/\/$/, "")}/${rel}`;
}

function parseChartYaml(text: string, file: string, cache?: Map<string, unknown>): GoMap {
  let v: unknown;
  try {
    v = parseYamlValue(text, cache);
  } catch (e) {
    const ve = e instanceof ValuesSyntaxError ? e : undefined;
    throw new GtbError("GTB_RENDER_HELM_CHART_YAML", `cannot parse Chart.yaml: ${(e as Error).message}`, {
      file,
      line: ve?.line,
      column: ve?.column,
    });
  }
  if (!isMap(v)) throw new GtbError("GTB_RENDER_HELM_CHART_YAML", "Chart.yaml must be a YAML map", { file });
  for (const f of ["name", "version"]) {
    if (typeof v[f] !== "string" && typeof v[f] !== "number")
      throw new GtbError("GTB_RENDER_HELM_CHART_YAML", `Chart.yaml: ${f} is required`, {
        file,
        path: f,
        hint: "Helm charts need apiVersion, name and version in Chart.yaml",
      });
  }
  return v;
}

/** `.Chart`: chart.Metadata with Helm's capitalised field names. */
export function chartObject(shared: GoMap): GoStruct {
  const meta = deepCopy(shared);
  const str = (k: string) => (meta[k] === undefined || meta[k] === null ? "" : String(meta[k]));
  const list = (k: string) => (Array.isArray(meta[k]) ? meta[k] : null);
  return new GoStruct("*chart.Metadata", {
    Name: str("name"),
    Home: str("home"),
    Sources: list("sources"),
    Version: str("version"),
    Description: str("description"),
    Keywords: list("keywords"),
    Maintainers: list("maintainers"),
    Icon: str("icon"),
    APIVersion: str("apiVersion"),
    Condition: str("condition"),
    Tags: str("tags"),
    AppVersion: str("appVersion"),
    Deprecated: meta.deprecated === true,
    Annotations: isMap(meta.annotations) ? meta.annotations : null,
    KubeVersion: str("kubeVersion"),
    Dependencies: list("dependencies"),
    Type: str("type"),
  });
}

/** Load the chart at `dir` in `tree`; `yamlCache` memoizes parsed Chart.yaml / values.yaml by text. */
export async function loadChart(
  tree: FileTree,
  dir: string,
  yamlCache?: Map<string, unknown>,
): Promise<LoadedChart> {
  const base = dir === "." ? "" : dir.replace(/\/$/, "");
  const chartFile = join(base, "Chart.yaml");
  const chartText = await tree.read(chartFile);
  if (chartText === undefined) {
    throw new GtbError(
      "GTB_RENDER_HELM_NO_CHART",
      `no Chart.yaml in ${base === "" ? "the source root" : base}`,
      {
        file: chartFile,
        hint: "point the source path at a directory holding Chart.yaml",
      },
    );
  }
  const metadata = parseChartYaml(chartText, chartFile, yamlCache);
  const ignoreText = await tree.read(join(base, ".helmignore"));
  const ignore = helmIgnore(ignoreText ?? "");
  const prefix = base === "" ? "" : `${base}/`;
  const all = (await tree.list(base)).map((p) => p.slice(prefix.length)).filter((p) => !isIgnored(p, ignore));
  const chart: LoadedChart = {
    name: String(metadata.name),
    dir: base,
    metadata,
    values: {},
    templates: [],
    crds: [],
    files: new Map(),
    dependencies: [],
    subcharts: [],
  };
  const valuesText = await tree.read(join(base, "values.yaml"));
  if (valuesText !== undefined) {
    try {
      chart.values = parseValuesYaml(valuesText, yamlCache);
    } catch (e) {
      const ve = e instanceof ValuesSyntaxError ? e : undefined;
      throw new GtbError("GTB_RENDER_HELM_VALUES", `cannot parse values.yaml: ${(e as Error).message}`, {
        file: join(base, "values.yaml"),
        line: ve?.line,
        column: ve?.column,
      });
    }
  }
  const subdirs = new Set<string>();
  for (const rel of all) {
    if (rel === "Chart.yaml" || rel === "values.yaml" || rel === "values.schema.json" || rel === "Chart.lock")
      continue;
    if (rel.startsWith("charts/")) {
      const rest = rel.slice("charts/".length);
      if (!rest.includes("/")) {
        if (/\.(tgz|tar\.gz)$/.test(rest))
          throw new GtbError(
            "GTB_RENDER_HELM_DEPENDENCY_ARCHIVE",
            `packaged dependency ${rel} is not supported`,
            {
              file: join(base, rel),
              hint: "vendor the dependency unpacked under charts/<name>/ (helm pull --untar)",
            },
          );
        continue;
      }
      subdirs.add(rest.slice(0, rest.indexOf("/")));
      continue;
    }
    if (rel.startsWith("templates/")) {
      chart.templates.push({ path: rel, src: (await tree.read(join(base, rel))) ?? "" });
      continue;
    }
    const bytes = (await tree.readBytes(join(base, rel))) ?? new Uint8Array();
    if (rel.startsWith("crds/")) chart.crds.push({ path: rel, src: Buffer.from(bytes).toString("utf8") });
    chart.files.set(rel, bytes);
  }
  for (const sd of [...subdirs].sort()) {
    if ((await tree.read(join(base, `charts/${sd}/Chart.yaml`))) === undefined) continue;
    chart.subcharts.push(await loadChart(tree, join(base, `charts/${sd}`), yamlCache));
  }
  const deps = Array.isArray(metadata.dependencies) ? metadata.dependencies : [];
  for (const d of deps) {
    if (!isMap(d) || typeof d.name !== "string") continue;
    const dep: ChartDependency = { name: d.name };
    if (typeof d.alias === "string") dep.alias = d.alias;
    if (typeof d.condition === "string") dep.condition = d.condition;
    if (typeof d.version === "string") dep.version = d.version;
    if (typeof d.repository === "string") dep.repository = d.repository;
    chart.dependencies.push(dep);
    if (!chart.subcharts.some((s) => s.name === dep.name)) {
      throw new GtbError(
        "GTB_RENDER_HELM_DEPENDENCY_MISSING",
        `found in Chart.yaml, but missing in charts/ directory: ${dep.name}`,
        {
          file: chartFile,
          path: "dependencies",
          hint: "vendor the dependency under charts/ (helm dependency build); remote repositories are not fetched",
        },
      );
    }
  }
  return chart;
}
