/**
 * Predicted live state after the engine applies `desired` with server-side
 * apply (its field manager owns `owned`): desired values win, fields the
 * engine owned but no longer applies are removed, everything else the server
 * or other managers set is kept (three-way merge).
 */
import { type FieldSet, fieldChild, isRemoved, itemChild, mergeKeyOf, pruneOwned } from "./fieldset.ts";
import { scalarsEquivalent } from "./equivalence.ts";
import { deepEqual, isObject } from "./json.ts";

function sameKey(a: unknown, b: unknown): boolean {
  return a === b || String(a) === String(b);
}

function equivalent(a: unknown, b: unknown, key: string, parent: string): boolean {
  if (isObject(a) || isObject(b) || Array.isArray(a) || Array.isArray(b)) {
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every((x, i) => equivalent(x, b[i], key, parent));
    }
    if (isObject(a) && isObject(b)) {
      const ka = Object.keys(a);
      return (
        ka.length === Object.keys(b).length &&
        ka.every((k) => Object.hasOwn(b, k) && equivalent(a[k], b[k], k, key))
      );
    }
    return false;
  }
  return scalarsEquivalent(a, b, key, parent);
}

export function predictLive(
  live: unknown,
  desired: unknown,
  owned: FieldSet | undefined,
  key = "",
  parent = "",
): unknown {
  if (isObject(live) && isObject(desired)) {
    const out: Record<string, unknown> = {};
    for (const [k, lv] of Object.entries(live)) {
      const fs = fieldChild(owned, k);
      if (Object.hasOwn(desired, k)) {
        out[k] = predictLive(lv, desired[k], fs, k, key);
      } else if (fs !== undefined) {
        const r = pruneOwned(lv, fs);
        if (!isRemoved(r)) out[k] = r;
      } else {
        out[k] = lv;
      }
    }
    for (const [k, dv] of Object.entries(desired)) if (!Object.hasOwn(live, k)) out[k] = dv;
    return out;
  }
  if (Array.isArray(live) && Array.isArray(desired)) {
    const mk = mergeKeyOf(live, desired);
    if (mk === undefined) return equivalent(live, desired, key, parent) ? live : desired;
    const out: unknown[] = [];
    const used = new Set<number>();
    live.forEach((item, i) => {
      const di = desired.findIndex(
        (d, j) => !used.has(j) && isObject(d) && isObject(item) && sameKey(d[mk], item[mk]),
      );
      const fs = itemChild(owned, item, i);
      if (di >= 0) {
        used.add(di);
        out.push(predictLive(item, desired[di], fs, key, parent));
      } else if (fs !== undefined) {
        if (fs["."] !== undefined) return;
        const r = pruneOwned(item, fs);
        if (!isRemoved(r)) out.push(r);
      } else {
        out.push(item);
      }
    });
    desired.forEach((d, j) => {
      if (!used.has(j)) out.push(d);
    });
    return out;
  }
  if (live === undefined) return desired;
  return equivalent(live, desired, key, parent) ? live : deepEqual(live, desired) ? live : desired;
}
