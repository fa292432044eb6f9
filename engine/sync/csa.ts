/**
 * Client-side apply (`kubectl apply` semantics, ServerSideApply=false): the
 * last-applied-configuration annotation records what was applied; the update
 * is a JSON merge patch that sets every field Git specifies to Git's value
 * and deletes (null) fields that were applied before but are no longer in Git.
 */
import { deepEqual, isObject } from "../diff/json.ts";
import { LAST_APPLIED_ANNOTATION } from "../diff/normalize.ts";
import type { KubeObject } from "../kube/types.ts";

/** `target` with the last-applied annotation set to its own JSON (as kubectl writes it). */
export function withLastApplied(target: KubeObject): KubeObject {
  const annotations = { ...(target.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  const recorded = { ...target, metadata: { ...target.metadata, annotations } };
  return {
    ...target,
    metadata: {
      ...target.metadata,
      annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(recorded) },
    },
  };
}

/** Three-way JSON merge patch: last applied, live, target. Undefined when nothing changes. */
export function threeWayMergePatch(last: unknown, live: unknown, target: unknown): unknown {
  if (!isObject(target)) return deepEqual(live, target) ? undefined : target;
  const liveObj = isObject(live) ? live : {};
  const lastObj = isObject(last) ? last : {};
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(target)) {
    const sub =
      isObject(v) && isObject(liveObj[k]) ? threeWayMergePatch(lastObj[k], liveObj[k], v) : undefined;
    if (isObject(v) && isObject(liveObj[k])) {
      if (sub !== undefined) patch[k] = sub;
    } else if (!deepEqual(liveObj[k], v)) patch[k] = v;
  }
  for (const k of Object.keys(lastObj)) {
    if (!Object.hasOwn(target, k) && Object.hasOwn(liveObj, k)) patch[k] = null;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** The merge patch updating `live` to `target` (target carries its new last-applied annotation). */
export function clientSideApplyPatch(live: KubeObject, target: KubeObject): unknown {
  const raw = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  let last: unknown = {};
  if (raw !== undefined) {
    try {
      last = JSON.parse(raw);
    } catch {
      last = {}; // a corrupt annotation: fall back to a two-way patch (nothing is deleted)
    }
  }
  return threeWayMergePatch(last, live, target);
}
