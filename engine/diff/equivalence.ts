/**
 * Scalar equivalence for known int-or-string fields ("8080" vs 8080) and
 * resource quantities ("500m" vs 0.5, "1Gi" vs "1024Mi").
 */
const INT_OR_STRING = new Set([
  "targetPort",
  "port",
  "maxSurge",
  "maxUnavailable",
  "minAvailable",
  "containerPort",
]);
const QUANTITY_PARENTS = new Set(["limits", "requests", "capacity", "hard", "allocatable"]);

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a Kubernetes quantity, or undefined when it is not one. */
export function parseQuantity(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = /^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    v.trim(),
  );
  if (m === null) return undefined;
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2]);
  return base * SUFFIX[m[3] ?? ""]!;
}

/** Are two scalars at `path` (last key, parent key) equivalent for drift purposes? */
export function scalarsEquivalent(a: unknown, b: unknown, key: string, parentKey: string): boolean {
  if (a === b) return true;
  if (INT_OR_STRING.has(key) && (typeof a === "number" || typeof b === "number"))
    return String(a) === String(b);
  if (QUANTITY_PARENTS.has(parentKey)) {
    const x = parseQuantity(a);
    const y = parseQuantity(b);
    return x !== undefined && y !== undefined && Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x));
  }
  return false;
}
