/**
 * Field sets in structured-merge-diff terms. A path is a list of path
 * elements as FieldsV1 spells them: `f:<field>`, `k:{"name":"app"}` (an item
 * of an associative list, key fields sorted), `v:<json>` (an item of a set),
 * `i:<n>` (unused: other lists are atomic). A set holds member paths: leaves
 * (scalars, atomic lists/maps, empty maps) and list items (FieldsV1's ".").
 */
import { fieldKey } from "../../../engine/diff/fieldset.ts";
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
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined || k === "apiVersion" || k === "kind" || k === "status") continue;
    if (k === "metadata" && isMap(v)) {
      let meta: JsonMap | undefined;
      for (const mk in v) {
        const mv = v[mk];
        if (mv === undefined || SERVER_META.has(mk)) continue;
        meta ??= {};
        meta[mk] = mv;
      }
      if (meta !== undefined) out.metadata = meta;
      continue;
    }
    out[k] = v;
  }
  return out;
}

/** The key fields of an associative list, sorted (as the key element spells them). */
const sortedKeys = new WeakMap<object, readonly string[]>();

function keyFields(ssa: { keys: string[] }): readonly string[] {
  let keys = sortedKeys.get(ssa);
  if (keys === undefined) {
    keys = [...ssa.keys].sort();
    sortedKeys.set(ssa, keys);
  }
  return keys;
}

/** Key elements of one string key field (`k:{"type":"Ready"}`) by field and value, one string each (bounded). */
const stringKeys = new Map<string, Map<string, string>>();
let stringKeyCount = 0;

function stringKeyElement(field: string, value: string): string {
  let byValue = stringKeys.get(field);
  if (byValue === undefined) {
    byValue = new Map();
    stringKeys.set(field, byValue);
  }
  let el = byValue.get(value);
  if (el === undefined) {
    if (++stringKeyCount > 50_000) {
      stringKeys.clear();
      stringKeyCount = 1;
      stringKeys.set(field, byValue);
      byValue.clear();
    }
    el = `k:{${JSON.stringify(field)}:${JSON.stringify(value)}}`;
    byValue.set(value, el);
  }
  return el;
}

/** The key element of an associative-list item, or undefined when a key field is missing. */
export function itemKey(item: unknown, list: ListSchema): string | undefined {
  const ssa = list.ssa;
  if (ssa.type === "set") return `v:${stableStringify(item)}`;
  if (ssa.type !== "map" || !isMap(item)) return undefined;
  const fields = keyFields(ssa);
  if (fields.length === 1) {
    // what JSON.stringify gives the one-member key object, without building it
    const f = fields[0]!;
    const v = item[f] ?? list.keyDefaults?.[f];
    if (typeof v === "string") return stringKeyElement(f, v);
    const json = v === undefined ? undefined : (JSON.stringify(v) as string | undefined);
    return json === undefined ? undefined : `k:{${JSON.stringify(f)}:${json}}`;
  }
  const key: JsonMap = {};
  let any = false;
  for (const f of fields) {
    const v = item[f] ?? list.keyDefaults?.[f];
    if (v === undefined) continue;
    key[f] = v;
    any = true;
  }
  return any ? `k:${JSON.stringify(key)}` : undefined;
}

/**
 * How a walk over an object's members records them: `at` is where the walk
 * is (a joined path, or a node of a PathTree), `child` steps one element down,
 * `member` records the member at `at`: an intermediate map or list
 * (`kind` "exists"), a list item ("item") or a leaf with its value ("leaf").
 */
interface MemberSink<P> {
  child(at: P, el: string): P;
  member(at: P, kind: "exists" | "item" | "leaf", value: unknown): void;
}

function walkStruct<P>(
  obj: JsonMap,
  schema: StructSchema | undefined,
  at: P,
  sink: MemberSink<P>,
  intermediate: boolean,
): void {
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    walkValue(v, schema?.[k], sink.child(at, fieldKey(k)), sink, intermediate);
  }
}

function walkValue<P>(
  v: unknown,
  field: FieldSchema | undefined,
  at: P,
  sink: MemberSink<P>,
  intermediate: boolean,
): void {
  const alwaysThere =
    field?.struct !== undefined || field?.retainKeys === true || field?.list?.zeroValue === true;
  if (isMap(v) && !field?.atomic && hasKeys(v)) {
    if (intermediate && !alwaysThere) sink.member(at, "exists", v);
    walkStruct(v, field?.struct, at, sink, intermediate);
    return;
  }
  const list = field?.list;
  if (Array.isArray(v) && list !== undefined && list.ssa.type !== "atomic") {
    if (intermediate && !alwaysThere && v.length > 0) sink.member(at, "exists", v);
    for (const item of v) {
      const key = itemKey(item, list);
      if (key === undefined) continue;
      const itemAt = sink.child(at, key);
      sink.member(itemAt, "item", item);
      if (list.ssa.type === "map" && isMap(item)) walkStruct(item, list.item, itemAt, sink, intermediate);
    }
    return;
  }
  sink.member(at, "leaf", v);
}

/** Signature of an intermediate node that exists (its contents are compared through its children). */
const EXISTS = "\u0000exists";

/** `path` + one element, paths being joined strings ("" is the root). */
const child = (path: string, el: string) => (path === "" ? el : path + SEP + el);

/** Records members into a map of joined path -> value signature ("" for list items). */
function signatures(out: Map<string, string>): MemberSink<string> {
  return {
    child,
    member: (at, kind, value) =>
      out.set(at, kind === "exists" ? EXISTS : kind === "item" ? "" : signature(value)),
  };
}

/**
 * Member paths with a value signature each ("" for list items). With
 * `intermediate` (what an Update records, as upstream's compare does) maps and
 * lists are members too, except the fields Go always serializes (non-pointer
 * structs declared in the schema, and lists without omitempty such as
 * PodSpec.containers), which exist even in an empty object.
 */
export function flatten(obj: JsonMap, schema: StructSchema, intermediate = false): Map<string, string> {
  const out = new Map<string, string>();
  walkStruct(obj, schema, "", signatures(out), intermediate);
  return out;
}

/**
 * A set of member paths as a tree of path elements (the shape FieldsV1 has):
 * what a diff produces, and an edit of a FieldsV1 tree applies. `member`
 * true: the path is in the set (in an edit: becomes a member); false (edits
 * only): stops being one.
 */
export interface PathTree {
  member?: boolean;
  children?: Map<string, PathTree>;
}

/** The child node of `t` at `el`, created when missing. */
function sub(t: PathTree, el: string): PathTree {
  t.children ??= new Map();
  let n = t.children.get(el);
  if (n === undefined) {
    n = {};
    t.children.set(el, n);
  }
  return n;
}

const MARK: MemberSink<PathTree> = {
  child: sub,
  member: (at) => {
    at.member = true;
  },
};

/** Mark `path` (joined, relative to `t`; "" is `t` itself) as a member. */
function markPath(t: PathTree, path: string): void {
  let n = t;
  for (const el of splitPath(path)) n = sub(n, el);
  n.member = true;
}

/** Whether the tree holds any member. */
export function hasMember(t: PathTree): boolean {
  if (t.member === true) return true;
  if (t.children !== undefined) for (const c of t.children.values()) if (hasMember(c)) return true;
  return false;
}

/** Every member path of `obj` as flatten(obj, schema, true) records them, as a tree. */
export function memberTree(obj: JsonMap, schema: StructSchema): PathTree {
  const t: PathTree = {};
  walkStruct(obj, schema, t, MARK, true);
  return t;
}

/** The member paths of a tree (joined), parents before children. */
export function treeToSet(t: PathTree): Set<string> {
  const out = new Set<string>();
  const walk = (n: PathTree, path: string) => {
    if (n.member === true) out.add(path);
    if (n.children !== undefined) for (const [el, c] of n.children) walk(c, child(path, el));
  };
  walk(t, "");
  return out;
}

/**
 * What `flatten(after, schema, true)` against `flatten(before, schema, true)`
 * would show, as trees: member paths whose signature changed or that are new
 * (`changed`), and paths that are gone (`removed`). Subtrees that are the same
 * object in both are skipped (writes share what they did not touch), so the
 * cost follows the size of the change rather than of the object.
 */
export function diffFields(
  before: JsonMap,
  after: JsonMap,
  schema: StructSchema,
): { changed: PathTree; removed: PathTree } {
  const changed: PathTree = {};
  const removed: PathTree = {};
  diffStruct(before, after, schema, changed, { node: removed, up: undefined, el: "" });
  return { changed, removed };
}

/** diffFields as sets of joined paths. */
export function diffFlat(
  before: JsonMap,
  after: JsonMap,
  schema: StructSchema,
): { changed: Set<string>; removed: Set<string> } {
  const d = diffFields(before, after, schema);
  return { changed: treeToSet(d.changed), removed: treeToSet(d.removed) };
}

/**
 * A node of the `removed` tree, made when something is marked below it: most
 * writes remove nothing, and owners' trees are edited with it (an empty chain
 * of nodes would still be walked for each).
 */
interface LazyNode {
  node: PathTree | undefined;
  readonly up: LazyNode | undefined;
  readonly el: string;
}

function nodeOf(l: LazyNode): PathTree {
  if (l.node === undefined) l.node = sub(nodeOf(l.up!), l.el);
  return l.node;
}

const lazyChild = (up: LazyNode, el: string): LazyNode => ({ node: undefined, up, el });

function diffStruct(
  b: JsonMap,
  a: JsonMap,
  schema: StructSchema | undefined,
  changed: PathTree,
  removed: LazyNode,
): void {
  for (const k in a) {
    const av = a[k];
    const bv = b[k];
    // (what the write shared with the stored version: nothing to look at, not even the element)
    if (av !== bv) diffValue(bv, av, schema?.[k], fieldKey(k), changed, removed);
  }
  for (const k in b) {
    if (a[k] !== undefined || b[k] === undefined) continue;
    walkValue(b[k], schema?.[k], sub(nodeOf(removed), fieldKey(k)), MARK, true);
  }
}

/** How walkValue treats a value: "map" and "list" recurse, "leaf" has a signature. */
function shapeOf(v: unknown, field: FieldSchema | undefined): "map" | "list" | "leaf" {
  if (isMap(v) && !field?.atomic && hasKeys(v)) return "map";
  if (Array.isArray(v) && field?.list !== undefined && field.list.ssa.type !== "atomic") return "list";
  return "leaf";
}

/** Diff the values `b` (before) and `a` (after) at element `el` below the given nodes. */
function diffValue(
  b: unknown,
  a: unknown,
  field: FieldSchema | undefined,
  el: string,
  changed: PathTree,
  removed: LazyNode,
): void {
  if (b === a || a === undefined) {
    if (a === undefined && b !== undefined) walkValue(b, field, sub(nodeOf(removed), el), MARK, true);
    return;
  }
  if (b === undefined) {
    walkValue(a, field, sub(changed, el), MARK, true);
    return;
  }
  const shape = shapeOf(a, field);
  if (shape === shapeOf(b, field)) {
    // leaves: equal JSON values have equal signatures (compared without rendering either)
    if (shape === "leaf") {
      if (!deepEqual(a, b)) sub(changed, el).member = true;
      return;
    }
    if (shape === "map") {
      diffStruct(b as JsonMap, a as JsonMap, field?.struct, sub(changed, el), lazyChild(removed, el));
      return;
    }
    if (diffList(b as unknown[], a as unknown[], field!, el, changed, removed)) return;
  }
  // the shape changed, or a list repeats a key: compare the member signatures in full
  const bm = new Map<string, string>();
  const am = new Map<string, string>();
  walkValue(b, field, "", signatures(bm), true);
  walkValue(a, field, "", signatures(am), true);
  for (const [p, v] of am) if (bm.get(p) !== v) markPath(sub(changed, el), p);
  for (const p of bm.keys()) if (!am.has(p)) markPath(sub(nodeOf(removed), el), p);
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
  el: string,
  changed: PathTree,
  removed: LazyNode,
): boolean {
  const list = field.list!;
  const bi = itemsByKey(b, list);
  const ai = itemsByKey(a, list);
  if (bi === undefined || ai === undefined) return false;
  const alwaysThere = field.struct !== undefined || field.retainKeys === true || list.zeroValue === true;
  if (!alwaysThere && b.length > 0 !== a.length > 0)
    sub(a.length > 0 ? changed : nodeOf(removed), el).member = true;
  const walkItems = list.ssa.type === "map";
  for (const [key, item] of ai) {
    const old = bi.get(key);
    if (old === undefined) {
      const n = sub(sub(changed, el), key);
      n.member = true;
      if (walkItems && isMap(item)) walkStruct(item, list.item, n, MARK, true);
    } else if (walkItems && old !== item) {
      diffStruct(
        isMap(old) ? old : {},
        isMap(item) ? item : {},
        list.item,
        sub(sub(changed, el), key),
        lazyChild(lazyChild(removed, el), key),
      );
    }
  }
  for (const [key, item] of bi) {
    if (ai.has(key)) continue;
    const n = sub(sub(nodeOf(removed), el), key);
    n.member = true;
    if (walkItems && isMap(item)) walkStruct(item, list.item, n, MARK, true);
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
  return renderTree(root);
}

function renderTree(node: TreeNode, root = true): JsonMap {
  if (node.children.size === 0) return root ? {} : LEAF;
  const out = fieldsNode(node.member);
  const keys = [...node.children.keys()];
  if (keys.length > 1) keys.sort(byElement);
  for (const k of keys) out[k] = renderTree(node.children.get(k)!, false);
  return out;
}

/** The node of a member without children, and the value of "." (shared: frozen). */
const LEAF: JsonMap = Object.freeze({});

/** A FieldsV1 node with children to come, "." first when it is a member. */
function fieldsNode(member: boolean): JsonMap {
  const n: JsonMap = {};
  if (member) n["."] = LEAF;
  return n;
}

/*
 * Every FieldsV1 tree the server stores is in the API server's order (children
 * sorted as setToFields sorts them): rendered here from a set or an object,
 * edited from such a tree, or a client's tree re-rendered on the way in
 * (managed.ts), as upstream decodes and re-encodes every managedFields entry.
 * So an edit may keep the untouched parts of a stored tree as they are.
 */

/** A repeated key in an associative list: the direct rendering gives up (flatten handles it). */
class RepeatedKey extends Error {}

/**
 * The FieldsV1 of every member `flatten(obj, schema, intermediate)` holds,
 * rendered straight from the object (no path strings, no set), children
 * sorted like setToFields. With `intermediate` (the default): what a create
 * records for its manager; without: the set an apply owns.
 */
export function fieldsOf(obj: JsonMap, schema: StructSchema, intermediate = true): FieldsV1 {
  // objects of one shape (every Event a controller records, the pods of one ReplicaSet, a manifest
  // applied again) have one FieldsV1: rendered once, frozen and shared
  let byShape = shapes.get(schema);
  if (byShape === undefined) {
    byShape = [new Map(), new Map()];
    shapes.set(schema, byShape);
  }
  const cache = byShape[intermediate ? 1 : 0];
  const key = structShape(obj, schema, intermediate);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const fields = renderFields(obj, schema, intermediate);
  freezeTree(fields);
  if (++shapeCount > 20_000) {
    shapes = new WeakMap();
    shapeCount = 0;
  } else cache.set(key, fields);
  return fields;
}

/** FieldsV1 trees fieldsOf rendered, by schema, mode (without / with intermediate) and shape. */
let shapes = new WeakMap<StructSchema, [Map<string, FieldsV1>, Map<string, FieldsV1>]>();
let shapeCount = 0;

/**
 * What fieldsOf's result depends on, as a string: the names of the members
 * (not their values), which values are maps or lists (not empty ones), the
 * key elements and count of associative-list items, and so on down; names and
 * keys length-prefixed so that two shapes never spell the same. A frozen
 * value's shape is taken once and remembered with it.
 */
function structShape(obj: JsonMap, schema: StructSchema | undefined, intermediate: boolean): string {
  let out = "";
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${k.length}:${k}${valueShape(v, schema?.[k], intermediate)}`;
  }
  return out;
}

const frozenShapes = new WeakMap<
  object,
  { field: FieldSchema | undefined; intermediate: boolean; shape: string }
>();

function valueShape(v: unknown, field: FieldSchema | undefined, intermediate: boolean): string {
  if (typeof v !== "object" || v === null) return ".";
  if (!Object.isFrozen(v)) return objectShape(v, field, intermediate);
  const hit = frozenShapes.get(v);
  if (hit !== undefined && hit.field === field && hit.intermediate === intermediate) return hit.shape;
  const shape = objectShape(v, field, intermediate);
  frozenShapes.set(v, { field, intermediate, shape });
  return shape;
}

function objectShape(v: object, field: FieldSchema | undefined, intermediate: boolean): string {
  if (isMap(v) && !field?.atomic && hasKeys(v)) return `{${structShape(v, field?.struct, intermediate)}}`;
  const list = field?.list;
  if (Array.isArray(v) && list !== undefined && list.ssa.type !== "atomic") {
    let out = `[${v.length}`;
    for (const item of v) {
      const key = itemKey(item, list);
      if (key === undefined) continue;
      out += `,${key.length}:${key}`;
      if (list.ssa.type === "map" && isMap(item)) out += `{${structShape(item, list.item, intermediate)}}`;
    }
    return `${out}]`;
  }
  return ".";
}

function renderFields(obj: JsonMap, schema: StructSchema, intermediate: boolean): FieldsV1 {
  try {
    const out = fieldsNode(false);
    structFields(obj, schema, out, intermediate);
    return out;
  } catch (e) {
    if (!(e instanceof RepeatedKey)) throw e;
    const out = setToFields(flatten(obj, schema, intermediate).keys());
    return out;
  }
}

/** Add the nodes of `obj`'s fields to `out`; whether there was any. */
function structFields(
  obj: JsonMap,
  schema: StructSchema | undefined,
  out: JsonMap,
  intermediate: boolean,
): boolean {
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  let any = false;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    const node = valueFields(v, schema?.[k], intermediate);
    if (node === undefined) continue;
    out[fieldKey(k)] = node;
    any = true;
  }
  return any;
}

/**
 * The nodes of frozen values (subtrees a writer took from a read, such as the
 * pod template a controller stamps every pod from) by value, for the schema
 * field and mode they were rendered for: each is rendered once. Only the
 * outermost frozen value of a walk is remembered; the nodes are frozen.
 */
const frozenNodes = new WeakMap<
  object,
  { field: FieldSchema | undefined; intermediate: boolean; node: JsonMap | undefined }
>();
let inFrozen = false;

/** The node of one value (as walkValue records it), or undefined when it has no member at all. */
function valueFields(v: unknown, field: FieldSchema | undefined, intermediate: boolean): JsonMap | undefined {
  if (inFrozen || typeof v !== "object" || v === null || !Object.isFrozen(v))
    return renderValue(v, field, intermediate);
  const hit = frozenNodes.get(v);
  if (hit !== undefined && hit.field === field && hit.intermediate === intermediate) return hit.node;
  inFrozen = true;
  try {
    const node = renderValue(v, field, intermediate);
    if (node !== undefined) freezeTree(node);
    frozenNodes.set(v, { field, intermediate, node });
    return node;
  } finally {
    inFrozen = false;
  }
}

function freezeTree(n: JsonMap): void {
  if (Object.isFrozen(n)) return;
  Object.freeze(n);
  for (const k in n) freezeTree(n[k] as JsonMap);
}

function renderValue(v: unknown, field: FieldSchema | undefined, intermediate: boolean): JsonMap | undefined {
  const alwaysThere =
    field?.struct !== undefined || field?.retainKeys === true || field?.list?.zeroValue === true;
  if (isMap(v) && !field?.atomic && hasKeys(v)) {
    const member = intermediate && !alwaysThere;
    const node = fieldsNode(member);
    if (structFields(v, field?.struct, node, intermediate)) return node;
    return member ? LEAF : undefined;
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
      let node = LEAF;
      if (list.ssa.type === "map" && isMap(item)) {
        const fields = fieldsNode(true);
        if (structFields(item, list.item, fields, intermediate)) node = fields;
      }
      items.push([key, node]);
    }
    const member = intermediate && !alwaysThere && v.length > 0;
    if (items.length === 0) return member ? LEAF : undefined;
    if (items.length > 1) items.sort((a, b) => byElement(a[0], b[0]));
    const node = fieldsNode(member);
    for (const [k, n] of items) node[k] = n;
    return node;
  }
  return LEAF;
}

/**
 * `base` with the member paths `adds` added and `dels` removed, copying only
 * the nodes on the edited paths (the rest is shared with `base`). Gives what
 * setToFields(parsed base - dels + adds) gives when `base` is in the server's order.
 */
export function editFields(base: FieldsV1, adds: Iterable<string>, dels: Iterable<string>): FieldsV1 {
  const root: PathTree = {};
  for (const p of dels) markEdit(root, p, false);
  for (const p of adds) markEdit(root, p, true);
  return finishEdit(applyEdit(base, root, true, undefined));
}

/**
 * `base` (in the server's order) with the members of `tree` added (`as` true)
 * or removed (false), like editFields; `base` itself when that changes nothing.
 */
export function editTree(base: FieldsV1, tree: PathTree, as: boolean): FieldsV1 {
  if (tree.member === undefined && (tree.children === undefined || tree.children.size === 0)) return base;
  const out = applyEdit(base, tree, true, as);
  return out === base ? base : finishEdit(out);
}

function finishEdit(edited: JsonMap | undefined): FieldsV1 {
  return edited ?? {};
}

function markEdit(root: PathTree, path: string, member: boolean): void {
  let e = root;
  for (const el of splitPath(path)) e = sub(e, el);
  e.member = member;
}

/**
 * Apply edit `e` to `node`: with `as` undefined, each edited node becomes a
 * member or stops being one as its `member` says; otherwise every member of
 * `e` becomes a member (as true) or stops being one (false). Returns `node`
 * itself when nothing changes, undefined when nothing is left.
 */
function applyEdit(
  node: JsonMap | undefined,
  e: PathTree,
  root: boolean,
  as: boolean | undefined,
): JsonMap | undefined {
  const was = !root && node !== undefined && (!hasKeys(node) || "." in node);
  const member = e.member === undefined ? was : (as ?? e.member);
  let changed = member !== was;
  let added = false;
  // the edited children first (a walk of the edit, not of the node: most edits change nothing)
  let edited: Map<string, JsonMap | undefined> | undefined;
  if (e.children !== undefined) {
    for (const [k, ce] of e.children) {
      const has = node !== undefined && k in node;
      // removals never add a node: only additions look at the elements `node` lacks
      if (!has && as === false) continue;
      const sub = has ? node[k] : undefined;
      const next = applyEdit(has && isMap(sub) ? sub : undefined, ce, false, as);
      if (has ? next === sub : next === undefined) continue;
      edited ??= new Map();
      edited.set(k, next);
      if (has) changed = true;
      else added = true;
    }
  }
  if (!changed && !added && node !== undefined) return node;
  const kids: Array<[string, unknown]> = [];
  if (node !== undefined) {
    for (const k in node) {
      if (k === ".") continue;
      if (edited?.has(k) !== true) kids.push([k, node[k]]);
      else {
        const next = edited.get(k);
        if (next !== undefined) kids.push([k, next]);
      }
    }
  }
  if (added) {
    for (const [k, next] of edited!)
      if (next !== undefined && !(node !== undefined && k in node)) kids.push([k, next]);
  }
  if (added && kids.length > 1) kids.sort((a, b) => byElement(a[0], b[0]));
  if (kids.length === 0) return member ? LEAF : undefined;
  const out = fieldsNode(member);
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
