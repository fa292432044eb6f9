/**
 * Pure helpers of the canary: the pod-template hash, replica counts for a
 * weight, and the weight a replica split gives.
 */

import { stableStringify } from "../kube/json.ts";

const SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/**
 * Pod-template hash as upstream computes it in shape: FNV-32a over the pod
 * template (plus collisionCount), printed in decimal, encoded with
 * k8s.io/apimachinery rand.SafeEncodeString. The bytes hashed are a canonical
 * JSON of the template (upstream hashes a Go struct dump), so hashes look like
 * upstream's (e.g. "6c9b8b4d9f") but do not equal them.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let h = 0x811c9dc5;
  const text = stableStringify(template) + (collisionCount === undefined ? "" : `#${collisionCount}`);
  const bytes = Buffer.from(text, "utf8");
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join("");
}

/**
 * Without traffic routing the weight is approximated by replica counts, as
 * upstream's approximateWeightedCanaryStableReplicaCounts: candidates are the
 * ceil and floor of replicas x weight over `replicas` pods and, when surge is
 * allowed, over `replicas + 1`; the closest share wins (first wins ties); a
 * weight of 1-99 keeps at least one canary pod. 41% of 10 -> 4 canary, 6 stable;
 * 5% of 10 -> 1 canary, 10 stable (surging by one).
 */
export function canaryStableReplicas(
  replicas: number,
  weight: number,
  surge = true,
): { canary: number; stable: number } {
  if (replicas <= 0) return { canary: 0, stable: 0 };
  const ceil = Math.ceil((replicas * weight) / 100);
  const floor = Math.floor((replicas * weight) / 100);
  const tied = (total: number) => {
    const exact = (total * weight) / 100;
    return Math.abs(exact - Math.floor(exact) - 0.5) < 1e-9;
  };
  const zeroAllowed = weight === 0 || replicas === 1;
  const options: Array<[number, number]> = [];
  if (ceil < replicas || zeroAllowed) options.push([ceil, replicas]);
  if (!tied(replicas) && (floor !== 0 || zeroAllowed)) options.push([floor, replicas]);
  if (surge) {
    options.push([ceil, replicas + 1]);
    if (!tied(replicas + 1) && (floor !== 0 || zeroAllowed)) options.push([floor, replicas + 1]);
  }
  if (options.length === 0) return { canary: replicas, stable: 0 };
  let best = options[0]!;
  const delta = (o: [number, number]) => Math.abs((o[0] / o[1]) * 100 - weight);
  for (const o of options.slice(1)) if (delta(o) < delta(best)) best = o;
  return { canary: best[0], stable: best[1] - best[0] };
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
