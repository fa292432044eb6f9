/**
 * JSON documents as plain values: a deep copy and an equality check that need no
 * serialization (the informer caches, the controllers' status diffs and change
 * detection compare many small documents many times).
 */

/** JSON with object keys sorted: equal values give equal strings whatever their key order. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += i === 0 ? stableStringify(v[i]) : `,${stableStringify(v[i])}`;
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = "{";
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += `${out.length === 1 ? "" : ","}${JSON.stringify(k)}:${stableStringify(x)}`;
  }
  return `${out}}`;
}

/** A deep copy of a JSON document (plain objects, arrays, scalars): cheaper than structuredClone. */
export function copyJson<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(copyJson) as T;
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = copyJson((v as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * Equality of two JSON documents as their serializations would compare, without serializing:
 * keys with undefined values count as absent and key order does not matter.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    // NaN and infinities serialize as null
    return typeof a === "number" && typeof b === "number" && !Number.isFinite(a) && !Number.isFinite(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  return jsonEqualExcept(a, b, NONE);
}

const NONE: ReadonlySet<string> = new Set();

/**
 * jsonEqual of two objects, ignoring the top-level keys in `skip` (e.g. status, or the server's
 * bookkeeping in metadata).
 */
export function jsonEqualExcept(a: object, b: object, skip: ReadonlySet<string>): boolean {
  if (a === b) return true;
  const x = a as Readonly<Record<string, unknown>>;
  const y = b as Readonly<Record<string, unknown>>;
  let n = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined || skip.has(k)) continue;
    n++;
    const w = y[k];
    if (w === undefined || !jsonEqual(v, w)) return false;
  }
  for (const k in y) if (y[k] !== undefined && !skip.has(k)) n--;
  return n === 0;
}

/**
 * The part of JSON merge patch `patch` (RFC 7386) that would change `base`: subtrees `base` already
 * holds are left out, as are nulls for keys `base` lacks. Undefined when applying `patch` to `base`
 * changes nothing. Applying the result to `base` gives what applying `patch` gives.
 * `same` remembers the pairs of deep-frozen documents whose delta was found empty (base -> patch, for
 * lists and maps): a caller that sends the same frozen parts again (a status's history, resources, a
 * finished operation's state) compares each pair once.
 */
export function mergePatchDelta(patch: unknown, base: unknown, same?: WeakMap<object, unknown>): unknown {
  if (patch === null) return base === undefined ? undefined : null;
  if (typeof patch !== "object") return jsonEqual(patch, base) ? undefined : patch;
  if (Array.isArray(patch)) {
    if (same === undefined || base === null || typeof base !== "object") {
      return jsonEqual(patch, base) ? undefined : patch;
    }
    if (same.get(base) === patch) return undefined;
    if (!jsonEqual(patch, base)) return patch;
    if (Object.isFrozen(base) && Object.isFrozen(patch)) same.set(base, patch);
    return undefined;
  }
  const b =
    base !== null && typeof base === "object" && !Array.isArray(base)
      ? (base as Record<string, unknown>)
      : undefined;
  if (b === undefined) return patch;
  if (same !== undefined && same.get(b) === patch) return undefined;
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const k in patch) {
    const v = (patch as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const d = mergePatchDelta(v, b[k], same);
    if (d !== undefined) {
      out[k] = d;
      changed = true;
    }
  }
  if (changed) return out;
  if (same !== undefined && Object.isFrozen(b) && Object.isFrozen(patch)) same.set(b, patch);
  return undefined;
}

/**
 * Freeze a JSON document and everything in it; an object already frozen is taken to be deep-frozen
 * (as the informer caches and the in-process API server freeze them). Returns the document.
 * Children first, the node itself last: the member walk runs on the object's own (unfrozen) hidden
 * class, whose key cache is warm, not on the frozen one freezing makes.
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v !== "object" || v === null || Object.isFrozen(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "object" && x !== null) deepFreeze(x);
    }
  } else {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (typeof x === "object" && x !== null) deepFreeze(x);
    }
  }
  return Object.freeze(v);
}
