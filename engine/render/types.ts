/**
 * The Renderer port: turns an application source at one revision into
 * Kubernetes manifests. Adapters: directory, kustomize (kubectl kustomize),
 * helm (binary when on PATH) and the built-in Go-template chart renderer
 * (engine/render/helm/).
 */
import type { KubeObject } from "../kube/types.ts";

/** Read-only view of a file tree (a Git tree at a commit, or a local directory). */
export interface FileTree {
  /** File contents as UTF-8, or undefined when there is no such file. Paths are '/'-separated, relative to the tree root. */
  read(path: string): Promise<string | undefined>;
  /** Raw bytes, or undefined when missing. */
  readBytes(path: string): Promise<Uint8Array | undefined>;
  /** Files (not directories) under `dir` (recursively), relative to the tree root, sorted. */
  list(dir: string): Promise<string[]>;
  /**
   * An identifier of everything under `dir` (a Git tree's object ID): two trees giving the same
   * identifier for a directory hold the same files there, so what is made from them alone can be
   * reused. Undefined when `dir` is not a directory; trees that cannot tell leave this out.
   */
  contentId?(dir: string): Promise<string | undefined>;
}

export interface HelmSourceOptions {
  valueFiles?: string[];
  values?: string;
  valuesObject?: Record<string, unknown>;
  parameters?: Array<{ name: string; value: string; forceString?: boolean }>;
  releaseName?: string;
  skipCrds?: boolean;
}

export interface KustomizeSourceOptions {
  namePrefix?: string;
  nameSuffix?: string;
  images?: string[];
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  namespace?: string;
}

export interface DirectorySourceOptions {
  recurse?: boolean;
  include?: string;
  exclude?: string;
}

export interface RenderRequest {
  tree: FileTree;
  /** Path of the source inside the tree (Application spec.source.path), "" or "." for the root. */
  path: string;
  helm?: HelmSourceOptions;
  kustomize?: KustomizeSourceOptions;
  directory?: DirectorySourceOptions;
  /** Application name (default Helm release name). */
  appName: string;
  /** spec.destination.namespace */
  namespace?: string;
  kubeVersion?: string;
  apiVersions?: string[];
}

export interface RenderedManifest {
  object: KubeObject;
  /** Where it came from, e.g. "charts/svc/templates/rollout.yaml" (Helm's `# Source:`). */
  source: string;
}

export interface Renderer {
  readonly name: "directory" | "kustomize" | "helm" | "plugin";
  render(req: RenderRequest): Promise<RenderedManifest[]>;
}
