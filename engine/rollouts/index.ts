/** Public entry of the rollouts module: controller manager, verbs, validation, notifications. */
export { ObjectCache, type ObjectCacheOptions, type RolloutCaches, newRolloutCaches } from "./cache.ts";
export {
  progressMade,
  RolloutController,
  type ReplicaSet,
  type RolloutControllerOptions,
} from "./controller.ts";
export type { RolloutEvent, RolloutTimedOutEvent } from "./events.ts";
export { RolloutsManager, type RolloutsManagerOptions } from "./manager.ts";
export {
  analysisMessage,
  RolloutNotifications,
  rolloutMessage,
  type RolloutTrigger,
  ROLLOUT_TRIGGERS,
} from "./notify.ts";
export { type EventRecorder, KubeEventRecorder } from "./recorder.ts";
export { canaryStableReplicas, podTemplateHash } from "./replicas.ts";
export * from "./types.ts";
export { validateDocuments, type DocIssue } from "./validate-docs.ts";
export { validateRollout, type RolloutIssue } from "./validate.ts";
export { abort, pause, promote, retry, undo } from "./verbs.ts";
