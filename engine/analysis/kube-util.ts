/**
 * Small helpers of the rollouts and analysis controllers over the KubeClient port:
 * a GET that answers undefined for a missing object, and the JSON merge patch
 * (RFC 7386) between two versions of a document, which a controller sends to
 * change only what it changed (upstream Argo Rollouts builds its status patches
 * the same way, with CreateTwoWayMergePatch).
 */
import { type KubeClient, type KubeObject, type ObjectRef, isNotFound } from "../kube/types.ts";

/** GET an object; undefined when it does not exist (404). */
export async function getIfExists<T extends KubeObject>(
  client: KubeClient,
  ref: ObjectRef,
): Promise<T | undefined> {
  try {
    return await client.get<T>(ref);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Merge-patch body turning `before` into `after` (removed keys become null; arrays replaced). */
export function mergeDiff(before: unknown, after: unknown): unknown {
  if (
    before === null ||
    after === null ||
    typeof before !== "object" ||
    typeof after !== "object" ||
    Array.isArray(before) ||
    Array.isArray(after)
  ) {
    return JSON.stringify(before) === JSON.stringify(after) ? undefined : (after ?? null);
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (a[k] === undefined) {
      if (b[k] !== undefined) out[k] = null;
      continue;
    }
    if (b[k] === undefined) {
      out[k] = a[k];
      continue;
    }
    const d = mergeDiff(b[k], a[k]);
    if (d !== undefined) out[k] = d;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
