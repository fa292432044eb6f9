/**
 * What a fault does to the system, declaratively: a bad release becomes a
 * traffic behaviour of its version (and, for crash loops, a pod behaviour); a
 * drift becomes a write through the API by a named identity. The catalogue and
 * defaults are in simulator/scenario/catalogue.ts and docs/FAULTS.md.
 */
import type { FleetService } from "../fleet/generate.ts";
import type { ReleaseFault } from "../scenario/catalogue.ts";
import type { Params } from "../scenario/load.ts";
import type { PodBehaviour } from "../cluster/controllers/index.ts";
import type { VersionBehaviour } from "../traffic/behaviour.ts";
import type { TrafficModel } from "../traffic/model.ts";
import type { ActiveDrift } from "./book.ts";

const num = (p: Params, k: string, d: number): number => (typeof p[k] === "number" ? (p[k] as number) : d);

/** The traffic behaviour of a version carrying `fault` (undefined fault = the service's baseline). */
export function releaseBehaviour(
  s: FleetService,
  fault: ReleaseFault | undefined,
  params: Params,
): VersionBehaviour {
  const base: VersionBehaviour = {
    errorRatio: s.baseline.errorRatio,
    latency: { p50Ms: s.baseline.p50Ms, p99Ms: s.baseline.p99Ms },
  };
  switch (fault) {
    case undefined:
    case "crash-loop": // pods never become ready: the version serves nothing
      return base;
    case "error-spike":
      return { ...base, errorRatio: num(params, "errorRate", 0.03) };
    case "bad-configmap":
      return { ...base, errorRatio: num(params, "errorRate", 0.2) };
    case "latency-regression": {
      const f = num(params, "latencyFactor", 4);
      return { ...base, latency: { p50Ms: s.baseline.p50Ms * f, p99Ms: s.baseline.p99Ms * f } };
    }
    case "load-regression":
      return {
        ...base,
        load: {
          aboveRps: num(params, "aboveRps", 40),
          errorRatio: num(params, "errorRate", 0.05),
          rampRps: 0,
        },
      };
    case "slow-degradation":
      return {
        ...base,
        growth: {
          errorRatioPerHour: num(params, "errorRatePerHour", 0.002),
          maxErrorRatio: num(params, "maxErrorRate", 0.08),
        },
      };
    case "intermittent-errors":
      return {
        ...base,
        intermittent: {
          probability: num(params, "dutyCycle", 0.3),
          errorRatio: num(params, "errorRate", 0.008),
          windowMs: 60_000,
        },
      };
  }
}

/**
 * What a harmful drift (a hand edit that breaks the service, e.g. a ConfigMap edited while
 * debugging) makes the version it hits serve: its own behaviour with 5% errors.
 */
export function harmfulDriftBehaviour(
  s: FleetService,
  fault: ReleaseFault | undefined,
  params: Params,
): VersionBehaviour {
  return { ...releaseBehaviour(s, fault, params), errorRatio: 0.05 };
}

/**
 * A harmful drift takes hold of a version: the drift-started ReplicaSet's version, or (a ConfigMap
 * edit) the version serving when it was made, carrying that version's own fault. The drift's record
 * keeps which version it harmed, so healing it can give the version its behaviour back.
 */
export function harmVersion(
  traffic: Pick<TrafficModel, "setVersionBehaviour">,
  s: FleetService,
  active: ActiveDrift,
  hash: string,
  serving?: { fault?: ReleaseFault | undefined; params: Params },
): void {
  traffic.setVersionBehaviour(
    { namespace: s.namespace, service: s.name },
    hash,
    harmfulDriftBehaviour(s, serving?.fault, serving?.params ?? {}),
  );
  active.harmfulHash = hash;
}

/** Whether a fault keeps the version's pods from ever becoming ready. */
export function neverReady(fault: ReleaseFault | undefined): boolean {
  return fault === "crash-loop";
}

/**
 * Crash-looping releases: the returned set names images whose pods never become ready; the
 * infrastructure's pods follow it. One set per world, shared by whoever deploys there.
 */
export function crashLoopPods(infra: { setPodBehaviour(b: PodBehaviour): void }): Set<string> {
  const images = new Set<string>();
  infra.setPodBehaviour((pod) =>
    pod.images.some((i) => images.has(i)) ? { ready: false, crashLoop: true } : undefined,
  );
  return images;
}
