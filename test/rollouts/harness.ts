/**
 * Test harness: a virtual-time embedded cluster (with B's built-in controllers
 * when present, else a minimal stand-in that marks ReplicaSet pods available),
 * the rollouts manager, and the fixtures under fixtures/argo/.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { MetricsProvider } from "../../engine/analysis/provider.ts";
import type { AnalysisRun } from "../../engine/analysis/types.ts";
import type { AnalysisEvent } from "../../engine/analysis/events.ts";
import { type EventSink, MemoryEventLog } from "../../engine/core/events.ts";
import type { RolloutEvent } from "../../engine/rollouts/events.ts";
import type { TrafficRouter } from "../../engine/core/traffic-router.ts";
import type { KubeClient, KubeObject } from "../../engine/kube/types.ts";
import type { ReplicaSet } from "../../engine/rollouts/controller.ts";
import { RolloutsManager } from "../../engine/rollouts/manager.ts";
import type { Rollout } from "../../engine/rollouts/types.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";

export const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures", "argo");

export function fixture(name: string): KubeObject[] {
  return parseAllDocuments(readFileSync(join(FIXTURES, name), "utf8")).map((d) => d.toJS() as KubeObject);
}

/**
 * Advance virtual time by `ms`, firing every timer on the way. Works around
 * VirtualClock.runUntil jumping to its end time when its final settle schedules
 * a timer earlier than that end (reported to the lead).
 */
export async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  for (;;) {
    await clock.settle();
    const next = clock.peek();
    if (next === undefined || next > end) break;
    await clock.runUntil(next);
  }
  await clock.runUntil(end);
}

export interface Harness {
  clock: VirtualClock;
  cluster: EmbeddedCluster;
  client: KubeClient;
  manager: RolloutsManager;
  log: MemoryEventLog<RolloutEvent | AnalysisEvent>;
  advance(ms: number): Promise<void>;
  rollout(name?: string): Promise<Rollout>;
  runs(): Promise<AnalysisRun[]>;
  replicaSets(): Promise<ReplicaSet[]>;
  setImage(name: string, image: string): Promise<void>;
  stop(): Promise<void>;
}

/** Mark every ReplicaSet's pods ready and available at once (stand-in for B's controller). */
async function fakeReplicaSetController(client: KubeClient): Promise<() => void> {
  const sync = async (rs: ReplicaSet) => {
    const n = rs.spec.replicas ?? 0;
    const st = rs.status ?? {};
    if (st.replicas === n && st.readyReplicas === n && st.availableReplicas === n) return;
    await client
      .patch(
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: rs.metadata.name!,
          namespace: rs.metadata.namespace!,
        },
        {
          status: {
            replicas: n,
            readyReplicas: n,
            availableReplicas: n,
            observedGeneration: rs.metadata.generation,
          },
        },
        "merge",
        { subresource: "status" },
      )
      .catch(() => undefined);
  };
  const h = await client.watch<ReplicaSet>("apps/v1", "ReplicaSet", {}, (ev) => {
    if (ev.type === "ADDED" || ev.type === "MODIFIED") void sync(ev.object);
  });
  return () => h.stop();
}

export async function startHarness(opts: {
  provider: MetricsProvider;
  trafficRouter?: TrafficRouter;
  clock?: VirtualClock;
  objects?: KubeObject[];
  /** Also receives every rollout/analysis event (e.g. notifications). */
  sink?: EventSink<RolloutEvent | AnalysisEvent>;
}): Promise<Harness> {
  const clock = opts.clock ?? new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, controllers: true, seed: "rollouts-test" });
  const client = cluster.adminClient("argo-rollouts");
  const builtin = await cluster.start();
  const stopFake = builtin ? () => {} : await fakeReplicaSetController(client);
  const log = new MemoryEventLog<RolloutEvent | AnalysisEvent>();
  const mopts: ConstructorParameters<typeof RolloutsManager>[0] = {
    client,
    clock,
    provider: opts.provider,
    events:
      opts.sink === undefined
        ? log
        : {
            emit: (e) => {
              log.emit(e);
              opts.sink!.emit(e);
            },
          },
    onError: (e, where) => {
      throw new Error(`${where}: ${e instanceof Error ? e.stack : String(e)}`);
    },
  };
  if (opts.trafficRouter !== undefined) mopts.trafficRouter = opts.trafficRouter;
  const manager = new RolloutsManager(mopts);
  for (const o of opts.objects ?? []) await client.create(o);
  await manager.start();
  await clock.runFor(0);
  const ref = (name: string) => ({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    name,
    namespace: "default",
  });
  return {
    clock,
    cluster,
    client,
    manager,
    log,
    advance: (ms) => advance(clock, ms),
    rollout: (name = "checkout") => client.get<Rollout>(ref(name)),
    runs: async () =>
      (await client.list<AnalysisRun>("argoproj.io/v1alpha1", "AnalysisRun", { namespace: "default" })).items,
    replicaSets: async () =>
      (await client.list<ReplicaSet>("apps/v1", "ReplicaSet", { namespace: "default" })).items,
    setImage: async (name, image) => {
      const ro = await client.get<Rollout>(ref(name));
      const tpl = structuredClone(ro.spec.template!);
      const spec = tpl.spec as { containers: Array<{ image: string }> };
      spec.containers[0]!.image = image;
      await client.patch(ref(name), { spec: { template: tpl } }, "merge");
    },
    stop: async () => {
      manager.stop();
      stopFake();
      await cluster.close();
    },
  };
}
