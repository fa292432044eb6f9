/**
 * Strategic merge patch (application/strategic-merge-patch+json), following
 * k8s.io/apimachinery/pkg/util/strategicpatch `StrategicMergeMapPatch` with the
 * options a server applies patches with (MergeParallelList, IgnoreUnmatchedNulls):
 * merge keys per field, `$patch: replace|delete|merge`, `$setElementOrder/<list>`,
 * `$deleteFromPrimitiveList/<list>`, `$retainKeys`, `null` deletes.
 */
import type { KubeObject } from "../../../engine/kube/types.ts";
import { deepEqual, goString, isMap, type JsonMap } from "./json.ts";
import { type FieldSchema, type ListSchema, type StructSchema, schemaOf } from "./schema.ts";

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const SET_ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

/** A patch the server cannot apply (the API server answers it with a 4xx Status carrying this message). */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatchError";
  }
}

const badPatchType = (t: unknown, m: JsonMap) =>
  new PatchError(`unknown patch type: ${goString(t)} in map: ${goString(m)}`);
const noMergeKey = (m: JsonMap, k: string) =>
  new PatchError(`map: ${goString(m)} does not contain declared merge key: ${k}`);

function goType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  return typeof v;
}

/** Apply a strategic merge patch to `original` (not modified); returns the patched object. */
export function strategicMergePatch(original: KubeObject, patch: unknown): KubeObject {
  if (!isMap(patch)) {
    throw new PatchError(
      `json: cannot unmarshal ${goType(patch)} into Go value of type map[string]interface {}`,
    );
  }
  const schema = schemaOf(original.apiVersion, original.kind);
  const out = mergeMap(structuredClone(original) as JsonMap, structuredClone(patch), schema);
  const meta = isMap(out.metadata) ? out.metadata : {};
  out.metadata = meta;
  dropEmptyMetaMaps(meta);
  const spec = out.spec;
  if (isMap(spec) && isMap(spec.template) && isMap(spec.template.metadata)) {
    dropEmptyMetaMaps(spec.template.metadata);
  }
  return out as KubeObject;
}

/** Go encodes empty `omitempty` maps as absent: a patch that removes the last label leaves no `labels: {}`. */
function dropEmptyMetaMaps(meta: JsonMap): void {
  for (const k of ["labels", "annotations"]) {
    const v = meta[k];
    if (isMap(v) && Object.keys(v).length === 0) delete meta[k];
  }
}

function fieldOf(schema: StructSchema | undefined, key: string): FieldSchema | undefined {
  return schema?.[key];
}

/** A patch value for a key the original lacks: its directives and nulls are dropped. */
function fresh(value: unknown, field: FieldSchema | undefined): unknown {
  if (isMap(value)) return mergeMap({}, value, field?.struct);
  if (Array.isArray(value)) return mergeList([], value, field?.list);
  return value;
}

function mergeMap(original: JsonMap, patch: JsonMap, schema: StructSchema | undefined): JsonMap {
  if (DIRECTIVE in patch) {
    const directive = patch[DIRECTIVE];
    if (directive === "replace") {
      const { [DIRECTIVE]: _, ...rest } = patch;
      return mergeMap({}, rest, schema);
    }
    if (directive === "delete") return {};
    throw badPatchType(directive, patch);
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, schema);

  for (const [k, patchV] of Object.entries(patch)) {
    if (k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const key = k.slice(DELETE_PRIMITIVE.length);
      const orig = original[key];
      if (!Array.isArray(patchV)) throw new PatchError(`invalid patch format of ${k}: expected a list`);
      if (Array.isArray(orig)) original[key] = orig.filter((v) => !patchV.some((d) => deepEqual(d, v)));
      continue;
    }
    const field = fieldOf(schema, k);
    if (patchV === null) {
      delete original[k];
      continue;
    }
    const origV = original[k];
    if (origV === undefined || origV === null) {
      original[k] = fresh(patchV, field);
    } else if (isMap(origV) && isMap(patchV)) {
      original[k] = mergeMap(origV, patchV, field?.struct);
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      original[k] = mergeList(origV, patchV, field?.list);
    } else {
      original[k] = fresh(patchV, field);
    }
  }
  return original;
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!(RETAIN_KEYS in patch)) return;
  const retain = patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw new PatchError("invalid patch format of retainKeys");
  const keep = new Set(retain.map(String));
  for (const [k, v] of Object.entries(patch)) {
    if (k === RETAIN_KEYS || v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER))
      continue;
    if (!keep.has(k)) throw new PatchError("invalid patch format of retainKeys");
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<list>`: merge that list now, then order it as the directive says. */
function applySetElementOrder(original: JsonMap, patch: JsonMap, schema: StructSchema | undefined): void {
  for (const [directiveKey, order] of Object.entries(patch)) {
    if (!directiveKey.startsWith(SET_ORDER)) continue;
    const key = directiveKey.slice(SET_ORDER.length);
    const list = fieldOf(schema, key)?.list;
    const mergeKey = list?.smpMerge?.key;
    const patchList = patch[key];
    if (
      !Array.isArray(order) ||
      (patchList !== undefined && patchList !== null && !Array.isArray(patchList))
    ) {
      throw new PatchError("invalid patch format of setElementOrder list");
    }
    const origList = original[key];
    const hasOrig = Array.isArray(origList);
    const hasPatch = Array.isArray(patchList);
    if (hasPatch) validateOrder(patchList, order, mergeKey);
    let merged: unknown[];
    if (hasOrig && hasPatch) merged = mergeList(origList, patchList, list);
    else if (hasOrig) merged = origList;
    else if (hasPatch) merged = mergeList([], patchList, list);
    else continue;
    const inOrder = (item: unknown) => indexIn(order, item, mergeKey) >= 0;
    original[key] = normalizeOrder(
      merged.filter(inOrder),
      merged.filter((x) => !inOrder(x)),
      order,
      hasOrig ? origList : [],
      mergeKey,
    );
    delete patch[key];
  }
}

function validateOrder(patchList: unknown[], order: unknown[], mergeKey: string | undefined): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? patchList.filter((x) => !(isMap(x) && x[DIRECTIVE] === "delete")) : patchList;
  let p = 0;
  let o = 0;
  while (p < nonDelete.length && o < order.length) {
    const item = nonDelete[p];
    if (isMap(item) && DIRECTIVE in item) {
      p++;
      continue;
    }
    if (sameItem(item, order[o], mergeKey)) p++;
    o++;
  }
  if (p < nonDelete.length && o >= order.length) {
    throw new PatchError(
      `The order in patch list:\n${goString(patchList)}\n doesn't match $setElementOrder list:\n${goString(order)}\n`,
    );
  }
}

function sameItem(a: unknown, b: unknown, mergeKey: string | undefined): boolean {
  if (mergeKey === undefined) return deepEqual(a, b);
  return isMap(a) && isMap(b) && a[mergeKey] !== undefined && deepEqual(a[mergeKey], b[mergeKey]);
}

function indexIn(list: unknown[], item: unknown, mergeKey: string | undefined): number {
  return list.findIndex((x) => sameItem(x, item, mergeKey));
}

function mergeList(original: unknown[], patch: unknown[], list: ListSchema | undefined): unknown[] {
  const itemField: FieldSchema | undefined = list?.item ? { struct: list.item } : undefined;
  if (list?.smpMerge === undefined) return patch.map((x) => fresh(x, itemField));
  if (original.length === 0 && patch.length === 0) return original;
  const mergeKey = list.smpMerge.key;
  const isMapList = patch.some(isMap) || original.some(isMap);
  if (!isMapList) {
    const merged: unknown[] = [];
    for (const x of [...original, ...patch]) if (!merged.some((m) => deepEqual(m, x))) merged.push(x);
    return normalizeOrder(
      merged.filter((x) => indexIn(patch, x, undefined) >= 0),
      merged.filter((x) => indexIn(patch, x, undefined) < 0),
      patch,
      original,
      undefined,
    );
  }
  if (mergeKey === undefined) throw new PatchError("cannot merge lists without merge key for map");

  // Special elements: {$patch: delete, key: v} deletes, {$patch: replace} replaces the list.
  let replace = false;
  let base = original;
  const items: JsonMap[] = [];
  for (const v of patch) {
    if (!isMap(v)) throw new PatchError(`invalid patch: list of maps contains ${goString(v)}`);
    if (!(DIRECTIVE in v)) {
      items.push(v);
      continue;
    }
    const directive = v[DIRECTIVE];
    if (directive === "delete") {
      if (v[mergeKey] === undefined) throw noMergeKey(v, mergeKey);
      base = base.filter((o) => !(isMap(o) && deepEqual(o[mergeKey], v[mergeKey])));
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw new PatchError("merging lists cannot yet be specified in the patch");
    } else {
      throw badPatchType(directive, v);
    }
  }
  if (replace) return items.map((x) => fresh(x, itemField));

  const merged = [...base];
  for (const item of items) {
    if (item[mergeKey] === undefined) throw noMergeKey(item, mergeKey);
    const i = indexIn(merged, item, mergeKey);
    const existing = merged[i];
    if (i >= 0 && isMap(existing)) {
      merged[i] = mergeMap(existing, item, list.item);
    } else {
      merged.push(fresh(item, itemField));
    }
  }
  const inPatch = (x: unknown) => indexIn(items, x, mergeKey) >= 0;
  return normalizeOrder(
    merged.filter(inPatch),
    merged.filter((x) => !inPatch(x)),
    items,
    base,
    mergeKey,
  );
}

function sortByOrder(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const idx = (x: unknown) => {
    const i = indexIn(order, x, mergeKey);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return items
    .map((x, pos) => ({ x, pos, i: idx(x) }))
    .sort((a, b) => a.i - b.i || a.pos - b.pos)
    .map((e) => e.x);
}

/**
 * Upstream `normalizeElementOrder`: patch items in patch order, server-only
 * items in server order, interleaved so that server-only items keep their
 * position relative to the patch items they preceded on the server.
 */
function normalizeOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string | undefined,
): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]);
    else if (i >= left.length) out.push(right[j++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
