/**
 * normalize: the comparable form of an object (both desired and live go
 * through it). Drops status and server-populated metadata, noise annotations,
 * null values, applies ignoreDifferences and folds Secret stringData into data.
 */
import { Buffer } from "node:buffer";
import { type KubeObject, TRACKING_ID_ANNOTATION } from "../kube/types.ts";
import { type FieldSet, isRemoved, ownedFields, pruneOwned } from "./fieldset.ts";
import { applyIgnorePaths, type IgnoreDifference, ignoredManagers } from "./ignore.ts";
import { isObject } from "./json.ts";

export const TRACKING_ANNOTATION = TRACKING_ID_ANNOTATION;
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

const SERVER_METADATA = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "managedFields",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
] as const;

const NOISE_ANNOTATIONS = [LAST_APPLIED_ANNOTATION, TRACKING_ANNOTATION];

export interface NormalizeOptions {
  ignoreDifferences?: readonly IgnoreDifference[];
  /**
   * Object whose metadata.managedFields decide what managedFieldsManagers own
   * (defaults to the object itself; pass the live object when normalizing desired).
   */
  managedFieldsFrom?: KubeObject;
  /** Keep the tracking annotation (default false: the engine adds it, it is not drift). */
  keepTrackingAnnotation?: boolean;
}

/** A deep copy of `v` without null / undefined members. */
function copyWithoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyWithoutNulls);
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = copyWithoutNulls(x);
    return out;
  }
  return v;
}

function foldStringData(obj: KubeObject): void {
  if (obj.kind !== "Secret" || obj.apiVersion !== "v1" || !isObject(obj.stringData)) return;
  const data: Record<string, unknown> = isObject(obj.data) ? obj.data : {};
  for (const [k, v] of Object.entries(obj.stringData)) {
    if (typeof v === "string") data[k] = Buffer.from(v, "utf8").toString("base64");
  }
  obj.data = data;
  delete obj.stringData;
}

/** Remove from `obj` (in place) the fields `fs` describes (managedFieldsManagers). */
export function removeFields(obj: KubeObject, fs: FieldSet): void {
  for (const key of Object.keys(obj)) {
    if (key === "apiVersion" || key === "kind") continue;
    const child = fs[`f:${key}`];
    if (!isObject(child)) continue;
    const r = pruneOwned(obj[key], child);
    if (isRemoved(r)) delete obj[key];
    else obj[key] = r;
  }
  if (!isObject(obj.metadata)) obj.metadata = {};
}

/** A normalized deep copy of `obj`. */
export function normalize(obj: KubeObject, opts: NormalizeOptions = {}): KubeObject {
  // Drop status and server metadata before copying: managedFields are often the bulk of an object.
  const { status: _status, metadata, ...rest } = obj;
  const meta: Record<string, unknown> = { ...(isObject(metadata) ? metadata : {}) };
  for (const k of SERVER_METADATA) delete meta[k];
  const out = copyWithoutNulls({ ...rest, metadata: meta }) as KubeObject;
  const md = out.metadata;
  if (md.annotations !== undefined) {
    for (const a of NOISE_ANNOTATIONS) {
      if (a === TRACKING_ANNOTATION && opts.keepTrackingAnnotation === true) continue;
      delete md.annotations[a];
    }
    if (Object.keys(md.annotations).length === 0) delete md.annotations;
  }
  if (md.labels !== undefined && Object.keys(md.labels).length === 0) delete md.labels;
  foldStringData(out);
  const rules = opts.ignoreDifferences ?? [];
  if (rules.length > 0) {
    const source = opts.managedFieldsFrom ?? obj;
    const managers = ignoredManagers(source, rules);
    const fs = managers.length > 0 ? ownedFields(source, managers) : undefined;
    if (fs !== undefined) removeFields(out, fs);
    applyIgnorePaths(out, rules);
  }
  return out;
}
