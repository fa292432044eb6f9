/** Typed events the embedded cluster emits to an injected EventSink. */
import type { EventBase } from "../../engine/core/events.ts";

export type WriteVerb = "create" | "update" | "patch" | "delete";

/** One write through the API (allowed or denied), as the audit trail records it. */
export interface AuditWriteEvent extends EventBase {
  readonly type: "audit.write";
  readonly identity: string;
  readonly verb: WriteVerb;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly subresource?: string;
  /** resourceVersion after the write ("" when denied or when nothing was stored). */
  readonly resourceVersion: string;
  readonly fieldManager: string;
  /** HTTP status code of the outcome: 200/201 written, 403 denied. */
  readonly code: number;
  readonly dryRun?: boolean;
}

export type ClusterEvent = AuditWriteEvent;
