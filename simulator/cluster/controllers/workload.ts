/**
 * The shape every workload controller here shares: a work queue of owner
 * keys fed by the owner's watch events and by the events of the children it
 * controls (ownerReference with controller: true), and a status write that
 * only happens when the status changed.
 *
 * Like the generation check of upstream controllers' update handlers, an
 * owner's change wakes its controller up only when its spec (generation) or
 * its deletion changed: status and annotation writes - mostly the
 * controller's own - do not. A pod's change wakes its owner up only when it
 * can move the owner's counters (podChangeMatters); other children's always.
 */
import type { Clock } from "../../../engine/core/clock.ts";
import type { KubeClient, KubeObject } from "../../../engine/kube/types.ts";
import { type Informer, keyOf, type ReconcileResult, WorkQueue } from "./informer.ts";
import { deepEqual } from "../objutil.ts";
import { controllerUid, getCondition, type Json, statusOf, statusPatch } from "./util.ts";

export const FIELD_MANAGER = "kube-controller-manager";

export abstract class WorkloadController {
  readonly queue: WorkQueue;

  constructor(
    protected readonly client: KubeClient,
    protected readonly clock: Clock,
    /** The owners this controller reconciles. */
    protected readonly objects: Informer,
    /** Children whose changes wake their controlling owner up. */
    children: Informer,
    onError: (key: string, err: unknown) => void,
  ) {
    this.queue = new WorkQueue(clock, (k) => this.reconcile(k), onError);
    objects.on((type, o, old) => {
      if (type === "DELETED") return;
      if (type === "MODIFIED" && old !== undefined && old !== o && sameGeneration(old, o)) return;
      this.queue.add(keyOf(o));
    });
    const kind = objects.kind;
    const childChanged = children.kind === "Pod" ? podChangeMatters : () => true;
    children.on((type, child, old) => {
      if (type === "MODIFIED" && old !== undefined && old !== child && !childChanged(old, child)) return;
      const ref = child.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === kind);
      if (ref !== undefined) this.queue.add(`${child.metadata.namespace ?? ""}/${ref.name}`);
    });
  }

  protected abstract reconcile(key: string): Promise<ReconcileResult | undefined>;

  stop(): void {
    this.queue.stop();
  }

  protected refOf(o: KubeObject) {
    return {
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name ?? "",
      namespace: o.metadata.namespace ?? "",
    };
  }

  /** Patch the /status subresource to `status` when it differs from what `obj` has. */
  protected async writeStatus(obj: KubeObject, status: Json): Promise<void> {
    const patch = statusPatch(statusOf(obj), status);
    if (patch === undefined) return;
    const written = await this.clock.track(
      this.client.patch(this.refOf(obj), patch, "merge", {
        subresource: "status",
        fieldManager: FIELD_MANAGER,
      }),
    );
    this.objects.set(written);
  }

  /** Delete a pod this controller owns, and forget it in the cache at once. */
  protected async deletePod(pods: Informer, pod: KubeObject): Promise<void> {
    await this.clock.track(this.client.delete({ ...this.refOf(pod), apiVersion: "v1", kind: "Pod" }));
    pods.forget(pod);
  }

  /** Create a pod and record it in the cache at once. */
  protected async createPod(pods: Informer, pod: KubeObject): Promise<KubeObject> {
    const created = await this.clock.track(this.client.create(pod, { fieldManager: FIELD_MANAGER }));
    pods.set(created);
    return created;
  }
}

/** Same object, same generation (no spec change), same deletion state. */
function sameGeneration(a: KubeObject, b: KubeObject): boolean {
  return (
    a.metadata.uid === b.metadata.uid &&
    a.metadata.generation !== undefined &&
    a.metadata.generation === b.metadata.generation &&
    a.metadata.deletionTimestamp === b.metadata.deletionTimestamp
  );
}

/**
 * Whether a pod's change can move its controller's counters: readiness (and
 * since when), phase, deletion, labels or its controller.
 */
export function podChangeMatters(old: KubeObject, pod: KubeObject): boolean {
  if (old.metadata.uid !== pod.metadata.uid) return true;
  if (old.metadata.deletionTimestamp !== pod.metadata.deletionTimestamp) return true;
  if (old.metadata.labels !== pod.metadata.labels && !deepEqual(old.metadata.labels, pod.metadata.labels))
    return true;
  if (controllerUid(old)[0] !== controllerUid(pod)[0]) return true;
  const a = statusOf(old);
  const b = statusOf(pod);
  if (a.phase !== b.phase) return true;
  const ra = getCondition(a, "Ready");
  const rb = getCondition(b, "Ready");
  return ra?.status !== rb?.status || ra?.lastTransitionTime !== rb?.lastTransitionTime;
}
