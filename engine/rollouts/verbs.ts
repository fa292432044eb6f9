/**
 * Operator verbs, patching the Rollout exactly as the kubectl-argo-rollouts
 * plugin does; the controller does the rest.
 *   promote        : unpause spec.paused, or clear status.pauseConditions; when
 *                    nothing is paused, skip the current step (currentStepIndex + 1)
 *   promote --full : status.promoteFull = true
 *   abort          : status.abort = true
 *   retry          : status.abort = false
 *   pause          : spec.paused = true
 *   undo [--to-revision N]: spec.template = the template of revision N (default: the previous one)
 */
import { GtbError } from "../core/errors.ts";
import { type KubeClient, isNotFound } from "../kube/types.ts";
import { ARGO_API_VERSION } from "../analysis/types.ts";
import type { ReplicaSet } from "./controller.ts";
import { POD_HASH_LABEL, REVISION_ANNOTATION, type Rollout } from "./types.ts";

const ref = (namespace: string, name: string) => ({
  apiVersion: ARGO_API_VERSION,
  kind: "Rollout",
  namespace,
  name,
});
const PATCH_OPTS = { fieldManager: "kubectl-argo-rollouts" };

async function getRollout(client: KubeClient, namespace: string, name: string): Promise<Rollout> {
  try {
    return await client.get<Rollout>(ref(namespace, name));
  } catch (e) {
    if (isNotFound(e)) {
      throw new GtbError("GTB_ROLLOUT_NOT_FOUND", `rollouts.argoproj.io "${name}" not found`, {
        hint: `check the name and namespace (-n ${namespace})`,
        exitCode: 1,
      });
    }
    throw e;
  }
}

async function patchStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
): Promise<Rollout> {
  return client.patch<Rollout>(ref(namespace, name), { status }, "merge", {
    ...PATCH_OPTS,
    subresource: "status",
  });
}

export async function promote(
  client: KubeClient,
  namespace: string,
  name: string,
  opts: { full?: boolean } = {},
): Promise<Rollout> {
  const ro = await getRollout(client, namespace, name);
  if (opts.full === true) {
    if (ro.spec.paused === true)
      await client.patch(ref(namespace, name), { spec: { paused: false } }, "merge", PATCH_OPTS);
    return patchStatus(client, namespace, name, { promoteFull: true, pauseConditions: null });
  }
  if (ro.spec.paused === true)
    return client.patch<Rollout>(ref(namespace, name), { spec: { paused: false } }, "merge", PATCH_OPTS);
  if ((ro.status?.pauseConditions ?? []).length > 0)
    return patchStatus(client, namespace, name, { pauseConditions: null });
  const steps = ro.spec.strategy?.canary?.steps ?? [];
  const i = ro.status?.currentStepIndex ?? 0;
  if (ro.status?.stableRS === ro.status?.currentPodHash || i >= steps.length) {
    throw new GtbError(
      "GTB_ROLLOUT_NOT_PAUSED",
      `rollout '${name}' is not paused and has no step to promote past`,
      {
        hint: "use --full to skip the remaining steps, or wait for a new revision",
        exitCode: 1,
      },
    );
  }
  return patchStatus(client, namespace, name, { currentStepIndex: i + 1 });
}

export function abort(client: KubeClient, namespace: string, name: string): Promise<Rollout> {
  return getRollout(client, namespace, name).then(() =>
    patchStatus(client, namespace, name, { abort: true }),
  );
}

export async function retry(client: KubeClient, namespace: string, name: string): Promise<Rollout> {
  const ro = await getRollout(client, namespace, name);
  if (ro.status?.abort !== true) {
    throw new GtbError("GTB_ROLLOUT_NOT_ABORTED", `rollout '${name}' is not aborted`, {
      hint: "retry applies to an aborted rollout",
      exitCode: 1,
    });
  }
  return patchStatus(client, namespace, name, { abort: false });
}

export async function pause(client: KubeClient, namespace: string, name: string): Promise<Rollout> {
  await getRollout(client, namespace, name);
  return client.patch<Rollout>(ref(namespace, name), { spec: { paused: true } }, "merge", PATCH_OPTS);
}

/** Roll back to the template of `toRevision` (default: the newest revision older than the current one). */
export async function undo(
  client: KubeClient,
  namespace: string,
  name: string,
  toRevision?: number,
): Promise<Rollout> {
  const ro = await getRollout(client, namespace, name);
  const rsList = (await client.list<ReplicaSet>("apps/v1", "ReplicaSet", { namespace })).items.filter((rs) =>
    (rs.metadata.ownerReferences ?? []).some((o) => o.uid === ro.metadata.uid),
  );
  const rev = (rs: ReplicaSet) => Number.parseInt(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? "0", 10);
  const current = rsList.find((rs) => rs.metadata.labels?.[POD_HASH_LABEL] === ro.status?.currentPodHash);
  const currentRev = current === undefined ? Number.POSITIVE_INFINITY : rev(current);
  const target =
    toRevision === undefined
      ? rsList.filter((rs) => rev(rs) < currentRev).sort((a, b) => rev(b) - rev(a))[0]
      : rsList.find((rs) => rev(rs) === toRevision);
  if (target === undefined) {
    throw new GtbError(
      "GTB_ROLLOUT_REVISION_NOT_FOUND",
      toRevision === undefined
        ? `no revision to roll back to for rollout '${name}'`
        : `unable to find specified revision ${toRevision} in history`,
      { hint: "list revisions with: kubectl get rs -l rollouts-pod-template-hash", exitCode: 1 },
    );
  }
  const template = structuredClone(target.spec.template ?? {});
  if (template.metadata?.labels !== undefined) delete template.metadata.labels[POD_HASH_LABEL];
  return client.patch<Rollout>(ref(namespace, name), { spec: { template } }, "merge", PATCH_OPTS);
}
