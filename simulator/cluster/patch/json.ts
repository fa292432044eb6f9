/** Small JSON helpers shared by the patch and field-ownership code. */

export type JsonMap = Record<string, unknown>;

import { isPlainObject } from "../objutil.ts";

/** JSON equality ignoring key order and undefined members (one implementation: objutil's). */
export { deepEqual } from "../objutil.ts";

/** A JSON object (not an array, not null). */
export const isMap: (v: unknown) => v is JsonMap = isPlainObject;

/** JSON with object keys sorted (one implementation: the engine's). */
export { stableStringify } from "../../../engine/kube/json.ts";

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
