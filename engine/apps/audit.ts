/**
 * AuditLookup port: who wrote an object at a resourceVersion. The embedded
 * cluster implements it from its audit records; against a real cluster the
 * fallback reads the newest managedFields entry.
 */
import type { KubeObject, ObjectRef } from "../kube/types.ts";

export interface AuditRecord {
  identity: string;
  fieldManager?: string;
  /** ms since the Unix epoch. */
  time: number;
}

export interface AuditLookup {
  lookup(ref: ObjectRef, resourceVersion: string): AuditRecord | undefined | Promise<AuditRecord | undefined>;
}

/** The newest managedFields entry of `obj` (manager and time), excluding `exclude` (the engine's own manager). */
export function lastWriterFromManagedFields(obj: KubeObject, exclude: string): AuditRecord | undefined {
  let best: AuditRecord | undefined;
  for (const mf of obj.metadata.managedFields ?? []) {
    if (mf.manager === exclude || mf.subresource === "status") continue;
    const t = mf.time !== undefined ? Date.parse(mf.time) : 0;
    if (best === undefined || t >= best.time)
      best = { identity: mf.manager, fieldManager: mf.manager, time: t };
  }
  return best;
}
