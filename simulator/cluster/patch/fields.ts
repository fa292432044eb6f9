/**
 * Field sets in structured-merge-diff terms. A path is a list of path
 * elements as FieldsV1 spells them: `f:<field>`, `k:{"name":"app"}` (an item
 * of an associative list, key fields sorted), `v:<json>` (an item of a set),
 * `i:<n>` (unused: other lists are atomic). A set holds member paths: leaves
 * (scalars, atomic lists/maps, empty maps) and list items (FieldsV1's ".").
 */
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
  if (isMap(v) && !field?.atomic && Object.keys(v).length > 0) {
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
  out.set(path, typeof v === "string" ? JSON.stringify(v) : stableStringify(v));
}

/** Whether a FieldsV1 tree has `path` as a member, without parsing the whole tree. */
export function treeOwns(fields: unknown, path: string): boolean {
  let node = fields;
  for (const el of splitPath(path)) {
    if (!isMap(node)) return false;
    node = node[el];
  }
  return isMap(node) && (Object.keys(node).length === 0 || "." in node);
}

/** FieldsV1 -> member paths (joined). */
export function fieldsToSet(fields: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: string) => {
    if (!isMap(node)) return;
    for (const k in node) {
      if (k === ".") {
        out.add(path);
        continue;
      }
      const p = child(path, k);
      const sub = node[k];
      if (isMap(sub) && Object.keys(sub).length > 0) walk(sub, p);
      else out.add(p);
    }
  };
  walk(fields, "");
  return out;
}

interface TreeNode {
  member: boolean;
  children: Map<string, TreeNode>;
}

const ORDER: Record<string, number> = { f: 1, k: 2, v: 3, i: 4 };
const rank = (k: string) => ORDER[k.slice(0, 1)] ?? 5;
const byElement = (a: string, b: string) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);

/** Member paths -> FieldsV1, children sorted the way the API server prints them. */
export function setToFields(set: Iterable<string>): FieldsV1 {
  const root: TreeNode = { member: false, children: new Map() };
  for (const path of set) {
    let node = root;
    for (const el of splitPath(path)) {
      let next = node.children.get(el);
      if (next === undefined) {
        next = { member: false, children: new Map() };
        node.children.set(el, next);
      }
      node = next;
    }
    node.member = true;
  }
  const render = (node: TreeNode): JsonMap => {
    const out: JsonMap = {};
    if (node.member && node.children.size > 0) out["."] = {};
    for (const k of [...node.children.keys()].sort(byElement)) out[k] = render(node.children.get(k)!);
    return out;
  };
  return render(root);
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
