/**
 * engine/sync: sync planning (pure) and the resumable sync operation.
 *
 * API:
 *   planSync(desired: KubeObject[], live: KubeObject[], opts: PlanOptions): SyncPlan
 *     opts {appName, prune?, syncOptions?, namespace?, automated?, allowEmpty?, hooks?, resources?,
 *           ignoreDifferences?, manager?}; throws GtbError GTB_SYNC_EMPTY_REFUSED | GTB_SYNC_BAD_WAVE | GTB_SYNC_BAD_HOOK
 *     -> {appName, manager, serverSideApply, prunePropagationPolicy, tasks: SyncTask[] (sorted)}
 *   new SyncOperation({client, clock, plan, events?, health?, operationId?, dryRun?})
 *     .step(): Promise<SyncOperationState>   one increment (never throws; unexpected errors -> phase Error)
 *     .state(): SyncOperationState            {phase, message, resources[], startedAt, finishedAt?}
 *     .terminate(): void                      running hooks deleted at the next step, then Failed
 *     .run(pollMs = 1000, timeoutMs?): Promise<SyncOperationState>   step until completed on the clock
 *   retryDelay(attempt, backoff = {durationMs 5000, factor 2, maxDurationMs 180000}): number (ms)
 *   isCompleted(phase), isSuccessful(phase), isHookCompleted(hookPhase), KIND_ORDER, kindIndex(kind)
 *   resourceKey(obj), keyString(key), trackingIdOf(app, key), parseSyncOptions(opts), hookTypes(obj), compareTasks
 *   events: syncop.resource | syncop.wave | syncop.completed (SyncEvent)
 *   clientSideApplyPatch(live, target), threeWayMergePatch(last, live, target), withLastApplied(target)
 * Applies: server-side apply (manager "argocd-controller", force) by default; ServerSideApply=false
 * (sync option or per-resource annotation) -> kubectl-style client-side apply; Replace=true -> PUT.
 */
export { clientSideApplyPatch, threeWayMergePatch, withLastApplied } from "./csa.ts";
export type { SyncCompletedEvent, SyncEvent, SyncResourceEvent, SyncWaveEvent } from "./events.ts";
export { KIND_ORDER, kindIndex } from "./kinds.ts";
export { SyncOperation, type SyncOperationOptions } from "./operation.ts";
export {
  compareTasks,
  hookTypes,
  keyString,
  type PlanOptions,
  parseSyncOptions,
  planSync,
  resourceKey,
  type SyncPlan,
  trackingIdOf,
} from "./plan.ts";
export {
  type Backoff,
  DEFAULT_BACKOFF,
  HOOK_ANNOTATION,
  HOOK_DELETE_POLICY_ANNOTATION,
  type HookDeletePolicy,
  type HookPhase,
  type HookType,
  isCompleted,
  isHookCompleted,
  isSuccessful,
  type OperationPhase,
  type ResourceKey,
  type ResultCode,
  retryDelay,
  SYNC_OPTIONS_ANNOTATION,
  SYNC_PHASES,
  SYNC_WAVE_ANNOTATION,
  type SyncAction,
  type SyncOperationState,
  type SyncPhase,
  type SyncResource,
  type SyncTask,
} from "./types.ts";
