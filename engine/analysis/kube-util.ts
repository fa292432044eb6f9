/**
 * Small helpers of the rollouts and analysis controllers over the KubeClient port:
 * a GET that answers undefined for a missing object, and the JSON merge patch
 * (RFC 7386) between two versions of a document, which a controller sends to
 * change only what it changed (upstream Argo Rollouts builds its status patches
 * the same way, with CreateTwoWayMergePatch); and a memo for what a controller derives
 * from a cached object's immutable parts (its spec) on every reconcile.
 */
import { jsonEqual } from "../kube/json.ts";
import { type KubeClient, type KubeObject, type ObjectRef, isNotFound } from "../kube/types.ts";

export { copyJson, jsonEqual } from "../kube/json.ts";

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
  if (before === after) return undefined; // a shared (unchanged) subtree
  if (
    before === null ||
    after === null ||
    typeof before !== "object" ||
    typeof after !== "object" ||
    Array.isArray(before) ||
    Array.isArray(after)
  ) {
    return jsonEqual(before, after) ? undefined : (after ?? null);
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let changed = false;
  // keys of `before` first, then those only `after` has (the order the patch lists them in)
  for (const k in b) {
    const bv = b[k];
    const av = a[k];
    if (av === undefined) {
      if (bv !== undefined) {
        out[k] = null;
        changed = true;
      }
      continue;
    }
    const d = bv === undefined ? av : mergeDiff(bv, av);
    if (d !== undefined) {
      out[k] = d;
      changed = true;
    }
  }
  for (const k in a) {
    if (k in b) continue;
    const av = a[k];
    if (av !== undefined) {
      out[k] = av;
      changed = true;
    }
  }
  return changed ? out : undefined;
}

/**
 * `compute(key)`, remembered for as long as `key` lives - only when `key` is frozen (an
 * informer cache's shared, immutable object: a spec stays the same object across status
 * writes). Mutable keys are computed afresh each time, so a caller's edits are never missed.
 */
export function memoFrozen<K extends object, V>(memo: WeakMap<K, V>, key: K, compute: (k: K) => V): V {
  if (!Object.isFrozen(key)) return compute(key);
  if (memo.has(key)) return memo.get(key) as V;
  const v = compute(key);
  memo.set(key, v);
  return v;
}
