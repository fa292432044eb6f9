/** Helpers shared by the built-in controllers: owners, conditions, status patches, intOrString. */
import { rfc3339 } from "../../../engine/core/clock.ts";
import type { KubeObject, OwnerReference } from "../../../engine/kube/types.ts";
import { deepEqual } from "../objutil.ts";
import { isMap } from "../patch/json.ts";

export type Json = Record<string, unknown>;

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
}

/** The last RFC 3339 stamp formatted: controllers stamp many conditions in one instant. */
const lastStamp = { ms: Number.NaN, text: "" };

/** rfc3339(ms), formatted once per distinct millisecond in a row. */
export function stamp(ms: number): string {
  if (ms !== lastStamp.ms) {
    lastStamp.ms = ms;
    lastStamp.text = rfc3339(ms);
  }
  return lastStamp.text;
}

export const specOf = (o: KubeObject): Json => (isMap(o.spec) ? o.spec : {});
export const statusOf = (o: KubeObject): Json => (isMap(o.status) ? o.status : {});
export const num = (v: unknown, dflt: number): number =>
  typeof v === "number" && Number.isFinite(v) ? v : dflt;

/** The uid of the object's controller (ownerReference with controller: true). */
export function controllerUid(o: KubeObject): string[] {
  const ref = o.metadata.ownerReferences?.find((r) => r.controller === true);
  return ref === undefined ? [] : [ref.uid];
}

export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function getCondition(status: Json, type: string): Condition | undefined {
  const cs = status.conditions;
  if (!Array.isArray(cs)) return undefined;
  return cs.find((c): c is Condition => isMap(c) && c.type === type);
}

/**
 * Set a condition keeping lastTransitionTime when the status does not change
 * (upstream SetCondition); `alwaysUpdate` refreshes lastUpdateTime even when
 * status and reason are unchanged (the Deployment Progressing special case).
 */
export function setCondition(
  conditions: Condition[],
  c: Condition,
  nowMs: number,
  opts: { updateTime?: boolean; alwaysUpdate?: boolean } = {},
): Condition[] {
  const cur = conditions.find((x) => x.type === c.type);
  if (cur !== undefined && cur.status === c.status && cur.reason === c.reason && !opts.alwaysUpdate) {
    return conditions;
  }
  const now = stamp(nowMs);
  // the new condition built once, members in upstream's order (no copy of `c` to add to)
  const next: Condition = { type: c.type, status: c.status };
  if (c.lastProbeTime !== undefined) next.lastProbeTime = c.lastProbeTime;
  const updated = opts.updateTime ? now : c.lastUpdateTime;
  if (updated !== undefined) next.lastUpdateTime = updated;
  next.lastTransitionTime =
    cur !== undefined && cur.status === c.status ? (cur.lastTransitionTime ?? now) : now;
  if (c.reason !== undefined) next.reason = c.reason;
  if (c.message !== undefined) next.message = c.message;
  const out: Condition[] = [];
  for (const x of conditions) if (x.type !== c.type) out.push(x);
  out.push(next);
  return out;
}

/** Equal as JSON text would be (keys in any order; an absent member and null are both "null"). */
function sameJson(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null) || deepEqual(a, b);
}

/** A JSON merge patch turning status `old` into `next` (top-level keys; removed keys become null). */
export function statusPatch(old: Json, next: Json): Json | undefined {
  const patch: Json = {};
  let changed = false;
  for (const [k, v] of Object.entries(next)) {
    if (!sameJson(old[k], v)) {
      patch[k] = v;
      changed = true;
    }
  }
  for (const k of Object.keys(old)) {
    if (!(k in next)) {
      patch[k] = null;
      changed = true;
    }
  }
  return changed ? { status: patch } : undefined;
}

/** Drop zero counters, as Go's omitempty does on status structs. */
export function omitZero(o: Json, keep: readonly string[] = []): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || ((v === 0 || v === "") && !keep.includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/** Upstream GetScaledValueFromIntOrPercent. */
export function scaledValue(v: unknown, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === "number") return x;
  const m = /^(\d+)%$/.exec(String(x));
  if (m === null) {
    const n = Number(x);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid value "${String(x)}"`);
  }
  const pct = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(pct) : Math.floor(pct);
}

export const isDeleting = (o: KubeObject) => o.metadata.deletionTimestamp !== undefined;
