/**
 * Renderer selection as Argo CD detects the source type: an explicit
 * helm/kustomize/directory block wins; otherwise Chart.yaml -> helm,
 * kustomization.yaml -> kustomize, else directory.
 */
import type { Clock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";
import { createDirectoryRenderer } from "./directory.ts";
import { createHelmRenderer } from "./helm/index.ts";
import { createHelmBinaryRenderer } from "./helm-binary.ts";
import { createKustomizeRenderer, KUSTOMIZATION_FILES } from "./kustomize.ts";
import { cleanPath, joinPath, onPath } from "./materialize.ts";
import type { FileTree, Renderer } from "./types.ts";

export type SourceType = "helm" | "kustomize" | "directory";

export interface RendererSet {
  helm: Renderer;
  kustomize: Renderer;
  directory: Renderer;
}

export interface SourceSpecLike {
  path?: string;
  chart?: string;
  helm?: unknown;
  kustomize?: unknown;
  directory?: unknown;
}

/** Detect the source type of `source` in `tree` (Argo CD's GetAppSourceType + discovery). */
export async function detectSourceType(tree: FileTree, source: SourceSpecLike): Promise<SourceType> {
  if (source.chart !== undefined || source.helm !== undefined) return "helm";
  if (source.kustomize !== undefined) return "kustomize";
  if (source.directory !== undefined) return "directory";
  const dir = cleanPath(source.path ?? "");
  if ((await tree.read(joinPath(dir, "Chart.yaml"))) !== undefined) return "helm";
  for (const f of KUSTOMIZATION_FILES)
    if ((await tree.read(joinPath(dir, f))) !== undefined) return "kustomize";
  return "directory";
}

export async function selectRenderer(
  set: RendererSet,
  tree: FileTree,
  source: SourceSpecLike,
): Promise<Renderer> {
  return set[await detectSourceType(tree, source)];
}

export interface DefaultRenderersOptions {
  clock: Clock;
  rng?: Rng;
  /** The built-in chart renderer (engine/render/helm/) used when no helm binary is on PATH. */
  builtinHelm?: Renderer;
  /** Force the choice instead of probing PATH. */
  helmBinary?: boolean;
}

/** directory + kustomize (kubectl kustomize) + helm (binary when on PATH, else the built-in renderer). */
export async function createDefaultRenderers(opts: DefaultRenderersOptions): Promise<RendererSet> {
  const useBinary = opts.helmBinary ?? (await opts.clock.io(onPath("helm")));
  let helm: Renderer;
  if (useBinary) helm = createHelmBinaryRenderer({ clock: opts.clock });
  else if (opts.builtinHelm !== undefined) helm = opts.builtinHelm;
  else helm = createHelmRenderer({ clock: opts.clock, ...(opts.rng !== undefined ? { rng: opts.rng } : {}) });
  return {
    helm,
    kustomize: createKustomizeRenderer({ clock: opts.clock }),
    directory: createDirectoryRenderer(),
  };
}
