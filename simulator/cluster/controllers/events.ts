/** Typed events of the built-in controllers (the embedded cluster's kube-controller-manager). */
import type { EventBase } from "../../../engine/core/events.ts";

interface DeploymentEventBase extends EventBase {
  readonly namespace: string;
  readonly name: string;
  /** The new ReplicaSet of the rollout. */
  readonly replicaSet: string;
  /** Its `deployment.kubernetes.io/revision`. */
  readonly revision: string;
}

/** The Deployment's Progressing condition turned NewReplicaSetAvailable: the rollout finished. */
export interface DeploymentCompleteEvent extends DeploymentEventBase {
  readonly type: "cluster.deployment.complete";
}

/** The Deployment's Progressing condition turned False with reason ProgressDeadlineExceeded. */
export interface DeploymentDeadlineEvent extends DeploymentEventBase {
  readonly type: "cluster.deployment.progressDeadlineExceeded";
}

export type DeploymentEvent = DeploymentCompleteEvent | DeploymentDeadlineEvent;

/** A controller's reconcile failed with something other than Conflict/NotFound (it is retried with back-off). */
export interface ControllerErrorEvent extends EventBase {
  readonly type: "cluster.controller.error";
  readonly controller: string;
  readonly key: string;
  readonly message: string;
}

export type ControllersEvent = DeploymentEvent | ControllerErrorEvent;
