/** Small pure helpers over JSON values: equality, RFC 7386 merge patch, dotted paths. */

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Structural equality of JSON values (key order ignored), skipping top-level keys in `skip`. */
export function deepEqual(a: unknown, b: unknown, skip?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let na = 0;
  for (const k in ao) {
    if (skip?.has(k) || ao[k] === undefined) continue;
    na++;
    if (!deepEqual(ao[k], bo[k])) return false;
  }
  let nb = 0;
  for (const k in bo) if (!skip?.has(k) && bo[k] !== undefined) nb++;
  return na === nb;
}

/** RFC 7386 JSON merge patch (returns a new value; `target` is not modified). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      if (k in out) delete out[k];
    } else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** An object JSON would write member by member (not an array, class instance or toJSON holder). */
export function isPlainData(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && !("toJSON" in v);
}

/**
 * mergePatch(target, cloneJson(patch)) for a patch the caller keeps, without
 * copying it first: its maps are merged into new objects anyway, so only the
 * values taken over as they are (lists, scalars, atomic values) are copied,
 * and of those only what differs from the target (frozen ones, read from the
 * store, are shared). What the patch leaves as it was stays the target's own:
 * a map the patch changes nothing in is the target's map itself, a list equal
 * (as JSON) to the target's is the target's list, and a list that changed
 * keeps the target's items where they are equal (the later share() of the
 * write then compares by identity).
 */
export function mergeForeignPatch(target: unknown, patch: unknown): unknown {
  if (!isPlainData(patch) || Object.isFrozen(patch)) {
    if (Array.isArray(patch) && !Object.isFrozen(patch) && Array.isArray(target))
      return takeOverList(target, patch);
    return mergePatch(target, ownJson(patch));
  }
  const base = isPlainObject(target) ? target : undefined;
  // copied on the first change (a fresh map when the target is not one)
  let out: Record<string, unknown> | undefined = base === undefined ? {} : undefined;
  for (const k of Object.keys(patch)) {
    let v = patch[k];
    // what the JSON text of the patch would say: no member, or null for a non-finite number
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
    if (typeof v === "number" && !Number.isFinite(v)) v = null;
    const from = out ?? (base as Record<string, unknown>);
    if (v === null) {
      if (k in from) {
        out ??= { ...base };
        delete out[k];
      }
      continue;
    }
    const cur = from[k];
    const next = mergeForeignPatch(cur, v);
    if (next !== cur || !(k in from)) {
      out ??= { ...base };
      out[k] = next;
    }
  }
  return out ?? base;
}

/** cloneJson(next) for a list replacing `old`: `old` itself when equal as JSON, else sharing `old`'s equal parts. */
function takeOverList(old: readonly unknown[], next: readonly unknown[]): unknown {
  const off = slide(old, next);
  let same = off === 0 && old.length === next.length;
  const out = new Array<unknown>(next.length);
  for (let i = 0; i < next.length; i++) {
    const was = old[i + off];
    const c = takeOver(was, next[i]);
    if (c !== was) same = false;
    out[i] = c === undefined ? null : c;
  }
  return same ? old : out;
}

/**
 * copyValue(v, true) for a value replacing the JSON value `old`, in one walk:
 * `old` itself when the two are equal as JSON, else a copy whose members (at
 * any depth: map members, list items) equal to `old`'s at the same place are
 * `old`'s own. A list item that changed in one member (a measurement appended
 * to a metric's list) is a new map that shares the rest with the old item.
 * Values JSON converts (class instances, toJSON, non-finite numbers) are
 * copied as copyValue copies them and never count as equal.
 */
function takeOver(old: unknown, v: unknown): unknown {
  if (typeof v !== "object" || v === null) {
    if (old === v && (typeof v !== "number" || Number.isFinite(v))) return old;
    return copyValue(v, true);
  }
  if (Object.isFrozen(v)) return sameAsJson(old, v) ? old : v;
  if (Array.isArray(v)) return Array.isArray(old) ? takeOverList(old, v) : copyValue(v, true);
  if (!isPlainData(v) || !isPlainObject(old) || Object.hasOwn(v, "__proto__")) return copyValue(v, true);
  const out: Record<string, unknown> = {};
  let same = true;
  let n = 0;
  // (a plain object's own members: isPlainData rules out prototypes with enumerable members)
  for (const k in v) {
    // (an inherited member such as `constructor` is a function: never taken over, never equal)
    const was = old[k];
    const x = v[k];
    // the same string, boolean or finite number: no call (most members of a changed item)
    const c =
      x === was && (typeof x === "string" || typeof x === "boolean" || Number.isFinite(x))
        ? was
        : takeOver(was, x);
    if (c === undefined) continue;
    n++;
    if (c !== was) same = false;
    out[k] = c;
  }
  if (same) {
    let m = 0;
    for (const k in old) if (old[k] !== undefined) m++;
    if (m === n) return old;
  }
  return out;
}

/**
 * Whether `v` written as JSON is the JSON value `json` (false when in doubt:
 * values JSON would convert - class instances, toJSON, non-finite numbers,
 * undefined list items - never count as equal).
 */
function sameAsJson(json: unknown, v: unknown): boolean {
  if (json === v) return typeof v !== "number" || Number.isFinite(v);
  if (typeof v !== "object" || v === null || typeof json !== "object" || json === null) return false;
  if (Array.isArray(v)) {
    if (!Array.isArray(json) || json.length !== v.length) return false;
    for (let i = 0; i < v.length; i++) if (!sameAsJson(json[i], v[i])) return false;
    return true;
  }
  if (Array.isArray(json) || !isPlainData(v)) return false;
  const j = json as Record<string, unknown>;
  let n = 0;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    n++;
    if (!sameAsJson(j[k], x)) return false;
  }
  let m = 0;
  for (const k in j) if (j[k] !== undefined) m++;
  return n === m;
}

/**
 * `next` made to share what equals `old`: `old` itself when the two are equal
 * JSON values, else `next` with each member (at any depth) that equals the
 * one at the same place in `old` replaced by that one. Frozen values are
 * returned as they are, others changed in place. A new version that shares
 * the untouched subtrees of the stored one is frozen, diffed and compared in
 * time that follows the size of the change, however the writer built it.
 */
export function share<T>(old: unknown, next: T): T {
  if (old === next || typeof next !== "object" || next === null || Object.isFrozen(next)) return next;
  if (typeof old !== "object" || old === null) return next;
  if (Array.isArray(next)) {
    if (!Array.isArray(old)) return next;
    const off = slide(old, next);
    let same = off === 0 && old.length === next.length;
    for (let i = 0; i < next.length; i++) {
      const v: unknown = next[i];
      const s = share(old[i + off], v);
      if (s !== v) next[i] = s;
      if (s !== old[i]) same = false;
    }
    return same ? (old as T) : next;
  }
  if (Array.isArray(old)) return next;
  return shareEqual(old as Record<string, unknown>, next as Record<string, unknown>) ? (old as T) : next;
}

/** How many items at most a list may have lost at its front and still be matched item by item. */
const MAX_SLIDE = 4;

/**
 * By how many items `next` slid against `old`: a bounded list that drops its
 * oldest entries as it appends (measurements, history) matches `old` from
 * there on, not position by position. 0 when its first item is old's first.
 */
function slide(old: readonly unknown[], next: readonly unknown[]): number {
  const first = next[0];
  if (old.length < 2 || typeof first !== "object" || first === null || deepEqual(old[0], first)) return 0;
  const last = Math.min(MAX_SLIDE, old.length - 1);
  for (let j = 1; j <= last; j++) if (deepEqual(old[j], first)) return j;
  return 0;
}

/**
 * share() for the members of `next` (changed in place) except those named in
 * `skip`, and whether `next` then equals `old` as JSON, the members in `skip`
 * aside. Members share() made `old`'s own compare by identity; the others are
 * compared (share() keeps frozen values as they are, also below a member, so
 * one it did not make `old`'s may still be equal), mostly by identity again.
 */
export function shareEqual(
  old: Record<string, unknown>,
  next: Record<string, unknown>,
  skip?: ReadonlySet<string>,
): boolean {
  let same = true;
  let n = 0;
  for (const k in next) {
    const v = next[k];
    if (v === undefined || skip?.has(k)) continue;
    n++;
    const was = old[k];
    const s = share(was, v);
    if (s !== v) next[k] = s;
    if (s === was) continue;
    // (share() keeps frozen values, also below a member it did not make old's own: compare those)
    if (same && !(typeof s === "object" && s !== null && deepEqual(was, s))) same = false;
  }
  if (!same) return false;
  let m = 0;
  for (const k in old) if (old[k] !== undefined && !skip?.has(k)) m++;
  return m === n;
}

/** Segments of a simple JSONPath such as `.spec.replicas` or `.status.HPAReplicas`. */
export function pathSegments(path: string): string[] {
  return path
    .replace(/^\$?\./, "")
    .split(".")
    .filter((s) => s !== "");
}

export function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of pathSegments(path)) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** A copy of `obj` with `path` set to `value` (intermediate objects copied or created). */
export function withPath<T>(obj: T, path: string, value: unknown): T {
  const segs = pathSegments(path);
  const set = (cur: unknown, i: number): unknown => {
    const o: Record<string, unknown> = isPlainObject(cur) ? { ...cur } : {};
    const seg = segs[i]!;
    o[seg] = i === segs.length - 1 ? value : set(o[seg], i + 1);
    return o;
  };
  return set(obj, 0) as T;
}

/**
 * Deep copy with the result `JSON.parse(JSON.stringify(v))` gives (undefined,
 * function and symbol members dropped, in arrays null; non-finite numbers
 * null), without the text in between: several times cheaper on the small
 * objects of an API write. Values that are not plain data (toJSON, class
 * instances, bigint) take the JSON route itself.
 */
export function cloneJson<T>(v: T): T {
  return copyValue(v) as T;
}

/**
 * cloneJson, except that subtrees which are frozen already (objects read from
 * the store: immutable, safe to share) are kept as they are; the top level is
 * always a fresh object the API may fill in. What the in-process client
 * stores of a caller's object: sharing what the caller took from a read
 * keeps later diffs, equality checks and freezing proportional to the change.
 */
export function ownJson<T>(v: T): T {
  if (typeof v !== "object" || v === null) return cloneJson(v);
  if (!Object.isFrozen(v)) return copyValue(v, true) as T;
  return (Array.isArray(v) ? [...v] : { ...v }) as T;
}

function viaJson(v: unknown): unknown {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
}

function copyValue(v: unknown, keepFrozen = false): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "object":
      break;
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return viaJson(v);
  }
  if (v === null) return null;
  if (keepFrozen && Object.isFrozen(v)) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = copyValue(v[i], keepFrozen);
      out[i] = x === undefined ? null : x;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if ((proto !== Object.prototype && proto !== null) || "toJSON" in v) return viaJson(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    const x = copyValue(src[k], keepFrozen);
    if (x === undefined) continue;
    if (k === "__proto__")
      Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out;
}
