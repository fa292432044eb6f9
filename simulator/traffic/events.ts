/** Typed events of the traffic model (appended to the injected EventSink). */
import type { EventBase } from "../../engine/core/events.ts";
import type { VersionBehaviour } from "./behaviour.ts";

/** The routing of a service changed (TrafficRouter.setWeight or an explicit split). */
export interface TrafficWeightEvent extends EventBase {
  type: "traffic.weight";
  namespace: string;
  service: string;
  /** Share of requests per version hash, in percent; sums to 100. */
  weights: Record<string, number>;
  stableHash?: string;
  canaryHash?: string;
  canaryWeight?: number;
}

/** A version's pods started serving (counters start) or went away (series go stale). */
export interface TrafficVersionEvent extends EventBase {
  type: "traffic.version.started" | "traffic.version.stopped";
  namespace: string;
  service: string;
  hash: string;
}

/** The fault injector changed how a version behaves from `time` on. */
export interface TrafficBehaviourEvent extends EventBase {
  type: "traffic.behaviour";
  namespace: string;
  service: string;
  hash: string;
  behaviour: VersionBehaviour;
}

export type TrafficEvent = TrafficWeightEvent | TrafficVersionEvent | TrafficBehaviourEvent;
