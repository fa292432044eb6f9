/**
 * Runs one sync operation of an Application with engine/sync: planSync
 * (phases, waves, kind order, hooks, prune, sync options) and the resumable
 * SyncOperation stepped on the clock until it completes.
 */
import type { Clock } from "../core/clock.ts";
import { isGtbError } from "../core/errors.ts";
import type { HealthRegistry } from "../health/registry.ts";
import { type KubeClient, type KubeObject, splitApiVersion } from "../kube/types.ts";
import { keyString, planSync, resourceKey, SyncOperation } from "../sync/index.ts";
import type { IgnoreDifference, OperationPhase, ResourceResult } from "./types.ts";

export interface SyncRequest {
  client: KubeClient;
  clock: Clock;
  health: HealthRegistry;
  fieldManager: string;
  app: string;
  /** Desired objects (namespace defaulted, tracking annotation set), hooks included. */
  desired: KubeObject[];
  /** Live objects tracked by the app. */
  liveObjects: KubeObject[];
  prune: boolean;
  dryRun: boolean;
  /** Partial sync (self-heal, `--resource`): only these; hooks are then not run. */
  resources: Array<{ group?: string; kind: string; name: string; namespace?: string }> | undefined;
  hooks: boolean;
  syncOptions: string[];
  ignoreDifferences: IgnoreDifference[];
  destinationNamespace: string | undefined;
  automated: boolean;
  allowEmpty: boolean;
  operationId: string;
  /** Poll period while waiting for waves / hooks (default 1 s) and overall timeout (default none). */
  pollMs?: number;
  timeoutMs?: number;
}

export interface SyncOutcome {
  phase: OperationPhase;
  message: string;
  resources: ResourceResult[];
}

export async function executeSync(req: SyncRequest): Promise<SyncOutcome> {
  let plan: ReturnType<typeof planSync>;
  try {
    const opts: Parameters<typeof planSync>[2] = {
      appName: req.app,
      prune: req.prune,
      syncOptions: req.syncOptions,
      automated: req.automated,
      allowEmpty: req.allowEmpty,
      hooks: req.hooks,
      ignoreDifferences: req.ignoreDifferences,
      manager: req.fieldManager,
    };
    if (req.destinationNamespace !== undefined) opts.namespace = req.destinationNamespace;
    if (req.resources !== undefined) {
      opts.resources = req.resources.map((r) => ({
        group: r.group ?? "",
        kind: r.kind,
        name: r.name,
        namespace: r.namespace ?? "",
      }));
    }
    plan = planSync(req.desired, req.liveObjects, opts);
  } catch (e) {
    return { phase: "Failed", message: isGtbError(e) ? e.message : String(e), resources: [] };
  }
  const op = new SyncOperation({
    client: req.client,
    clock: req.clock,
    plan,
    health: req.health,
    operationId: req.operationId,
    dryRun: req.dryRun,
  });
  const state = await op.run(req.pollMs ?? 1000, req.timeoutMs);
  const versions = new Map<string, string>();
  for (const o of [...req.desired, ...req.liveObjects]) {
    versions.set(keyString(resourceKey(o)), splitApiVersion(o.apiVersion).version);
  }
  const resources: ResourceResult[] = state.resources.map((r) => {
    const out: ResourceResult = {
      group: r.group,
      version: versions.get(keyString(r)) ?? "",
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      status: r.status,
      message: r.message,
      syncPhase: r.syncPhase,
    };
    if (r.hookPhase !== undefined) out.hookPhase = r.hookPhase;
    if (r.hookType !== undefined) out.hookType = r.hookType;
    return out;
  });
  return { phase: state.phase, message: state.message, resources };
}
