/**
 * Binds the cluster to the traffic model: a version (pod-template-hash) starts
 * serving when its ReplicaSet has ready pods and stops when it has none. For
 * services without traffic routing (plain Deployments), requests are split by
 * ready replicas, as a Kubernetes Service spreads them over endpoints.
 */
import type { KubeClient, KubeObject, WatchHandle } from "../../engine/kube/types.ts";
import type { TrafficModel } from "../traffic/model.ts";

export interface VersionInfo {
  namespace: string;
  /** The owning Deployment or Rollout (= the service name). */
  service: string;
  hash: string;
  /** Images of the pod template. */
  images: string[];
  ownerKind: string;
}

export interface BinderOptions {
  /** Route by ready replicas (Deployments); false when a rollout controller sets weights. */
  routeByReplicas: boolean;
  /**
   * Only versions whose owner is of this kind (e.g. "Deployment"); default every owner. A world
   * running both kinds side by side (the migration) binds each with its own binder.
   */
  ownerKind?: string;
  /** Called once per version before it first serves (to set its behaviour). */
  onVersionStart?: (v: VersionInfo) => void;
  onVersionStop?: (v: VersionInfo) => void;
}

interface ReplicaSetLike extends KubeObject {
  spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string }> } } };
  status?: { readyReplicas?: number; replicas?: number };
}

export function versionOf(rs: KubeObject): VersionInfo | undefined {
  const labels = rs.metadata.labels ?? {};
  const hash = labels["rollouts-pod-template-hash"] ?? labels["pod-template-hash"];
  const owner = rs.metadata.ownerReferences?.find((o) => o.controller === true);
  if (hash === undefined || owner === undefined || rs.metadata.namespace === undefined) return undefined;
  const containers = (rs as ReplicaSetLike).spec?.template?.spec?.containers ?? [];
  return {
    namespace: rs.metadata.namespace,
    service: owner.name,
    hash,
    images: containers.map((c) => c.image ?? ""),
    ownerKind: owner.kind,
  };
}

export class TrafficBinder {
  private handle: WatchHandle | undefined;
  private readonly started = new Set<string>();
  private readonly ready = new Map<string, Map<string, number>>();

  constructor(
    private readonly client: KubeClient,
    private readonly traffic: TrafficModel,
    private readonly opts: BinderOptions,
  ) {}

  async start(): Promise<void> {
    this.handle = await this.client.watch("apps/v1", "ReplicaSet", {}, (ev) => {
      if (ev.type === "ERROR" || ev.type === "BOOKMARK") return;
      this.observe(ev.object, ev.type === "DELETED");
    });
  }

  stop(): void {
    this.handle?.stop();
  }

  private observe(rs: KubeObject, deleted: boolean): void {
    const v = versionOf(rs);
    if (v === undefined || (this.opts.ownerKind !== undefined && v.ownerKind !== this.opts.ownerKind)) return;
    const key = `${v.namespace}/${v.service}`;
    const vkey = `${key}/${v.hash}`;
    const ready = deleted ? 0 : ((rs as ReplicaSetLike).status?.readyReplicas ?? 0);
    const target = { namespace: v.namespace, service: v.service };
    if (ready > 0 && !this.started.has(vkey)) {
      this.started.add(vkey);
      this.opts.onVersionStart?.(v);
      this.traffic.startVersion(target, v.hash);
    } else if (ready === 0 && this.started.has(vkey)) {
      this.started.delete(vkey);
      this.traffic.stopVersion(target, v.hash);
      this.opts.onVersionStop?.(v);
    }
    if (this.opts.routeByReplicas) {
      let m = this.ready.get(key);
      if (m === undefined) {
        m = new Map();
        this.ready.set(key, m);
      }
      const before = m.get(v.hash) ?? 0;
      if (ready === before) return;
      if (ready > 0) m.set(v.hash, ready);
      else m.delete(v.hash);
      if (m.size > 0) this.traffic.route(target, Object.fromEntries(m));
    }
  }
}
