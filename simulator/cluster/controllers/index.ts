/**
 * The embedded cluster's built-in controllers, written against the
 * KubeClient port like kube-controller-manager plus a kwok-style kubelet:
 * Deployment -> ReplicaSet -> Pods, StatefulSet, Job, and pod lifecycles
 * (start-up delay, readiness, crash loops) decided by a PodBehaviour hook.
 * Everything is driven by watch events and by Clock timers for transitions
 * that are due later; nothing polls.
 */
import type { Clock } from "../../../engine/core/clock.ts";
import type { EventSink } from "../../../engine/core/events.ts";
import type { Rng } from "../../../engine/core/rng.ts";
import type { KubeClient } from "../../../engine/kube/types.ts";
import { DeploymentController } from "./deployment.ts";
import type { ControllersEvent } from "./events.ts";
import { Informer } from "./informer.ts";
import { JobController } from "./job.ts";
import { Kubelet, type PodBehaviour } from "./kubelet.ts";
import { ReplicaSetController } from "./replicaset.ts";
import { StatefulSetController } from "./statefulset.ts";
import { controllerUid } from "./util.ts";

export type { ControllersEvent, DeploymentEvent } from "./events.ts";
export { DeploymentController, HASH_LABEL, REVISION } from "./deployment.ts";
export { crashLoopRestarts, NODE_NAME, type PodBehaviour, type PodInfo, type PodOutcome } from "./kubelet.ts";

export interface BuiltinControllersOptions {
  /** Jitter of pod start-up delays (default: none, every pod takes base + half the jitter). */
  rng?: Rng;
  /** How pods behave once started (default: every pod becomes Ready). */
  behaviour?: PodBehaviour;
  /** Receives cluster.deployment.* and cluster.controller.error events. */
  events?: EventSink;
  /** Pod start-up delay without an explicit one: base + uniform jitter (defaults 2,000 + 0..3,000 ms). */
  podStartupMs?: number;
  podStartupJitterMs?: number;
}

export interface BuiltinControllers {
  /** Resolves once every informer has listed and is watching. */
  readonly ready: Promise<void>;
  /**
   * Replace the pod behaviour hook at run time (the fault injector does).
   * With `running: true`, pods already started take the new behaviour now.
   */
  setBehaviour(behaviour: PodBehaviour | undefined, opts?: { running?: boolean }): void;
  stop(): void;
}

export function startBuiltinControllers(
  client: KubeClient,
  clock: Clock,
  opts: BuiltinControllersOptions = {},
): BuiltinControllers {
  const sink = opts.events as EventSink<ControllersEvent> | undefined;
  const onError = (controller: string) => (key: string, err: unknown) => {
    sink?.emit({
      type: "cluster.controller.error",
      time: clock.now(),
      controller,
      key,
      message: err instanceof Error ? err.message : String(err),
    });
  };
  const informerError = onError("informer");
  const informer = (apiVersion: string, kind: string) => {
    const inf = new Informer(client, apiVersion, kind, clock, (e) => informerError(kind, e));
    inf.addIndex("controller", controllerUid);
    return inf;
  };
  const pods = informer("v1", "Pod");
  const replicaSets = informer("apps/v1", "ReplicaSet");
  const deployments = informer("apps/v1", "Deployment");
  const statefulSets = informer("apps/v1", "StatefulSet");
  const jobs = informer("batch/v1", "Job");
  const informers = [pods, replicaSets, deployments, statefulSets, jobs];

  const kubeletOpts: ConstructorParameters<typeof Kubelet>[3] = {};
  if (opts.rng !== undefined) kubeletOpts.rng = opts.rng.fork("kubelet");
  if (opts.behaviour !== undefined) kubeletOpts.behaviour = opts.behaviour;
  if (opts.podStartupMs !== undefined) kubeletOpts.startupMs = opts.podStartupMs;
  if (opts.podStartupJitterMs !== undefined) kubeletOpts.startupJitterMs = opts.podStartupJitterMs;
  const kubelet = new Kubelet(client, clock, pods, kubeletOpts, onError("kubelet"));
  const controllers = [
    kubelet,
    new ReplicaSetController(client, clock, replicaSets, pods, onError("replicaset")),
    new DeploymentController(client, clock, deployments, replicaSets, sink, onError("deployment")),
    new StatefulSetController(client, clock, statefulSets, pods, onError("statefulset")),
    new JobController(client, clock, jobs, pods, onError("job")),
  ];
  const ready = clock.track(Promise.all(informers.map((i) => i.start()))).then(() => undefined);
  ready.catch((e: unknown) => informerError("start", e));
  return {
    ready,
    setBehaviour: (b, o) => kubelet.setBehaviour(b, o),
    stop: () => {
      for (const c of controllers) c.stop();
      for (const i of informers) i.stop();
    },
  };
}
