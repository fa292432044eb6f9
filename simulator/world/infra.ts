/**
 * What every simulated world runs on: a clock, the embedded cluster with its
 * built-in controllers, the traffic model and the mock Prometheus over it, the
 * binder between ReplicaSets and traffic versions, and alerting.
 *
 * Virtual mode (default): a VirtualClock and in-process clients; months run in
 * seconds. Live mode (`mode: "live"`): a ScaledRealClock, the cluster served
 * over HTTPS (or a kind / k3s / kubeconfig cluster) with one bearer token per
 * identity, every client an HttpKubeClient, the mock Prometheus served over
 * HTTP. The worlds do not change: they get every client and the Prometheus API
 * from here and run the clock only through runUntil / runToEnd.
 */
import type { EventBase, EventSink } from "../../engine/core/events.ts";
import {
  HttpPrometheusApi,
  inProcessPrometheusApi,
  type PrometheusApi,
} from "../../engine/analysis/provider.ts";
import type { KubeClient } from "../../engine/kube/types.ts";
import { ScaledRealClock } from "../clock/real.ts";
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
import {
  type ClusterConnection,
  type ClusterSpec,
  EmbeddedProvider,
  ensureArgoCrds,
  providerFor,
} from "../cluster/providers/index.ts";
import type { PrometheusServer } from "../prometheus/http.ts";
import { MockPrometheus } from "../prometheus/mock.ts";
import type { Scenario, WorldSpec } from "../scenario/load.ts";
import { TrafficModel } from "../traffic/model.ts";
import { DeferredKubeClient } from "../cluster/providers/deferred-client.ts";
import { withPersonRetries } from "./faulty-client.ts";
import { InfraFaults } from "./infra-faults.ts";
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
  /** virtual (default): in-process, discrete time. live: HTTP, scaled wall clock. */
  mode?: "virtual" | "live";
  /** Live mode: clock ms per wall ms (default 60). */
  timeScale?: number;
  /** Live mode: where the Kubernetes API comes from (default embedded). */
  cluster?: ClusterSpec;
}

/** Virtual mode sets up in the hour before the scenario starts. */
const VIRTUAL_SETUP_MS = 3_600_000;
/** Live mode allows this much wall time for setup (TLS, servers, first syncs) before the scenario starts. */
const LIVE_SETUP_WALL_MS = 8_000;

interface LiveState {
  connection: ClusterConnection;
  /** Set for the embedded cluster: per-identity kubeconfigs. */
  embedded: EmbeddedProvider | undefined;
  prometheus: PrometheusServer;
  clients: Map<string, KubeClient>;
}

export interface WorldResult {
  /** Cost figures for the run summary. */
  stats: Record<string, number>;
}

export class Infra {
  readonly clock: VirtualClock | ScaledRealClock;
  readonly mode: "virtual" | "live";
  readonly rng: SeededRng;
  readonly cluster: EmbeddedCluster;
  readonly admin: KubeClient;
  readonly traffic: TrafficModel;
  readonly prometheus: MockPrometheus;
  /**
   * The scenario's infrastructure faults for this world. People's clients (`client()`) go through
   * it; the worlds wrap their controllers' clients, Git source and notifier with it.
   */
  readonly faults: InfraFaults;
  private readonly peopleClients = new Map<string, KubeClient>();
  private controllersRef: BuiltinControllers | undefined;
  private podBehaviour: PodBehaviour | undefined;
  private readonly sink: EventSink<EventBase>;
  private readonly auditListeners: Array<(e: AuditWriteEvent) => void> = [];
  /** API writes so far (allowed and denied). */
  writes = 0;
  private readonly worldName: string;
  private live: LiveState | undefined;
  private connecting: Promise<LiveState> | undefined;
  private stopped = false;

  constructor(readonly input: WorldInput) {
    const { scenario, world } = input;
    this.mode = input.mode ?? "virtual";
    // Setup happens before the scenario starts; nothing is reported from it.
    if (this.mode === "live") {
      const scale = input.timeScale ?? 60;
      const setup = Math.min(VIRTUAL_SETUP_MS, LIVE_SETUP_WALL_MS * scale);
      this.clock = new ScaledRealClock(scale, scenario.startMs - setup);
    } else {
      this.clock = new VirtualClock(scenario.startMs - VIRTUAL_SETUP_MS);
    }
    this.rng = new SeededRng(`world/${scenario.seed}`);
    this.worldName = world.name;
    this.sink = input.sink;
    this.cluster = new EmbeddedCluster({
      clock: this.clock,
      seed: `cluster/${scenario.seed}`,
      sink: { emit: (e) => this.onAuditEvent(e as AuditWriteEvent) },
      // the world reads every write from the sink above; the server's own trail only serves a
      // look at recent writes (the default 100k-200k records cost 30-60 MB a world over 10 weeks)
      auditLimit: 10_000,
    });
    this.admin = this.systemClient("platform-admin");
    // Same seed in every world: the same requests arrive in both, so the comparison is paired.
    this.traffic = new TrafficModel({ clock: this.clock, seed: `traffic/${scenario.seed}` });
    this.prometheus = new MockPrometheus({ clock: this.clock });
    this.prometheus.addProvider(this.traffic);
    for (const s of input.services) this.traffic.addService(trafficSpec(s));
    this.faults = new InfraFaults(this);
  }

  /**
   * A client acting as a person or a non-admin service account (subject to the write policy).
   * Live mode: usable once startControllers() has connected (calls before then wait for it).
   * The API faults (api-errors, api-latency, watch-drop) hit it as they hit kubectl.
   */
  client(identity: string): KubeClient {
    let c = this.peopleClients.get(identity);
    if (c === undefined) {
      const inner = this.mode === "live" ? this.liveClient(identity, false) : this.cluster.client(identity);
      // a person re-runs kubectl after a transient error (client-go retries 429 by itself)
      c = withPersonRetries(this.faults.wrapClient(inner), this.clock);
      this.peopleClients.set(identity, c);
    }
    return c;
  }

  /** A client for a system component that is never denied (engine, rollout controller, controllers). */
  systemClient(identity: string): KubeClient {
    return this.mode === "live" ? this.liveClient(identity, true) : this.cluster.adminClient(identity);
  }

  /** The Prometheus HTTP API of the world's mock Prometheus (in-process in virtual mode). */
  prometheusApi(): PrometheusApi {
    if (this.mode === "virtual") return inProcessPrometheusApi(this.prometheus);
    return {
      query: async (expr, timeMs, opts) => {
        const live = await this.connect();
        return new HttpPrometheusApi(live.prometheus.url).query(expr, timeMs, opts);
      },
    };
  }

  /** Live mode: where the cluster's API and the mock Prometheus are served (after startControllers). */
  get endpoints(): { kubeconfig: Record<string, unknown> | string; prometheusUrl: string } | undefined {
    const live = this.live;
    return live === undefined
      ? undefined
      : { kubeconfig: live.connection.kubeconfig, prometheusUrl: live.prometheus.url };
  }

  private liveClient(identity: string, system: boolean): KubeClient {
    const key = `${system ? "system" : "user"}/${identity}`;
    return new DeferredKubeClient(identity, async () => {
      const live = await this.connect();
      const { HttpKubeClient } = await import("../../engine/kube/http-client.ts");
      let c = live.clients.get(key);
      if (c === undefined) {
        const kubeconfig =
          live.embedded === undefined
            ? live.connection.kubeconfig
            : live.embedded.kubeconfigFor(identity, system);
        c = new HttpKubeClient({ kubeconfig, identity });
        live.clients.set(key, c);
      }
      return c;
    });
  }

  /** Live mode: start the cluster provider and the Prometheus server (once). */
  private connect(): Promise<LiveState> {
    if (this.stopped) return Promise.reject(new Error("the world's live infrastructure is stopped"));
    this.connecting ??= (async () => {
      const spec = this.input.cluster ?? { kind: "embedded" };
      const provider = providerFor(spec, this.cluster);
      const connection = await provider.start();
      try {
        const embedded = provider instanceof EmbeddedProvider ? provider : undefined;
        // loaded when a world goes live: a virtual-time world never needs an HTTP client or server
        const [{ HttpKubeClient }, { startPrometheusServer }] = await Promise.all([
          import("../../engine/kube/http-client.ts"),
          import("../prometheus/http.ts"),
        ]);
        if (embedded === undefined)
          await ensureArgoCrds(
            new HttpKubeClient({ kubeconfig: connection.kubeconfig }),
            spec.kind === "kubeconfig" ? spec.path : `the ${spec.kind} cluster`,
          );
        const prometheus = await startPrometheusServer(this.prometheus, 0);
        this.live = { connection, embedded, prometheus, clients: new Map() };
        return this.live;
      } catch (e) {
        await connection.close();
        throw e;
      }
    })();
    return this.connecting;
  }

  /** Advance the world's clock to `t` (virtual time: as fast as the work allows; live: wait for it). */
  async runUntil(t: number): Promise<void> {
    const clock = this.clock;
    if (clock instanceof VirtualClock) {
      await clock.runUntil(t);
      return;
    }
    while (clock.now() < t) await clock.sleep(t - clock.now());
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
    if (this.mode === "live") {
      const live = await this.connect();
      // a real cluster (kind, k3s, kubeconfig) runs its own controllers
      if (live.embedded === undefined) return;
    }
    this.controllersRef = startBuiltinControllers(this.systemClient(CONTROLLER_IDENTITY), this.clock, {
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
    const step =
      this.mode === "live"
        ? Math.max(1000, Math.floor(scenario.durationMs / 100))
        : Math.max(3_600_000, Math.floor(scenario.durationMs / 100));
    for (let t = this.clock.now(); t < end; ) {
      t = Math.min(end, t + step);
      await this.runUntil(t);
      onProgress?.(Math.max(0, (t - scenario.startMs) / scenario.durationMs));
    }
  }

  /** Stop the controllers; live mode: cancel the clock's timers and close the servers (or the cluster). */
  async stop(): Promise<void> {
    this.controllersRef?.stop();
    this.controllersRef = undefined;
    this.stopped = true;
    if (this.clock instanceof ScaledRealClock) this.clock.dispose();
    const connecting = this.connecting;
    this.connecting = undefined;
    if (connecting === undefined) return;
    const live = await connecting.catch(() => undefined);
    this.live = undefined;
    if (live === undefined) return;
    await live.prometheus.close();
    await live.connection.close();
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
