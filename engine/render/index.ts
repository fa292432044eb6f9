/**
 * engine/render: source -> manifests.
 * - createDirectoryRenderer(): YAML/JSON files, recurse, include/exclude brace globs, Lists flattened.
 * - createKustomizeRenderer({clock}): `kubectl kustomize` on a temp copy of the subtree (+ referenced bases).
 * - createHelmBinaryRenderer({clock}): `helm template` when helm is on PATH.
 * - createDefaultRenderers({clock, rng?, builtinHelm?}): the set, helm falling back to engine/render/helm/.
 * - detectSourceType / selectRenderer: Chart.yaml -> helm, kustomization.yaml -> kustomize, else directory.
 * - parseManifests(content, file): multi-doc YAML/JSON with GtbError(file, line) on bad input.
 */
export type * from "./types.ts";
export { createDirectoryRenderer } from "./directory.ts";
export { globMatch } from "./glob.ts";
export { createHelmBinaryRenderer, splitHelmOutput } from "./helm-binary.ts";
export { createKustomizeRenderer } from "./kustomize.ts";
export { parseManifests } from "./manifests.ts";
export { MemoryFileTree } from "./memory-tree.ts";
export {
  createDefaultRenderers,
  type DefaultRenderersOptions,
  detectSourceType,
  type RendererSet,
  type SourceSpecLike,
  type SourceType,
  selectRenderer,
} from "./select.ts";
