/**
 * Keeps the traffic model in step with a cluster: a version serves requests while its ReplicaSet
 * has ready pods. Watches apps/v1 ReplicaSets (any KubeClient: in-process or HTTP) owned by a
 * Rollout or Deployment whose name is a registered service; the version id is the ReplicaSet's
 * `rollouts-pod-template-hash` (or `pod-template-hash`) label.
 *
 * Until a rollout controller sets weights through the TrafficRouter port, requests are split by
 * ready replicas, as a Kubernetes Service spreads them over the pods of every version.
 */
import type { KubeClient, KubeObject, WatchHandle } from "../../engine/kube/types.ts";
import type { TrafficModel } from "./model.ts";

export interface FollowOptions {
  /** Split by ready replicas while no TrafficRouter weights are set (default true). */
  routeByReplicas?: boolean;
  /** Restrict to one namespace. */
  namespace?: string;
}

interface ReplicaSetLike extends KubeObject {
  status?: { readyReplicas?: number };
}

const OWNER_KINDS = new Set(["Rollout", "Deployment"]);

export class ReplicaSetFollower {
  private readonly ready = new Map<string, Map<string, number>>();
  private readonly routed = new Map<string, string>();
  private handle: WatchHandle | undefined;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly traffic: TrafficModel,
    private readonly opts: FollowOptions = {},
  ) {}

  /** List, apply, then watch from the list's resourceVersion (re-listing if the watch closes). */
  async start(): Promise<void> {
    const ns = this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {};
    const list = await this.client.list<ReplicaSetLike>("apps/v1", "ReplicaSet", ns);
    for (const rs of list.items) this.apply(rs, false);
    if (this.stopped) return;
    this.handle = await this.client.watch<ReplicaSetLike>(
      "apps/v1",
      "ReplicaSet",
      { ...ns, resourceVersion: list.metadata.resourceVersion ?? "" },
      (ev) => {
        if (ev.type === "ADDED" || ev.type === "MODIFIED") this.apply(ev.object, false);
        else if (ev.type === "DELETED") this.apply(ev.object, true);
      },
      () => {
        if (!this.stopped) void this.start();
      },
    );
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
  }

  private apply(rs: ReplicaSetLike, deleted: boolean): void {
    const labels = rs.metadata.labels ?? {};
    const hash = labels["rollouts-pod-template-hash"] ?? labels["pod-template-hash"];
    const owner = rs.metadata.ownerReferences?.find((o) => OWNER_KINDS.has(o.kind));
    const namespace = rs.metadata.namespace;
    if (hash === undefined || owner === undefined || namespace === undefined) return;
    const target = { namespace, service: owner.name };
    if (!this.traffic.hasService(target)) return;
    const key = `${namespace}/${owner.name}`;
    const n = deleted ? 0 : (rs.status?.readyReplicas ?? 0);
    let byHash = this.ready.get(key);
    if (byHash === undefined) {
      byHash = new Map();
      this.ready.set(key, byHash);
    }
    if ((byHash.get(hash) ?? 0) === n) return;
    byHash.set(hash, n);
    if (n > 0) this.traffic.startVersion(target, hash);
    else this.traffic.stopVersion(target, hash);
    if (this.opts.routeByReplicas !== false && this.traffic.getWeights(target) === undefined) {
      const weights: Record<string, number> = {};
      for (const [h, r] of [...byHash].sort(([a], [b]) => (a < b ? -1 : 1))) if (r > 0) weights[h] = r;
      const sig = JSON.stringify(weights);
      if (Object.keys(weights).length > 0 && this.routed.get(key) !== sig) {
        this.routed.set(key, sig);
        this.traffic.route(target, weights);
      }
    }
  }
}

/** Start following a cluster's ReplicaSets; returns the follower (call stop() to end). */
export async function followReplicaSets(
  client: KubeClient,
  traffic: TrafficModel,
  opts: FollowOptions = {},
): Promise<ReplicaSetFollower> {
  const f = new ReplicaSetFollower(client, traffic, opts);
  await f.start();
  return f;
}
