/** Narrowing accessors over untyped Kubernetes JSON (no `any`). */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Value at a dotted path of keys, or undefined when any step is missing. */
export function at(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function num(obj: unknown, ...path: string[]): number | undefined {
  const v = at(obj, ...path);
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function str(obj: unknown, ...path: string[]): string | undefined {
  const v = at(obj, ...path);
  return typeof v === "string" ? v : undefined;
}

export function arr(obj: unknown, ...path: string[]): unknown[] {
  const v = at(obj, ...path);
  return Array.isArray(v) ? v : [];
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** status.conditions as typed records (missing fields become ""). */
export function conditions(obj: unknown): Condition[] {
  return arr(obj, "status", "conditions")
    .filter(isObject)
    .map((c) => ({
      type: str(c, "type") ?? "",
      status: str(c, "status") ?? "",
      reason: str(c, "reason") ?? "",
      message: str(c, "message") ?? "",
    }));
}

export function condition(obj: unknown, type: string): Condition | undefined {
  return conditions(obj).find((c) => c.type === type);
}
