/**
 * The shape every workload controller here shares: a work queue of owner
 * keys fed by the owner's watch events and by the events of the children it
 * controls (ownerReference with controller: true), and a status write that
 * only happens when the status changed.
 */
import type { Clock } from "../../../engine/core/clock.ts";
import type { KubeClient, KubeObject } from "../../../engine/kube/types.ts";
import { type Informer, keyOf, type ReconcileResult, WorkQueue } from "./informer.ts";
import { type Json, statusOf, statusPatch } from "./util.ts";

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
    objects.on((type, o) => {
      if (type !== "DELETED") this.queue.add(keyOf(o));
    });
    const kind = objects.kind;
    children.on((_type, child) => {
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
