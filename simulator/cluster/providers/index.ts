/**
 * Cluster providers for live runs: `embedded` (default), `kind`, `k3s`,
 * `kubeconfig:PATH`. Pick one from a `--cluster` value with `providerFor`.
 */
import type { EmbeddedCluster } from "../cluster.ts";
import { EmbeddedProvider } from "./embedded.ts";
import { K3sProvider } from "./k3s.ts";
import { KindProvider } from "./kind.ts";
import { KubeconfigProvider } from "./kubeconfig.ts";
import type { ClusterProvider, ClusterSpec } from "./types.ts";

export { EmbeddedProvider } from "./embedded.ts";
export {
  type CommandResult,
  type CommandRunner,
  dockerAvailable,
  requireDocker,
  runCommand,
} from "./exec.ts";
export {
  K3S_IMAGE,
  K3sProvider,
  type K3sOptions,
  k3sRunArgs,
  publishedPort,
  rewriteK3sKubeconfig,
} from "./k3s.ts";
export { KindProvider, type KindOptions, kindCreateArgs, kindDeleteArgs } from "./kind.ts";
export { ensureArgoCrds, KubeconfigProvider, REQUIRED_ARGO_KINDS } from "./kubeconfig.ts";
export {
  CLUSTER_SPEC_HELP,
  type ClusterConnection,
  type ClusterProvider,
  type ClusterSpec,
  parseClusterSpec,
} from "./types.ts";

/** The provider for a parsed `--cluster` value (`embedded` serves `cluster`). */
export function providerFor(spec: ClusterSpec, cluster: EmbeddedCluster): ClusterProvider {
  switch (spec.kind) {
    case "embedded":
      return new EmbeddedProvider(cluster);
    case "kind":
      return new KindProvider();
    case "k3s":
      return new K3sProvider();
    case "kubeconfig":
      return new KubeconfigProvider(spec.path);
  }
}
