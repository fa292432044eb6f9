/**
 * The kubeconfig provider: any cluster reachable with a kubeconfig file. start()
 * creates nothing; close() does nothing. `ensureArgoCrds` checks the Argo CRDs
 * the worlds need and applies the missing ones (or says which are missing).
 */
import { access } from "node:fs/promises";
import { GtbError } from "../../../engine/core/errors.ts";
import { type KubeClient, KubeApiError } from "../../../engine/kube/types.ts";
import { argoCrds } from "../registry.ts";
import type { ClusterConnection, ClusterProvider } from "./types.ts";

export class KubeconfigProvider implements ClusterProvider {
  readonly name = "kubeconfig";
  constructor(readonly path: string) {}

  async start(): Promise<ClusterConnection> {
    try {
      await access(this.path);
    } catch {
      throw new GtbError(
        "GTB_PROVIDER_KUBECONFIG",
        `kubeconfig ${this.path} does not exist or is unreadable`,
        {
          file: this.path,
          hint: "pass --cluster kubeconfig:PATH with the path of a readable kubeconfig file",
        },
      );
    }
    return { kubeconfig: this.path, close: async () => undefined };
  }
}

/** The Argo kinds the worlds read and write. */
export const REQUIRED_ARGO_KINDS = [
  "Application",
  "Rollout",
  "AnalysisRun",
  "AnalysisTemplate",
  "ClusterAnalysisTemplate",
] as const;

/**
 * Make sure the cluster serves the Argo CRDs the worlds need: apply the missing
 * ones; when that is not allowed, GTB_PROVIDER_CRDS_MISSING naming them. Returns
 * the kinds it installed.
 */
export async function ensureArgoCrds(client: KubeClient, where: string): Promise<string[]> {
  let served: Set<string>;
  try {
    served = new Set((await client.resources()).filter((r) => r.group === "argoproj.io").map((r) => r.kind));
  } catch (e) {
    throw new GtbError(
      "GTB_PROVIDER_UNREACHABLE",
      `cannot reach the Kubernetes API of ${where}: ${e instanceof Error ? e.message : String(e)}`,
      { hint: "check the kubeconfig's server, credentials and current context (kubectl cluster-info)" },
    );
  }
  const missing = REQUIRED_ARGO_KINDS.filter((k) => !served.has(k));
  if (missing.length === 0) return [];
  const crds = argoCrds().filter((c) =>
    missing.includes((c.spec as { names: { kind: string } }).names.kind as (typeof missing)[number]),
  );
  try {
    for (const crd of crds) await client.apply(crd, { fieldManager: "gitops-testbed", force: true });
  } catch (e) {
    const detail = e instanceof KubeApiError ? e.status.message : e instanceof Error ? e.message : String(e);
    throw new GtbError(
      "GTB_PROVIDER_CRDS_MISSING",
      `${where} does not serve the Argo CRDs ${missing.join(", ")} (argoproj.io/v1alpha1) and applying them failed: ${detail}`,
      {
        hint:
          "install Argo CD and Argo Rollouts CRDs (kubectl apply -k https://github.com/argoproj/argo-rollouts/manifests/crds " +
          "and Argo CD's manifests/crds), or use a kubeconfig allowed to create CustomResourceDefinitions",
      },
    );
  }
  return [...missing];
}
