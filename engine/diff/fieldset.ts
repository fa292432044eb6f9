/**
 * Reading server-side apply ownership (metadata.managedFields, FieldsV1).
 * A FieldsV1 tree has keys "f:<field>", "k:<json key object>" (associative list
 * item), "v:<json value>" (set item), "i:<index>" and "." (the node itself).
 * Engine code must not import simulator/, so this is our own reader.
 */
import { memoByText } from "../core/memo.ts";
import type { KubeObject } from "../kube/types.ts";
import { isObject } from "./json.ts";

export type FieldSet = Record<string, unknown>;

/** Union of two FieldsV1 trees. */
export function unionFields(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? unionFields(prev, v) : isObject(v) ? v : {};
  }
  return out;
}

/** Fields owned by any of `managers` on the main resource (status/scale subresource entries skipped). */
export function ownedFields(obj: KubeObject | undefined, managers: readonly string[]): FieldSet | undefined {
  let out: FieldSet | undefined;
  for (const e of obj?.metadata.managedFields ?? []) {
    if (!managers.includes(e.manager) || (e.subresource !== undefined && e.subresource !== "")) continue;
    if (!isObject(e.fieldsV1)) continue;
    out = out === undefined ? e.fieldsV1 : unionFields(out, e.fieldsV1);
  }
  return out;
}

/**
 * The FieldsV1 key of a field ("f:<key>"), one string per name: the names are few and looked up for
 * every field of every diff and every managedFields update, and a string used as a property key
 * again is found without hashing and internalizing a fresh copy.
 */
export const fieldKey: (key: string) => string = memoByText((key) => `f:${key}`, 50_000);

export function fieldChild(fs: FieldSet | undefined, key: string): FieldSet | undefined {
  if (fs === undefined) return undefined;
  const v = fs[fieldKey(key)];
  return isObject(v) ? v : undefined;
}

function looseEqual(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && String(a) === String(b));
}

/** The FieldsV1 node describing list item `item` at index `index`, if any. */
export function itemChild(fs: FieldSet | undefined, item: unknown, index: number): FieldSet | undefined {
  if (fs === undefined) return undefined;
  for (const [k, v] of Object.entries(fs)) {
    if (!isObject(v)) continue;
    if (k.startsWith("k:") && isObject(item)) {
      let key: unknown;
      try {
        key = JSON.parse(k.slice(2));
      } catch {
        continue; // a malformed key cannot match any item
      }
      if (isObject(key) && Object.entries(key).every(([kk, kv]) => looseEqual(item[kk], kv))) return v;
    } else if (k.startsWith("v:")) {
      if (k.slice(2) === JSON.stringify(item)) return v;
    } else if (k === `i:${index}`) {
      return v;
    }
  }
  return undefined;
}

/** Known associative-list merge keys (strategic merge patch / SSA list-map keys). */
const MERGE_KEYS = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "type", "topologyKey"];

/** The merge key of a list of objects, or undefined for an atomic list. */
export function mergeKeyOf(...lists: unknown[][]): string | undefined {
  const items = lists.flat();
  if (items.length === 0 || !items.every(isObject)) return undefined;
  return MERGE_KEYS.find((k) => items.every((it) => isObject(it) && it[k] !== undefined));
}

/**
 * A FieldsV1-like tree of every field set in `obj` (used for client-side apply:
 * the last-applied-configuration annotation stands for what the engine owns).
 */
export function fieldsOf(value: unknown): FieldSet {
  if (isObject(value)) {
    const out: FieldSet = { ".": {} };
    for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsOf(v);
    return out;
  }
  if (Array.isArray(value)) {
    const key = mergeKeyOf(value);
    if (key === undefined) return {};
    const out: FieldSet = {};
    for (const item of value) {
      if (isObject(item)) out[`k:${JSON.stringify({ [key]: item[key] })}`] = fieldsOf(item);
    }
    return out;
  }
  return {};
}

const REMOVE: unique symbol = Symbol("remove");
type Pruned = unknown | typeof REMOVE;

/**
 * Remove from `value` the parts owned per `fs` (what server-side apply drops
 * when the owner stops applying them). Returns REMOVED when nothing is left.
 */
export function pruneOwned(value: unknown, fs: FieldSet): Pruned {
  const keys = Object.keys(fs);
  if (keys.length === 0 || (keys.length === 1 && keys[0] === ".")) return REMOVE;
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = fieldChild(fs, k);
      if (child === undefined) {
        out[k] = v;
        continue;
      }
      const r = pruneOwned(v, child);
      if (r !== REMOVE) out[k] = r;
    }
    if (Object.keys(out).length === 0 && (Object.keys(value).length > 0 || fs["."] !== undefined))
      return REMOVE;
    return out;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((item, i) => {
      const child = itemChild(fs, item, i);
      if (child === undefined) {
        out.push(item);
        return;
      }
      // The owner owned the item itself: server-side apply drops the whole item.
      if (child["."] !== undefined) return;
      const r = pruneOwned(item, child);
      if (r !== REMOVE) out.push(r);
    });
    return out.length === 0 && value.length > 0 ? REMOVE : out;
  }
  return value;
}

export function isRemoved(v: Pruned): v is typeof REMOVE {
  return v === REMOVE;
}
