/**
 * The health registry (gitops-engine pkg/health/health.go): one check per
 * group/kind; an object being deleted is Progressing; kinds without a check
 * have no health; a check that throws yields Unknown with its message.
 */
import { type KubeObject, splitApiVersion } from "../kube/types.ts";
import { analysisRunHealth } from "./analysisrun.ts";
import { applicationHealth } from "./application.ts";
import { daemonSetHealth } from "./daemonset.ts";
import { deploymentHealth } from "./deployment.ts";
import { hpaHealth } from "./hpa.ts";
import { ingressHealth } from "./ingress.ts";
import { jobHealth } from "./job.ts";
import { podHealth } from "./pod.ts";
import { pvcHealth } from "./pvc.ts";
import { replicaSetHealth } from "./replicaset.ts";
import { rolloutHealth } from "./rollout.ts";
import { serviceHealth } from "./service.ts";
import { statefulSetHealth } from "./statefulset.ts";
import { type HealthCheck, type HealthStatus, type HealthStatusCode, isWorse } from "./types.ts";

const BUILT_IN: ReadonlyArray<[string, HealthCheck]> = [
  ["apps/Deployment", deploymentHealth],
  ["extensions/Deployment", deploymentHealth],
  ["apps/StatefulSet", statefulSetHealth],
  ["apps/ReplicaSet", replicaSetHealth],
  ["extensions/ReplicaSet", replicaSetHealth],
  ["apps/DaemonSet", daemonSetHealth],
  ["extensions/DaemonSet", daemonSetHealth],
  ["/Pod", podHealth],
  ["batch/Job", jobHealth],
  ["/PersistentVolumeClaim", pvcHealth],
  ["/Service", serviceHealth],
  ["networking.k8s.io/Ingress", ingressHealth],
  ["extensions/Ingress", ingressHealth],
  ["autoscaling/HorizontalPodAutoscaler", hpaHealth],
  ["argoproj.io/Rollout", rolloutHealth],
  ["argoproj.io/AnalysisRun", analysisRunHealth],
  ["argoproj.io/Application", applicationHealth],
];

/** A set of per-kind checks keyed by "group/Kind" (core group is ""). */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  constructor(checks: Iterable<[string, HealthCheck]> = BUILT_IN) {
    for (const [k, fn] of checks) this.checks.set(k, fn);
  }

  /** Add or override the check for `group/Kind` (like Argo CD resource customizations). */
  register(group: string, kind: string, check: HealthCheck): this {
    this.checks.set(`${group}/${kind}`, check);
    return this;
  }

  has(group: string, kind: string): boolean {
    return this.checks.has(`${group}/${kind}`);
  }

  /** Health of one live object, or undefined when its kind has no health check. */
  health(obj: KubeObject): HealthStatus | undefined {
    if (obj.metadata.deletionTimestamp !== undefined)
      return { status: "Progressing", message: "Pending deletion" };
    const check = this.checks.get(`${splitApiVersion(obj.apiVersion).group}/${obj.kind}`);
    if (check === undefined) return undefined;
    try {
      return check(obj);
    } catch (e) {
      return { status: "Unknown", message: e instanceof Error ? e.message : String(e) };
    }
  }
}

/** The registry with the built-in checks. */
export const defaultHealthRegistry: HealthRegistry = new HealthRegistry();

/** Health of one live object with the built-in checks; undefined when the kind has none. */
export function getHealth(obj: KubeObject): HealthStatus | undefined {
  return defaultHealthRegistry.health(obj);
}

/**
 * Application health: the worst of its children (Healthy < Suspended < Progressing
 * < Missing < Degraded < Unknown). Children without health are skipped; no
 * children with health -> Healthy. The message is the worst child's.
 */
export function appHealth(children: ReadonlyArray<HealthStatus | undefined>): HealthStatus {
  let worst: HealthStatus = { status: "Healthy" };
  for (const c of children) {
    if (c !== undefined && isWorse(c.status, worst.status)) worst = c;
  }
  return worst;
}

export function worstOf(a: HealthStatusCode, b: HealthStatusCode): HealthStatusCode {
  return isWorse(a, b) ? a : b;
}
