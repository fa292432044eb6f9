/**
 * The ClusterProvider port: where a live run's Kubernetes API comes from. `start()`
 * brings a cluster up (or connects to one) and returns a kubeconfig for it plus
 * `close()`, which tears down whatever `start()` created (and nothing else).
 */
import { GtbError } from "../../../engine/core/errors.ts";

export interface ClusterConnection {
  /** A kubeconfig document (object) or the path of a kubeconfig file. */
  kubeconfig: Record<string, unknown> | string;
  /** Tear down what start() created (idempotent). */
  close(): Promise<void>;
}

export interface ClusterProvider {
  /** "embedded", "kind", "k3s" or "kubeconfig". */
  readonly name: string;
  start(): Promise<ClusterConnection>;
}

/** A parsed `--cluster` value. */
export type ClusterSpec =
  | { kind: "embedded" }
  | { kind: "kind" }
  | { kind: "k3s" }
  | { kind: "kubeconfig"; path: string };

export const CLUSTER_SPEC_HELP = "embedded | kind | k3s | kubeconfig:PATH";

/** Parse `embedded`, `kind`, `k3s` or `kubeconfig:PATH` (GTB_USAGE otherwise). */
export function parseClusterSpec(value: string): ClusterSpec {
  const v = value.trim();
  if (v === "embedded" || v === "kind" || v === "k3s") return { kind: v };
  if (v.startsWith("kubeconfig:")) {
    const path = v.slice("kubeconfig:".length);
    if (path === "")
      throw new GtbError("GTB_USAGE", "--cluster kubeconfig: needs a path", {
        hint: "e.g. --cluster kubeconfig:$HOME/.kube/config",
      });
    return { kind: "kubeconfig", path };
  }
  throw new GtbError("GTB_USAGE", `--cluster must be one of ${CLUSTER_SPEC_HELP}, got "${value}"`, {
    hint: "use --cluster embedded (default) unless Docker or a cluster is at hand",
  });
}
