/**
 * engine/health: per-kind health checks (pure), Argo CD semantics.
 *
 * API:
 *   getHealth(obj: KubeObject): HealthStatus | undefined      built-in checks; undefined = kind has no health
 *   appHealth(children: (HealthStatus | undefined)[]): HealthStatus   worst child (Healthy if none)
 *   new HealthRegistry(checks?).register(group, kind, fn).health(obj) custom checks (a throw -> Unknown)
 *   HEALTH_ORDER, isWorse(a, b), worstOf(a, b), isHealthStatusCode(s), withMessage(status, message?)
 *   types: HealthStatus {status, message?}, HealthStatusCode, HealthCheck
 * An object with metadata.deletionTimestamp is Progressing ("Pending deletion").
 * A missing object is the caller's business: report {status: "Missing"}.
 */
export { analysisRunHealth } from "./analysisrun.ts";
export { applicationHealth } from "./application.ts";
export { daemonSetHealth } from "./daemonset.ts";
export { deploymentHealth } from "./deployment.ts";
export { hpaHealth } from "./hpa.ts";
export { ingressHealth } from "./ingress.ts";
export { jobHealth } from "./job.ts";
export { podHealth } from "./pod.ts";
export { pvcHealth } from "./pvc.ts";
export { appHealth, defaultHealthRegistry, getHealth, HealthRegistry, worstOf } from "./registry.ts";
export { replicaSetHealth } from "./replicaset.ts";
export { rolloutHealth } from "./rollout.ts";
export { serviceHealth } from "./service.ts";
export { statefulSetHealth } from "./statefulset.ts";
export {
  HEALTH_ORDER,
  type HealthCheck,
  type HealthStatus,
  type HealthStatusCode,
  isHealthStatusCode,
  isWorse,
  withMessage,
} from "./types.ts";
