/**
 * Pure helpers of the canary: the pod-template hash, replica counts for a
 * weight, and the weight a replica split gives.
 */

const SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/**
 * Pod-template hash as upstream computes it in shape: FNV-32a over the pod
 * template (plus collisionCount), printed in decimal, encoded with
 * k8s.io/apimachinery rand.SafeEncodeString. The bytes hashed are a canonical
 * JSON of the template (upstream hashes a Go struct dump), so hashes look like
 * upstream's (e.g. "6c9b8b4d9f") but do not equal them.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let h = 0x811c9dc5;
  const text = canonical(template) + (collisionCount === undefined ? "" : `#${collisionCount}`);
  const bytes = Buffer.from(text, "utf8");
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join("");
}

/**
 * Without traffic routing the weight is approximated by replica counts
 * (upstream approximateWeightedCanaryStableReplicaCounts): the split of
 * `replicas` (or `replicas + 1`) whose canary share is closest to `weight`,
 * keeping at least one pod of each side while 0 < weight < 100.
 */
export function canaryStableReplicas(replicas: number, weight: number): { canary: number; stable: number } {
  if (replicas <= 0) return { canary: 0, stable: 0 };
  if (weight <= 0) return { canary: 0, stable: replicas };
  if (weight >= 100) return { canary: replicas, stable: 0 };
  let best: { canary: number; stable: number; diff: number } | undefined;
  for (const total of [replicas, replicas + 1]) {
    const exact = (total * weight) / 100;
    for (const canary of [Math.ceil(exact), Math.floor(exact)]) {
      const stable = total - canary;
      if (canary < 1 || stable < 1) continue;
      const diff = Math.abs((canary / total) * 100 - weight);
      if (best === undefined || diff < best.diff - 1e-9) best = { canary, stable, diff };
    }
  }
  return best === undefined ? { canary: 1, stable: replicas } : { canary: best.canary, stable: best.stable };
}

/** With traffic routing the canary is scaled to match the weight (ceil), stable stays full. */
export function canaryReplicasForWeight(replicas: number, weight: number): number {
  return Math.min(replicas, Math.ceil((replicas * weight) / 100));
}

/** The share (0-100) of pods a canary has, as a Service without traffic routing would split requests. */
export function replicaWeight(canaryAvailable: number, stableAvailable: number): number {
  const total = canaryAvailable + stableAvailable;
  return total === 0 ? 0 : Math.round((canaryAvailable / total) * 10000) / 100;
}
