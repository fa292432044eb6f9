/** Small JSON helpers shared by the patch and field-ownership code. */

export type JsonMap = Record<string, unknown>;

import { isPlainObject } from "../objutil.ts";

/** JSON equality ignoring key order and undefined members (one implementation: objutil's). */
export { deepEqual } from "../objutil.ts";

/** A JSON object (not an array, not null). */
export const isMap: (v: unknown) => v is JsonMap = isPlainObject;

/** JSON with object keys sorted: equal values give equal strings whatever their key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (isMap(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Go's `%v`-ish rendering used in upstream error messages. */
export function goString(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString(v[k])}`)
      .join(" ")}]`;
  }
  if (v === null) return "<nil>";
  return String(v);
}
