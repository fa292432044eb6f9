/** JSON helpers for diffing: deep clone/equal, JSON Pointer (RFC 6901), JSON Patch generation (RFC 6902). */
import { isObject } from "../health/access.ts";
import { jsonEqual } from "../kube/json.ts";

export { isObject };

/**
 * Equality of two JSON documents (key order ignored). One implementation for the engine:
 * engine/kube/json.ts's jsonEqual, which the controllers' status diffs use too.
 */
export const deepEqual: (a: unknown, b: unknown) => boolean = jsonEqual;

export function escapePointer(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new RangeError(`JSON pointer must start with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function valueAtPointer(obj: unknown, pointer: string): unknown {
  let cur = obj;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

/** Remove the value at `tokens` in place (no-op when absent). */
export function removeAt(obj: unknown, tokens: ReadonlyArray<string | number>): void {
  if (tokens.length === 0) return;
  let cur = obj;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[String(t)];
    else return;
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(cur)) {
    const i = Number(last);
    if (Number.isInteger(i) && i >= 0 && i < cur.length) cur.splice(i, 1);
  } else if (isObject(cur)) {
    delete cur[String(last)];
  }
}

export type PatchOp =
  | { op: "add"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: unknown };

/** JSON Patch turning `from` into `to` (objects recursed, arrays of equal length recursed, else replaced). */
export function jsonPatch(from: unknown, to: unknown, path = ""): PatchOp[] {
  if (deepEqual(from, to)) return [];
  if (isObject(from) && isObject(to)) {
    const ops: PatchOp[] = [];
    for (const k of Object.keys(from)) {
      const p = `${path}/${escapePointer(k)}`;
      if (!Object.hasOwn(to, k)) ops.push({ op: "remove", path: p });
      else ops.push(...jsonPatch(from[k], to[k], p));
    }
    for (const k of Object.keys(to)) {
      if (!Object.hasOwn(from, k)) ops.push({ op: "add", path: `${path}/${escapePointer(k)}`, value: to[k] });
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return from.flatMap((x, i) => jsonPatch(x, to[i], `${path}/${i}`));
  }
  if (from === undefined) return [{ op: "add", path, value: to }];
  if (to === undefined) return [{ op: "remove", path }];
  return [{ op: "replace", path, value: to }];
}
