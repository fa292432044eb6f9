/** Events of a sync operation (engine/sync). Times are clock ms since the Unix epoch. */
import type { EventBase } from "../core/events.ts";
import type { HookPhase, OperationPhase, ResultCode, SyncPhase } from "./types.ts";

/** A resource was applied, pruned, skipped or a hook changed phase. */
export interface SyncResourceEvent extends EventBase {
  type: "syncop.resource";
  app: string;
  operationId: string;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  status: ResultCode;
  message: string;
  syncPhase: SyncPhase;
  wave: number;
  hookPhase?: HookPhase;
}

/** A (phase, wave) group started. */
export interface SyncWaveEvent extends EventBase {
  type: "syncop.wave";
  app: string;
  operationId: string;
  syncPhase: SyncPhase;
  wave: number;
  tasks: number;
}

/** The operation reached a final phase. */
export interface SyncCompletedEvent extends EventBase {
  type: "syncop.completed";
  app: string;
  operationId: string;
  phase: OperationPhase;
  message: string;
  startedAt: number;
  resources: number;
}

export type SyncEvent = SyncResourceEvent | SyncWaveEvent | SyncCompletedEvent;
