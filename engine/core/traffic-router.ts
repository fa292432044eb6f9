/**
 * The TrafficRouter port: how the rollout controller moves traffic between
 * the stable and the canary version of a service. The simulator's traffic
 * model implements it (simulator/traffic/); a real deployment would plug in
 * a service mesh or ingress adapter.
 */
export interface TrafficTarget {
  namespace: string;
  /** The service (Rollout) name. */
  service: string;
}

export interface TrafficWeights {
  stableHash: string;
  canaryHash: string | undefined;
  /** Percentage of requests sent to the canary, 0-100. */
  canaryWeight: number;
}

export interface TrafficRouter {
  /** Route `weight`% of the target's requests to `canaryHash`, the rest to `stableHash`. */
  setWeight(target: TrafficTarget, canaryHash: string | undefined, stableHash: string, weight: number): void;
  /** Current routing for a target, or undefined when never set. */
  getWeights(target: TrafficTarget): TrafficWeights | undefined;
}
