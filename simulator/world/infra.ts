/**
 * What every simulated world runs on: a virtual clock, the embedded cluster with
 * its built-in controllers, the traffic model and the mock Prometheus over it,
 * the binder between ReplicaSets and traffic versions, and alerting.
 */
import type { EventBase, EventSink } from "../../engine/core/events.ts";
import type { KubeClient } from "../../engine/kube/types.ts";
import { SeededRng } from "../clock/rng.ts";
import { VirtualClock } from "../clock/virtual.ts";
import { CONTROLLER_IDENTITY, EmbeddedCluster } from "../cluster/cluster.ts";
import {
  type BuiltinControllers,
  type PodBehaviour,
  startBuiltinControllers,
} from "../cluster/controllers/index.ts";
import type { AuditWriteEvent } from "../cluster/events.ts";
import type { WorldEvent } from "../events.ts";
import { type FleetService, trafficSpec } from "../fleet/generate.ts";
import { MockPrometheus } from "../prometheus/mock.ts";
import type { Scenario, WorldSpec } from "../scenario/load.ts";
import { TrafficModel } from "../traffic/model.ts";
import type { RunPlan } from "./plan.ts";

/** World events without the `world` field (the emitter adds it). */
export type WorldEventInput = WorldEvent extends infer E
  ? E extends WorldEvent
    ? Omit<E, "world">
    : never
  : never;

export interface WorldInput {
  scenario: Scenario;
  world: WorldSpec;
  services: readonly FleetService[];
  plan: RunPlan;
  /** Receives every event of the world (world events and mechanism events), tagged with the world. */
  sink: EventSink<EventBase>;
  /** Scratch directory for Git repositories. */
  workDir: string;
  /** Progress callback: fraction of the world's simulated time done. */
  onProgress?: (fraction: number) => void;
}

export interface WorldResult {
  /** Cost figures for the run summary. */
  stats: Record<string, number>;
}

export class Infra {
  readonly clock: VirtualClock;
  readonly rng: SeededRng;
  readonly cluster: EmbeddedCluster;
  readonly admin: KubeClient;
  readonly traffic: TrafficModel;
  readonly prometheus: MockPrometheus;
  private controllersRef: BuiltinControllers | undefined;
  private podBehaviour: PodBehaviour | undefined;
  private readonly sink: EventSink<EventBase>;
  private readonly auditListeners: Array<(e: AuditWriteEvent) => void> = [];
  /** API writes so far (allowed and denied). */
  writes = 0;
  private readonly worldName: string;

  constructor(readonly input: WorldInput) {
    const { scenario, world } = input;
    // Setup happens in the hour before the scenario starts; nothing is reported from it.
    this.clock = new VirtualClock(scenario.startMs - 3_600_000);
    this.rng = new SeededRng(`world/${scenario.seed}`);
    this.worldName = world.name;
    this.sink = input.sink;
    this.cluster = new EmbeddedCluster({
      clock: this.clock,
      seed: `cluster/${scenario.seed}`,
      sink: { emit: (e) => this.onAuditEvent(e as AuditWriteEvent) },
    });
    this.admin = this.cluster.adminClient("platform-admin");
    // Same seed in every world: the same requests arrive in both, so the comparison is paired.
    this.traffic = new TrafficModel({ clock: this.clock, seed: `traffic/${scenario.seed}` });
    this.prometheus = new MockPrometheus({ clock: this.clock });
    this.prometheus.addProvider(this.traffic);
    for (const s of input.services) this.traffic.addService(trafficSpec(s));
  }

  /** A client acting as a person or a non-admin service account (subject to the write policy). */
  client(identity: string): KubeClient {
    return this.cluster.client(identity);
  }

  /** A client for a system component that is never denied (engine, rollout controller, controllers). */
  systemClient(identity: string): KubeClient {
    return this.cluster.adminClient(identity);
  }

  /** Advance the world's clock to `t` (virtual time: as fast as the work allows). */
  async runUntil(t: number): Promise<void> {
    await this.clock.runUntil(t);
  }

  /** Listen to the cluster's audit trail (every write, allowed or denied). */
  onAudit(listener: (e: AuditWriteEvent) => void): void {
    this.auditListeners.push(listener);
  }

  private onAuditEvent(e: AuditWriteEvent): void {
    this.writes++;
    for (const l of this.auditListeners) l(e);
  }

  async startControllers(): Promise<void> {
    this.controllersRef = startBuiltinControllers(this.cluster.adminClient(CONTROLLER_IDENTITY), this.clock, {
      // no start-up jitter: pods of a ReplicaSet become ready together, so status writes coalesce
      behaviour: (pod) => this.podBehaviour?.(pod),
    });
    await this.controllersRef.ready;
  }

  setPodBehaviour(b: PodBehaviour): void {
    this.podBehaviour = b;
  }

  /** Emit a world event (tagged with this world). */
  emit(e: WorldEventInput): void {
    this.sink.emit({ ...e, world: this.worldName } as unknown as EventBase);
  }

  /** A sink for mechanism events (engine, rollouts): tagged with this world. */
  mechanismSink(keep: (e: EventBase) => boolean = () => true): EventSink<EventBase> {
    return {
      emit: (e: EventBase) => {
        if (keep(e)) this.sink.emit({ ...e, world: this.worldName } as EventBase);
      },
    };
  }

  /** Run the world's clock to the end of the scenario, reporting progress. */
  async runToEnd(): Promise<void> {
    const { scenario, onProgress } = this.input;
    const end = scenario.startMs + scenario.durationMs;
    const step = Math.max(3_600_000, Math.floor(scenario.durationMs / 100));
    for (let t = this.clock.now(); t < end; ) {
      t = Math.min(end, t + step);
      await this.clock.runUntil(t);
      onProgress?.(Math.max(0, (t - scenario.startMs) / scenario.durationMs));
    }
  }

  stop(): void {
    this.controllersRef?.stop();
  }
}

/** `repo:tag` of a fleet service's image at a version. */
export function imageOf(s: FleetService, version: string): string {
  return `${s.image.repository}:${version}`;
}

export function tagOf(image: string): string {
  const i = image.lastIndexOf(":");
  return i < 0 ? "" : image.slice(i + 1);
}
