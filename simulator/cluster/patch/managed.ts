/**
 * Field ownership (metadata.managedFields) with structured-merge-diff
 * semantics: server-side apply (ownership, conflicts, force, removal of fields
 * a manager stops applying) and the ownership an ordinary write takes.
 */
import type { KubeObject, KubeStatus, ManagedFieldsEntry } from "../../../engine/kube/types.ts";
import {
  diffFields,
  diffFlat,
  editFields,
  editTree,
  type FieldsV1,
  fieldsOf,
  fieldsToSet,
  hasMember,
  itemKey,
  memberTree,
  type PathTree,
  pathString,
  removePath,
  scopeOf,
  setToFields,
  splitPath,
  treeOwns,
  treeToSet,
} from "./fields.ts";
import { deepEqual } from "../objutil.ts";
import { isMap, type JsonMap } from "./json.ts";
import { type FieldSchema, schemaOf } from "./schema.ts";

export interface ApplyConflict {
  manager: string;
  /** Path as upstream prints it: `.spec.replicas`, `.spec.template.spec.containers[name="app"].image`. */
  field: string;
  operation?: "Apply" | "Update";
  apiVersion?: string;
  time?: string;
  subresource?: string;
}

export interface ApplyResult {
  object: KubeObject;
  conflicts: ApplyConflict[];
}

/**
 * Parsed FieldsV1 trees by identity. Stored objects are frozen and share their
 * managedFields entries from one version to the next, so a tree is parsed (or
 * was rendered from a set) once and read many times. Sets in here are never
 * changed: an Owner copies one before changing it.
 */
const parsedTrees = new WeakMap<object, ReadonlySet<string>>();

function parsedSet(fields: unknown): ReadonlySet<string> {
  if (!isMap(fields)) return new Set();
  let set = parsedTrees.get(fields);
  if (set === undefined) {
    set = fieldsToSet(fields);
    parsedTrees.set(fields, set);
  }
  return set;
}

/**
 * One managedFields entry. Its FieldsV1 is parsed only when a question needs
 * the whole set; changes are kept as additions and removals and applied to
 * the tree (copying only the edited paths) when the entry is written out.
 * Whole trees of changes (edit()) go straight into the tree.
 */
class Owner {
  /** The whole set, after replace() (server-side apply). */
  private replaced: Set<string> | undefined;
  private adds: Set<string> | undefined;
  private dels: Set<string> | undefined;
  /** The FieldsV1 after edit(), when that changed it. */
  private tree: FieldsV1 | undefined;

  constructor(public entry: ManagedFieldsEntry) {}

  /** The FieldsV1 the additions and removals apply to. */
  private get fields(): unknown {
    return this.tree ?? this.entry.fieldsV1;
  }

  /** The member paths (read only). */
  get set(): ReadonlySet<string> {
    if (this.replaced !== undefined) return this.replaced;
    const base = parsedSet(this.fields);
    if (this.adds === undefined && this.dels === undefined) return base;
    const out = new Set(base);
    for (const p of this.dels ?? []) out.delete(p);
    for (const p of this.adds ?? []) out.add(p);
    return out;
  }

  private baseHas(p: string): boolean {
    const f = this.fields;
    const known = isMap(f) ? parsedTrees.get(f) : undefined;
    return known === undefined ? treeOwns(f, p) : known.has(p);
  }

  has(p: string): boolean {
    if (this.replaced !== undefined) return this.replaced.has(p);
    if (this.adds?.has(p)) return true;
    if (this.dels?.has(p)) return false;
    return this.baseHas(p);
  }

  delete(p: string): void {
    if (this.replaced !== undefined) this.replaced.delete(p);
    else if (this.adds?.delete(p)) return;
    else if (this.baseHas(p)) {
      this.dels ??= new Set();
      this.dels.add(p);
    }
  }

  add(p: string): void {
    if (this.replaced !== undefined) this.replaced.add(p);
    else if (this.dels?.delete(p)) return;
    else if (!this.baseHas(p)) {
      this.adds ??= new Set();
      this.adds.add(p);
    }
  }

  /** Add (`as` true) or remove every member of `t`. */
  edit(t: PathTree, as: boolean): void {
    const f = this.fields;
    if (this.replaced === undefined && !this.edited && isMap(f)) {
      const next = editTree(f, t, as);
      if (next !== f) this.tree = next;
      return;
    }
    for (const p of treeToSet(t)) {
      if (as) this.add(p);
      else this.delete(p);
    }
  }

  replace(set: Set<string>): void {
    this.replaced = set;
    this.adds = undefined;
    this.dels = undefined;
    this.tree = undefined;
  }

  private get edited(): boolean {
    return (this.adds?.size ?? 0) > 0 || (this.dels?.size ?? 0) > 0;
  }

  /** Whether it owns nothing (as it stands, before toEntry). */
  isEmpty(): boolean {
    if (this.replaced !== undefined) return this.replaced.size === 0;
    const f = this.fields;
    if (!this.edited) return !isMap(f) || !hasKeys(f);
    return parsedSet(f).size - (this.dels?.size ?? 0) + (this.adds?.size ?? 0) === 0;
  }

  toEntry(): ManagedFieldsEntry {
    let fieldsV1: FieldsV1;
    const f = this.fields;
    if (this.replaced !== undefined) {
      fieldsV1 = setToFields(this.replaced);
      parsedTrees.set(fieldsV1, this.replaced);
    } else if (!this.edited) {
      if (this.tree === undefined) return this.entry;
      fieldsV1 = this.tree;
    } else if (isMap(f) || f === undefined)
      fieldsV1 = editFields(f as FieldsV1, this.adds ?? [], this.dels ?? []);
    else fieldsV1 = setToFields(this.set);
    return { ...this.entry, fieldsType: "FieldsV1", fieldsV1 };
  }
}

const hasKeys = (m: object): boolean => {
  for (const _ in m) return true;
  return false;
};

const sameOwner = (e: ManagedFieldsEntry, manager: string, op: string, sub: string | undefined) =>
  e.manager === manager && e.operation === op && (e.subresource ?? undefined) === sub;

/**
 * The owners of `obj`'s managedFields. `fromClient`: entries a client sent
 * (not the stored ones), whose trees are re-rendered in the server's order.
 */
function owners(obj: KubeObject | undefined, fromClient = false): Owner[] {
  const out: Owner[] = [];
  const entries = obj?.metadata.managedFields;
  if (entries === undefined) return out;
  for (const entry of entries) {
    if (!isMap(entry) || typeof entry.manager !== "string") continue;
    out.push(
      fromClient && isMap(entry.fieldsV1)
        ? new Owner({ ...entry, fieldsV1: setToFields(fieldsToSet(entry.fieldsV1)) })
        : new Owner(entry),
    );
  }
  return out;
}

/**
 * The entries of owners that still own something (an edited tree is checked
 * once it is written out): `original` itself when they are its entries as
 * they were (a write that left every entry alone shares the stored list).
 */
function entriesOf(list: Owner[], original?: readonly ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  let same = original !== undefined && original.length === list.length;
  for (const o of list) {
    const e = o.toEntry();
    if (e !== o.entry ? isMap(e.fieldsV1) && hasKeys(e.fieldsV1) : !o.isEmpty()) {
      if (same && e !== original![out.length]) same = false;
      out.push(e);
    } else same = false;
  }
  return same ? (original as ManagedFieldsEntry[]) : out;
}

/** Whether a member of some map in `v` is null or undefined (an applied configuration's unset field). */
function hasNull(v: unknown): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (hasNull(x)) return true;
    return false;
  }
  if (!isMap(v)) return false;
  for (const k in v) {
    const x = v[k];
    if (x === null || x === undefined || hasNull(x)) return true;
  }
  return false;
}

/**
 * Drop nulls from an applied configuration (an unset field is not applied):
 * `v` itself when it has none (the server owns the applied object), else a copy.
 */
function withoutNulls(v: unknown): unknown {
  return hasNull(v) ? copyWithoutNulls(v) : v;
}

function copyWithoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyWithoutNulls);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = copyWithoutNulls(x);
  return out;
}

/**
 * Merge an applied configuration into a live value: maps and associative
 * lists merge, the rest replaces. The applied values are taken over as they
 * are (the applied object is the server's own, and used for nothing else),
 * except where they equal the live ones: there the live value itself is kept,
 * and a map or list the apply leaves as it was is the live one (re-applying
 * the same manifest shares the stored object's subtrees, so comparing,
 * diffing and freezing the result costs what the change costs).
 */
function mergeApplied(live: unknown, applied: unknown, field: FieldSchema | undefined): unknown {
  if (isMap(live) && isMap(applied) && !field?.atomic) {
    const out: JsonMap = { ...live };
    const struct = field?.struct;
    let same = true;
    for (const k in applied) {
      const was = live[k];
      const v = mergeApplied(was, applied[k], struct?.[k]);
      out[k] = v;
      if (v !== was) same = false;
    }
    return same ? live : out;
  }
  const list = field?.list;
  if (Array.isArray(live) && Array.isArray(applied) && list !== undefined && list.ssa.type !== "atomic") {
    const out = [...live];
    const itemField: FieldSchema | undefined = list.item ? { struct: list.item } : undefined;
    let same = true;
    for (const item of applied) {
      const key = itemKey(item, list);
      const i = key === undefined ? -1 : out.findIndex((x) => itemKey(x, list) === key);
      if (i >= 0) {
        const v = mergeApplied(out[i], item, itemField);
        if (v !== out[i]) same = false;
        out[i] = v;
      } else {
        out.push(item);
        same = false;
      }
    }
    return same ? live : out;
  }
  return live !== undefined && deepEqual(live, applied) ? live : applied;
}

/** Whether one of `others` owns `p`. */
function ownedByAny(others: readonly Owner[], p: string): boolean {
  for (const o of others) if (o.has(p)) return true;
  return false;
}

/**
 * Server-side apply of `applied` by `manager` onto `live` (undefined: create).
 * With conflicts and no force, `object` is `live` unchanged and the caller
 * answers 409 (see applyConflictStatus).
 */
export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  opts: { manager: string; force: boolean; time: string },
): ApplyResult {
  const schema = schemaOf(applied.apiVersion, applied.kind);
  const cleanApplied = withoutNulls(applied) as KubeObject;
  const appliedScope = scopeOf(cleanApplied, undefined);
  // the applied set rendered straight from the object; re-applying the same set keeps the stored
  // tree (and its parsed set) as it is
  let fieldsV1 = fieldsOf(appliedScope, schema, false);
  const myEntry: ManagedFieldsEntry = {
    manager: opts.manager,
    operation: "Apply",
    apiVersion: applied.apiVersion,
    time: opts.time,
    fieldsType: "FieldsV1",
    fieldsV1,
  };

  if (live === undefined) {
    // (cleanApplied is a copy of its own: withoutNulls rebuilt every map and list)
    const object = cleanApplied;
    if (object.status !== undefined) delete object.status;
    object.metadata.managedFields = entriesOf([new Owner(myEntry)]);
    return { object, conflicts: [] };
  }

  const all = owners(live);
  const mine = all.find((o) => sameOwner(o.entry, opts.manager, "Apply", undefined));
  if (mine !== undefined && isMap(mine.entry.fieldsV1) && deepEqual(mine.entry.fieldsV1, fieldsV1)) {
    fieldsV1 = mine.entry.fieldsV1;
    myEntry.fieldsV1 = fieldsV1;
  }
  const newSet = parsedSet(fieldsV1);
  const others = all.filter((o) => o !== mine);

  // Fields this manager applied before and applies no more are removed, unless someone else owns them.
  // (live is shared and frozen: copy it in full only when something must be removed in place;
  // the merge below copies what it changes and shares the rest)
  const dropped: string[] = [];
  if (mine !== undefined)
    for (const p of mine.set) if (!newSet.has(p) && !ownedByAny(others, p)) dropped.push(p);
  const merged: JsonMap = dropped.length > 0 ? (structuredClone(live) as JsonMap) : { ...live };
  for (const p of dropped) removePath(merged, p, schema, (q) => newSet.has(q) || ownedByAny(others, q));
  const { metadata: appliedMeta, ...appliedBody } = appliedScope;
  for (const k in appliedBody) merged[k] = mergeApplied(merged[k], appliedBody[k], schema[k]);
  if (isMap(appliedMeta)) {
    merged.metadata = mergeApplied(merged.metadata, appliedMeta, schema.metadata) as JsonMap;
  }

  // An apply that leaves the object as it is changes no field (no conflicts) and, as upstream
  // (kubernetes#88875), does not stamp its manager's time: applying the same object again is a no-op.
  // (merged still carries live's managedFields here)
  const unchanged = deepEqual(merged, live);
  if (unchanged && mine !== undefined) myEntry.time = mine.entry.time;
  const conflicts: ApplyConflict[] = [];
  const conflicting = new Set<string>();
  // conflicts are applied fields another manager owns whose value the apply changes: the diff
  // (diffFlat skips the subtrees merged shares with live) is needed only when there are such fields
  const contested: string[] = [];
  if (!unchanged) for (const p of newSet) if (ownedByAny(others, p)) contested.push(p);
  if (contested.length > 0) {
    const { changed } = diffFlat(scopeOf(live, undefined), scopeOf(merged, undefined), schema);
    for (const p of contested) {
      if (!changed.has(p)) continue;
      for (const o of others) {
        if (!o.has(p)) continue;
        conflicting.add(p);
        const c: ApplyConflict = {
          manager: o.entry.manager,
          field: pathString(p),
          operation: o.entry.operation,
        };
        if (o.entry.apiVersion) c.apiVersion = o.entry.apiVersion;
        if (o.entry.time) c.time = o.entry.time;
        if (o.entry.subresource) c.subresource = o.entry.subresource;
        conflicts.push(c);
      }
    }
  }
  conflicts.sort((a, b) => cmp(a.manager, b.manager) || cmp(a.field, b.field));
  if (conflicts.length > 0 && !opts.force) return { object: live, conflicts };

  for (const o of others) for (const p of conflicting) o.delete(p);
  // (the same entry again when nothing about it changed: the managedFields compare equal to live's)
  const same =
    mine !== undefined &&
    mine.entry.fieldsV1 === myEntry.fieldsV1 &&
    mine.entry.time === myEntry.time &&
    mine.entry.apiVersion === myEntry.apiVersion &&
    mine.entry.fieldsType === "FieldsV1";
  const mineOwner = same ? mine : new Owner(myEntry);
  const list = mine === undefined ? [...all, mineOwner] : all.map((o) => (o === mine ? mineOwner : o));
  const object = merged as KubeObject;
  object.metadata = { ...object.metadata, managedFields: entriesOf(list, live.metadata.managedFields) };
  return { object, conflicts };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A new Update entry of `opts.manager` owning `fieldsV1`. */
function updateEntry(
  after: KubeObject,
  opts: { manager: string; time: string; subresource?: string },
  fieldsV1: FieldsV1,
): ManagedFieldsEntry {
  const entry: ManagedFieldsEntry = {
    manager: opts.manager,
    operation: "Update",
    apiVersion: after.apiVersion,
    time: opts.time,
    fieldsType: "FieldsV1",
    fieldsV1,
  };
  if (opts.subresource !== undefined) entry.subresource = opts.subresource;
  return entry;
}

/**
 * The managedFields after a non-apply write (create, PUT, patch) by `manager`:
 * what changed becomes that manager's (its Update entry), and leaves the other
 * managers' sets; removed fields leave every set. No conflicts.
 */
export function recordUpdate(
  before: KubeObject | undefined,
  after: KubeObject,
  opts: { manager: string; time: string; operation: "Update"; subresource?: string },
): ManagedFieldsEntry[] {
  const schema = schemaOf(after.apiVersion, after.kind);
  const sub = opts.subresource === "scale" ? undefined : opts.subresource;
  const clientSent = after.metadata.managedFields;
  const base = clientSent !== undefined && clientSent !== before?.metadata.managedFields ? after : before;
  const all = owners(base, base === after);
  if (before === undefined && all.length === 0) {
    // a create: everything is this manager's, rendered straight from the object
    const fieldsV1 = fieldsOf(scopeOf(after, sub), schema);
    return hasKeys(fieldsV1) ? [updateEntry(after, opts, fieldsV1)] : [];
  }
  const { changed, removed } =
    before === undefined
      ? { changed: memberTree(scopeOf(after, sub), schema), removed: {} }
      : diffFields(scopeOf(before, sub), scopeOf(after, sub), schema);

  let mine = all.find((o) => sameOwner(o.entry, opts.manager, "Update", opts.subresource));
  for (const o of all) {
    o.edit(removed, false);
    if (o !== mine) o.edit(changed, false);
  }
  if (hasMember(changed)) {
    if (mine === undefined) {
      mine = new Owner(updateEntry(after, opts, {}));
      all.push(mine);
    } else if (mine.entry.time !== opts.time || mine.entry.apiVersion !== after.apiVersion) {
      mine.entry = { ...mine.entry, time: opts.time, apiVersion: after.apiVersion };
    }
    mine.edit(changed, true);
  }
  return entriesOf(all, base === before ? before?.metadata.managedFields : undefined);
}

/** Member paths owned by a FieldsV1 set, as path elements ("." folded into its parent). */
export function fieldsV1Paths(fieldsV1: unknown): string[][] {
  return [...fieldsToSet(fieldsV1)].sort().map(splitPath);
}

/** Union of what `manager` owns on the main resource (all its operations), or undefined. */
export function ownedFieldsOf(obj: KubeObject, manager: string): FieldsV1 | undefined {
  const mine = owners(obj).filter(
    (o) => o.entry.manager === manager && (o.entry.subresource === undefined || o.entry.subresource === ""),
  );
  if (mine.length === 0) return undefined;
  const set = new Set<string>();
  for (const o of mine) for (const p of o.set) set.add(p);
  return setToFields(set);
}

function printManager(c: ApplyConflict): string {
  let s = JSON.stringify(c.manager);
  if (c.subresource) s += ` with subresource ${JSON.stringify(c.subresource)}`;
  if (c.operation === "Update" && c.apiVersion) {
    s += ` using ${c.apiVersion}`;
    if (c.time) s += ` at ${c.time}`;
  }
  return s;
}

/** The 409 Status a real API server answers an apply with conflicts with. */
export function applyConflictStatus(conflicts: readonly ApplyConflict[]): KubeStatus {
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c)}: ${c.field}`;
  } else {
    const byManager = new Map<string, ApplyConflict[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      const cs = byManager.get(m)!;
      lines.push(`conflicts with ${printManager(cs[0]!)}:`);
      for (const c of cs) lines.push(`- ${c.field}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Conflict",
    details: {
      causes: conflicts.map((c) => ({
        type: "FieldManagerConflict",
        message: `conflict with ${printManager(c)}`,
        field: c.field,
      })),
    },
    code: 409,
  };
}
