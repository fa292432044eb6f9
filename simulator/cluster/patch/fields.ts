/**
 * Field sets in structured-merge-diff terms. A path is a list of path
 * elements as FieldsV1 spells them: `f:<field>`, `k:{"name":"app"}` (an item
 * of an associative list, key fields sorted), `v:<json>` (an item of a set),
 * `i:<n>` (unused: other lists are atomic). A set holds member paths: leaves
 * (scalars, atomic lists/maps, empty maps) and list items (FieldsV1's ".").
 */
import { deepEqual } from "../objutil.ts";
import { isMap, type JsonMap, stableStringify } from "./json.ts";
import type { FieldSchema, ListSchema, StructSchema } from "./schema.ts";

export type FieldsV1 = Record<string, unknown>;

const SEP = "\u0000";

export const joinPath = (elements: readonly string[]): string => elements.join(SEP);
export const splitPath = (path: string): string[] => (path === "" ? [] : path.split(SEP));

/** Metadata fields the server owns: never part of a field set (upstream "stripMeta"). */
const SERVER_META = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

/** The part of an object a write to `subresource` can touch, without server-owned fields. */
export function scopeOf(obj: JsonMap, subresource: string | undefined): JsonMap {
  if (subresource === "status") return obj.status === undefined ? {} : { status: obj.status };
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind" || k === "status") continue;
    if (k === "metadata" && isMap(v)) {
      const meta: JsonMap = {};
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_META.has(mk) && mv !== undefined) meta[mk] = mv;
      if (Object.keys(meta).length > 0) out.metadata = meta;
      continue;
    }
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The key element of an associative-list item, or undefined when a key field is missing. */
export function itemKey(item: unknown, list: ListSchema): string | undefined {
  if (list.ssa.type === "set") return `v:${stableStringify(item)}`;
  if (list.ssa.type !== "map" || !isMap(item)) return undefined;
  const key: JsonMap = {};
  for (const f of [...list.ssa.keys].sort()) {
    const v = item[f] ?? list.keyDefaults?.[f];
    if (v === undefined) continue;
    key[f] = v;
  }
  if (Object.keys(key).length === 0) return undefined;
  return `k:${JSON.stringify(key)}`;
}

/** Signature of an intermediate node that exists (its contents are compared through its children). */
const EXISTS = "\u0000exists";

/**
 * Member paths with a value signature each ("" for list items). With
 * `intermediate` (what an Update records, as upstream's compare does) maps and
 * lists are members too, except the fields Go always serializes (non-pointer
 * structs declared in the schema, and lists without omitempty such as
 * PodSpec.containers), which exist even in an empty object.
 */
export function flatten(obj: JsonMap, schema: StructSchema, intermediate = false): Map<string, string> {
  const out = new Map<string, string>();
  walkStruct(obj, schema, "", out, intermediate);
  return out;
}

/** `path` + one element, paths being joined strings ("" is the root). */
const child = (path: string, el: string) => (path === "" ? el : path + SEP + el);

function walkStruct(
  obj: JsonMap,
  schema: StructSchema | undefined,
  path: string,
  out: Map<string, string>,
  intermediate: boolean,
) {
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    walkValue(v, schema?.[k], child(path, `f:${k}`), out, intermediate);
  }
}

function walkValue(
  v: unknown,
  field: FieldSchema | undefined,
  path: string,
  out: Map<string, string>,
  intermediate: boolean,
): void {
  const alwaysThere =
    field?.struct !== undefined || field?.retainKeys === true || field?.list?.zeroValue === true;
  if (isMap(v) && !field?.atomic && hasKeys(v)) {
    if (intermediate && !alwaysThere) out.set(path, EXISTS);
    walkStruct(v, field?.struct, path, out, intermediate);
    return;
  }
  const list = field?.list;
  if (Array.isArray(v) && list !== undefined && list.ssa.type !== "atomic") {
    if (intermediate && !alwaysThere && v.length > 0) out.set(path, EXISTS);
    for (const item of v) {
      const key = itemKey(item, list);
      if (key === undefined) continue;
      const itemPath = child(path, key);
      out.set(itemPath, "");
      if (list.ssa.type === "map" && isMap(item)) walkStruct(item, list.item, itemPath, out, intermediate);
    }
    return;
  }
  out.set(path, signature(v));
}

/**
 * What `flatten(after, schema, true)` against `flatten(before, schema, true)`
 * would show: member paths whose signature changed or that are new
 * (`changed`), and paths that are gone (`removed`). Subtrees that are the same
 * object in both are skipped (writes share what they did not touch), so the
 * cost follows the size of the change rather than of the object.
 */
export function diffFlat(
  before: JsonMap,
  after: JsonMap,
  schema: StructSchema,
): { changed: Set<string>; removed: Set<string> } {
  const changed = new Set<string>();
  const removed = new Set<string>();
  diffStruct(before, after, schema, "", changed, removed);
  return { changed, removed };
}

function diffStruct(
  b: JsonMap,
  a: JsonMap,
  schema: StructSchema | undefined,
  path: string,
  changed: Set<string>,
  removed: Set<string>,
): void {
  for (const k in a) diffValue(b[k], a[k], schema?.[k], child(path, `f:${k}`), changed, removed);
  for (const k in b) {
    if (a[k] !== undefined || b[k] === undefined) continue;
    addAll(b[k], schema?.[k], child(path, `f:${k}`), removed);
  }
}

/** Every member path of the value at `path` (as flatten records it), into `to`. */
function addAll(v: unknown, field: FieldSchema | undefined, path: string, to: Set<string>): void {
  const m = new Map<string, string>();
  walkValue(v, field, path, m, true);
  for (const p of m.keys()) to.add(p);
}

/** How walkValue treats a value: "map" and "list" recurse, "leaf" has a signature. */
function shapeOf(v: unknown, field: FieldSchema | undefined): "map" | "list" | "leaf" {
  if (isMap(v) && !field?.atomic && hasKeys(v)) return "map";
  if (Array.isArray(v) && field?.list !== undefined && field.list.ssa.type !== "atomic") return "list";
  return "leaf";
}

function diffValue(
  b: unknown,
  a: unknown,
  field: FieldSchema | undefined,
  path: string,
  changed: Set<string>,
  removed: Set<string>,
): void {
  if (b === a || a === undefined) {
    if (a === undefined && b !== undefined) addAll(b, field, path, removed);
    return;
  }
  if (b === undefined) {
    addAll(a, field, path, changed);
    return;
  }
  const shape = shapeOf(a, field);
  if (
    shape !== shapeOf(b, field) ||
    (shape === "list" && !diffList(b as unknown[], a as unknown[], field!, path, changed, removed))
  ) {
    const bm = new Map<string, string>();
    const am = new Map<string, string>();
    walkValue(b, field, path, bm, true);
    walkValue(a, field, path, am, true);
    for (const [p, v] of am) if (bm.get(p) !== v) changed.add(p);
    for (const p of bm.keys()) if (!am.has(p)) removed.add(p);
    return;
  }
  if (shape === "map") diffStruct(b as JsonMap, a as JsonMap, field?.struct, path, changed, removed);
  // leaves: equal JSON values have equal signatures (compared without rendering either)
  else if (shape === "leaf" && !deepEqual(a, b)) changed.add(path);
}

/** Items of an associative list by key, or undefined when a key repeats (then the caller compares in full). */
function itemsByKey(v: unknown[], list: ListSchema): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  for (const item of v) {
    const key = itemKey(item, list);
    if (key === undefined) continue;
    if (m.has(key)) return undefined;
    m.set(key, item);
  }
  return m;
}

/** Diff two associative lists item by item; false when that cannot be done exactly (repeated keys). */
function diffList(
  b: unknown[],
  a: unknown[],
  field: FieldSchema,
  path: string,
  changed: Set<string>,
  removed: Set<string>,
): boolean {
  const list = field.list!;
  const bi = itemsByKey(b, list);
  const ai = itemsByKey(a, list);
  if (bi === undefined || ai === undefined) return false;
  const alwaysThere = field.struct !== undefined || field.retainKeys === true || list.zeroValue === true;
  if (!alwaysThere && b.length > 0 !== a.length > 0) (a.length > 0 ? changed : removed).add(path);
  const walkItems = list.ssa.type === "map";
  for (const [key, item] of ai) {
    const itemPath = child(path, key);
    const old = bi.get(key);
    if (old === undefined) {
      changed.add(itemPath);
      if (walkItems && isMap(item)) {
        const m = new Map<string, string>();
        walkStruct(item, list.item, itemPath, m, true);
        for (const p of m.keys()) changed.add(p);
      }
    } else if (walkItems && old !== item) {
      diffStruct(isMap(old) ? old : {}, isMap(item) ? item : {}, list.item, itemPath, changed, removed);
    }
  }
  for (const [key, item] of bi) {
    if (ai.has(key)) continue;
    const itemPath = child(path, key);
    removed.add(itemPath);
    if (walkItems && isMap(item)) {
      const m = new Map<string, string>();
      walkStruct(item, list.item, itemPath, m, true);
      for (const p of m.keys()) removed.add(p);
    }
  }
  return true;
}

/** A leaf's value signature: JSON, object keys sorted. */
function signature(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    default:
      return stableStringify(v);
  }
}

const hasKeys = (m: JsonMap): boolean => {
  for (const _ in m) return true;
  return false;
};

/** Whether a FieldsV1 tree has `path` as a member, without parsing the whole tree. */
export function treeOwns(fields: unknown, path: string): boolean {
  let node = fields;
  let start = 0;
  while (path !== "") {
    if (!isMap(node)) return false;
    const end = path.indexOf(SEP, start);
    node = node[end < 0 ? path.slice(start) : path.slice(start, end)];
    if (end < 0) break;
    start = end + 1;
  }
  return isMap(node) && (!hasKeys(node) || "." in node);
}

/** FieldsV1 -> member paths (joined). */
export function fieldsToSet(fields: unknown): Set<string> {
  const out = new Set<string>();
  collectMembers(fields, "", out);
  return out;
}

function collectMembers(node: unknown, path: string, out: Set<string>): void {
  if (!isMap(node)) return;
  for (const k in node) {
    if (k === ".") {
      out.add(path);
      continue;
    }
    const p = child(path, k);
    const sub = node[k];
    if (isMap(sub) && hasKeys(sub)) collectMembers(sub, p, out);
    else out.add(p);
  }
}

interface TreeNode {
  member: boolean;
  children: Map<string, TreeNode>;
}

/** f: before k: before v: before i: (then anything else), as the API server prints children. */
function rank(k: string): number {
  switch (k.charCodeAt(0)) {
    case 102: // f
      return 1;
    case 107: // k
      return 2;
    case 118: // v
      return 3;
    case 105: // i
      return 4;
    default:
      return 5;
  }
}
const byElement = (a: string, b: string) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);

/** Member paths -> FieldsV1, children sorted the way the API server prints them. */
export function setToFields(set: Iterable<string>): FieldsV1 {
  const root: TreeNode = { member: false, children: new Map() };
  for (const path of set) {
    let node = root;
    let start = 0;
    while (path !== "") {
      const end = path.indexOf(SEP, start);
      const el = end < 0 ? path.slice(start) : path.slice(start, end);
      let next = node.children.get(el);
      if (next === undefined) {
        next = { member: false, children: new Map() };
        node.children.set(el, next);
      }
      node = next;
      if (end < 0) break;
      start = end + 1;
    }
    node.member = true;
  }
  const out = renderTree(root);
  canonical.add(out);
  return out;
}

function renderTree(node: TreeNode): JsonMap {
  const out: JsonMap = {};
  if (node.member && node.children.size > 0) out["."] = {};
  const keys = [...node.children.keys()];
  if (keys.length > 1) keys.sort(byElement);
  for (const k of keys) out[k] = renderTree(node.children.get(k)!);
  return out;
}

/**
 * FieldsV1 trees this module produced (rendered from a set, from an object, or
 * edited from one of those): their children are in the API server's order, so
 * an edit may keep the untouched parts as they are.
 */
const canonical = new WeakSet<object>();

/** Whether `fields` came out of setToFields, fieldsOf or editFields (not from a client). */
export const isCanonical = (fields: unknown): boolean => isMap(fields) && canonical.has(fields);

/** A repeated key in an associative list: the direct rendering gives up (flatten handles it). */
class RepeatedKey extends Error {}

/**
 * The FieldsV1 of every member `flatten(obj, schema, true)` holds, rendered
 * straight from the object (no path strings, no set), children sorted like
 * setToFields. What a create records for its manager.
 */
export function fieldsOf(obj: JsonMap, schema: StructSchema): FieldsV1 {
  try {
    const out: JsonMap = {};
    structFields(obj, schema, out);
    canonical.add(out);
    return out;
  } catch (e) {
    if (!(e instanceof RepeatedKey)) throw e;
    const out = setToFields(flatten(obj, schema, true).keys());
    return out;
  }
}

function structFields(obj: JsonMap, schema: StructSchema | undefined, out: JsonMap): void {
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    const node = valueFields(v, schema?.[k]);
    if (node !== undefined) out[`f:${k}`] = node;
  }
}

/** The node of one value (as walkValue records it), or undefined when it has no member at all. */
function valueFields(v: unknown, field: FieldSchema | undefined): JsonMap | undefined {
  const alwaysThere =
    field?.struct !== undefined || field?.retainKeys === true || field?.list?.zeroValue === true;
  if (isMap(v) && !field?.atomic && hasKeys(v)) {
    const children: JsonMap = {};
    structFields(v, field?.struct, children);
    return withMember(!alwaysThere, children);
  }
  const list = field?.list;
  if (Array.isArray(v) && list !== undefined && list.ssa.type !== "atomic") {
    const items: Array<[string, JsonMap]> = [];
    const seen = new Set<string>();
    for (const item of v) {
      const key = itemKey(item, list);
      if (key === undefined) continue;
      if (seen.has(key)) throw new RepeatedKey();
      seen.add(key);
      const children: JsonMap = {};
      if (list.ssa.type === "map" && isMap(item)) structFields(item, list.item, children);
      items.push([key, withMember(true, children)!]);
    }
    if (items.length > 1) items.sort((a, b) => byElement(a[0], b[0]));
    const children: JsonMap = {};
    for (const [k, node] of items) children[k] = node;
    return withMember(!alwaysThere && v.length > 0, children);
  }
  return {};
}

/** A node as renderTree prints it: "." first when it is a member with children; {} for a member leaf. */
function withMember(member: boolean, children: JsonMap): JsonMap | undefined {
  if (!hasKeys(children)) return member ? {} : undefined;
  return member ? { ".": {}, ...children } : children;
}

interface Edit {
  /** true: becomes a member; false: stops being one; undefined: unchanged. */
  member?: boolean;
  children?: Map<string, Edit>;
}

/**
 * `base` with the member paths `adds` added and `dels` removed, copying only
 * the nodes on the edited paths (the rest is shared with `base`). Gives what
 * setToFields(parsed base - dels + adds) gives when `base` is canonical.
 */
export function editFields(base: FieldsV1, adds: Iterable<string>, dels: Iterable<string>): FieldsV1 {
  const root: Edit = {};
  for (const p of dels) markEdit(root, p, false);
  for (const p of adds) markEdit(root, p, true);
  const out = applyEdit(base, root, true) ?? {};
  canonical.add(out);
  return out;
}

function markEdit(root: Edit, path: string, member: boolean): void {
  let e = root;
  for (const el of splitPath(path)) {
    e.children ??= new Map();
    let next = e.children.get(el);
    if (next === undefined) {
      next = {};
      e.children.set(el, next);
    }
    e = next;
  }
  e.member = member;
}

function applyEdit(node: JsonMap | undefined, e: Edit, root: boolean): JsonMap | undefined {
  let member = !root && node !== undefined && (!hasKeys(node) || "." in node);
  if (e.member !== undefined) member = e.member;
  const kids: Array<[string, unknown]> = [];
  let added = false;
  if (node !== undefined) {
    for (const k in node) {
      if (k === ".") continue;
      const ce = e.children?.get(k);
      const sub = node[k];
      if (ce === undefined) kids.push([k, sub]);
      else {
        const next = applyEdit(isMap(sub) ? sub : undefined, ce, false);
        if (next !== undefined) kids.push([k, next]);
      }
    }
  }
  if (e.children !== undefined) {
    for (const [k, ce] of e.children) {
      if (node !== undefined && k in node) continue;
      const next = applyEdit(undefined, ce, false);
      if (next === undefined) continue;
      kids.push([k, next]);
      added = true;
    }
  }
  if (added && kids.length > 1) kids.sort((a, b) => byElement(a[0], b[0]));
  if (kids.length === 0) return member ? {} : undefined;
  const out: JsonMap = member ? { ".": {} } : {};
  for (const [k, v] of kids) out[k] = v;
  return out;
}

/** Print a path the way upstream conflict messages do: `.spec.containers[name="app"].image`. */
export function pathString(path: string): string {
  let s = "";
  for (const el of splitPath(path)) {
    const body = el.slice(2);
    if (el.startsWith("f:")) s += `.${body}`;
    else if (el.startsWith("v:")) s += `[=${body}]`;
    else if (el.startsWith("i:")) s += `[${body}]`;
    else if (el.startsWith("k:")) {
      const key = JSON.parse(body) as JsonMap;
      s += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    }
  }
  return s;
}

/** Navigate one path element down from `parent` (a map or list); returns the child and a remover. */
function step(
  parent: unknown,
  el: string,
  field: FieldSchema | undefined,
): { value: unknown; remove: () => void; field: FieldSchema | undefined } | undefined {
  if (el.startsWith("f:")) {
    if (!isMap(parent)) return undefined;
    const name = el.slice(2);
    if (!(name in parent)) return undefined;
    return { value: parent[name], remove: () => delete parent[name], field: field?.struct?.[name] };
  }
  const list = field?.list;
  if (!Array.isArray(parent) || list === undefined) return undefined;
  const i = parent.findIndex((item) => itemKey(item, list) === el);
  if (i < 0) return undefined;
  return {
    value: parent[i],
    remove: () => parent.splice(i, 1),
    field: list.item ? { struct: list.item } : undefined,
  };
}

/**
 * Remove the value at `path` from `obj` (in place). Maps left empty by the
 * removal are removed too unless `keep(path)` says that map is itself owned.
 */
export function removePath(obj: JsonMap, path: string, schema: StructSchema, keep: (p: string) => boolean) {
  const els = splitPath(path);
  const trail: Array<{ value: unknown; remove: () => void }> = [];
  let cur: unknown = obj;
  let field: FieldSchema | undefined = { struct: schema };
  for (const el of els) {
    const next = step(cur, el, field);
    if (next === undefined) return;
    trail.push(next);
    cur = next.value;
    field = next.field;
  }
  trail[trail.length - 1]?.remove();
  for (let i = trail.length - 2; i >= 0; i--) {
    const t = trail[i]!;
    const empty =
      (isMap(t.value) && Object.keys(t.value).length === 0) ||
      (Array.isArray(t.value) && t.value.length === 0);
    if (!empty || !els[i]!.startsWith("f:") || keep(joinPath(els.slice(0, i + 1)))) break;
    t.remove();
  }
}
