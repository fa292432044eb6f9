/**
 * progressDeadlineSeconds against the embedded cluster in virtual time: a canary
 * whose pods never become ready goes Degraded with upstream's reason and message;
 * progressDeadlineAbort aborts it; pause steps do not count toward the deadline.
 * The manager runs with frozen caches, so a controller mutating a cached object throws.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "../core/events.ts";
import { FunctionProvider } from "../analysis/provider.ts";
import type { KubeClient } from "../kube/types.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { advance } from "../../test/rollouts/harness.ts";
import type { ReplicaSet } from "./controller.ts";
import { progressMade } from "./controller.ts";
import type { AnalysisEvent } from "../analysis/events.ts";
import type { RolloutEvent } from "./events.ts";
import { podTemplateHash } from "./replicas.ts";
import { rollout, strictManager } from "./test-fixtures.ts";
import type { Rollout, RolloutStatus } from "./types.ts";

const REF = { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", namespace: "default", name: "web" };

interface World {
  clock: VirtualClock;
  client: KubeClient;
  log: MemoryEventLog<RolloutEvent | AnalysisEvent>;
  stop(): Promise<void>;
  get(): Promise<Rollout>;
  setImage(image: string): Promise<string>;
  advance(ms: number): Promise<void>;
  /** spec.replicas of the ReplicaSet of a pod-template hash. */
  canaryReplicas(hash: string): Promise<number | undefined>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** A cluster whose `:crash` images crash-loop (never Ready), a manager, and a Healthy v1 of `ro`. */
async function start(ro: Rollout): Promise<World> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({
    clock,
    controllers: true,
    seed: "deadline-test",
    controllerOptions: {
      behaviour: (pod: { images: readonly string[] }) =>
        pod.images.some((i) => i.endsWith(":crash")) ? { ready: false, crashLoop: true } : undefined,
    },
  });
  await cluster.start();
  const client = cluster.adminClient("argo-rollouts");
  const log = new MemoryEventLog<RolloutEvent | AnalysisEvent>();
  const manager = strictManager({
    client,
    clock,
    provider: new FunctionProvider(() => 0),
    events: log,
  });
  await manager.start();
  await client.create(ro);
  await advance(clock, 60_000);
  const get = () => client.get<Rollout>(REF);
  expect((await get()).status?.phase).toBe("Healthy");
  return {
    clock,
    client,
    log,
    get,
    advance: (ms) => advance(clock, ms),
    async canaryReplicas(hash) {
      const rs = await client.get<ReplicaSet>({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        namespace: "default",
        name: `web-${hash}`,
      });
      return rs.spec.replicas;
    },
    async setImage(image) {
      const cur = await get();
      const tpl = structuredClone(cur.spec.template!);
      (tpl.spec as { containers: Array<{ image: string }> }).containers[0]!.image = image;
      await client.patch(REF, { spec: { template: tpl } }, "merge");
      return podTemplateHash(tpl);
    },
    async stop() {
      manager.stop();
      await cluster.close();
    },
  };
}

function progressing(st: RolloutStatus | undefined) {
  return st?.conditions?.find((c) => c.type === "Progressing");
}

describe("progressDeadlineSeconds", () => {
  it("a canary whose pods never become ready goes Degraded with ProgressDeadlineExceeded, not aborted", async () => {
    world = await start(
      rollout("web:v1", { progressDeadlineSeconds: 120 }, [{ setWeight: 25 }, { pause: {} }]),
    );
    const updatedAt = world.clock.now();
    const hash = await world.setImage("web:crash");
    await world.advance(100_000);
    let st = (await world.get()).status;
    expect(st?.phase).toBe("Progressing");
    expect(progressing(st)?.reason).toBe("ReplicaSetUpdated");

    await world.advance(60_000);
    st = (await world.get()).status;
    expect(st?.phase).toBe("Degraded");
    expect(progressing(st)).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "web-${hash}" has timed out progressing.`,
    });
    expect(st?.message).toBe(`ProgressDeadlineExceeded: ReplicaSet "web-${hash}" has timed out progressing.`);
    expect(st?.abort).toBeUndefined();
    const timedOut = world.log.ofType("rollout.timedout");
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]).toMatchObject({
      service: "web",
      canaryHash: hash,
      abort: false,
      progressDeadlineSeconds: 120,
    });
    // the deadline counts from the last progress (pods created) and is checked a second after it
    expect(timedOut[0]!.time - updatedAt).toBeGreaterThan(120_000);
    expect(timedOut[0]!.time - updatedAt).toBeLessThanOrEqual(125_000);
    expect(world.log.ofType("rollout.aborted")).toHaveLength(0);

    // without progressDeadlineAbort the update stays where it is: the canary keeps its pods
    await world.advance(600_000);
    expect(await world.canaryReplicas(hash)).toBe(1);
    expect((await world.get()).status?.phase).toBe("Degraded");
    expect(world.log.ofType("rollout.timedout")).toHaveLength(1);
  });

  it("progressDeadlineAbort aborts the timed-out update with the timeout as the reason", async () => {
    world = await start(
      rollout("web:v1", { progressDeadlineSeconds: 120, progressDeadlineAbort: true }, [
        { setWeight: 25 },
        { pause: {} },
      ]),
    );
    const hash = await world.setImage("web:crash");
    await world.advance(200_000);
    const st = (await world.get()).status;
    const msg = `Rollout aborted update to revision 2: ReplicaSet "web-${hash}" has timed out progressing.`;
    expect(st?.abort).toBe(true);
    expect(st?.phase).toBe("Degraded");
    expect(progressing(st)).toMatchObject({ status: "False", reason: "RolloutAborted", message: msg });
    expect(world.log.ofType("rollout.timedout")[0]).toMatchObject({ abort: true });
    expect(world.log.ofType("rollout.aborted").map((e) => e.message)).toEqual([msg]);
    expect(await world.canaryReplicas(hash)).toBe(0);
  });

  it("a pause step longer than the deadline does not time out; a good version completes", async () => {
    world = await start(
      rollout("web:v1", { progressDeadlineSeconds: 60 }, [{ setWeight: 25 }, { pause: { duration: "10m" } }]),
    );
    await world.setImage("web:v2");
    await world.advance(5 * 60_000);
    expect((await world.get()).status?.phase).toBe("Paused");
    await world.advance(6 * 60_000);
    const st = (await world.get()).status;
    expect(st?.phase).toBe("Healthy");
    expect(progressing(st)?.reason).toBe("NewReplicaSetAvailable");
    expect(world.log.ofType("rollout.timedout")).toHaveLength(0);
    // (the first deploy goes straight to stable, without a rollout.completed)
    expect(world.log.ofType("rollout.completed")).toHaveLength(1);
  });
});

describe("progressMade (upstream conditions.RolloutProgressing, canary)", () => {
  const base: RolloutStatus = {
    replicas: 5,
    updatedReplicas: 1,
    readyReplicas: 4,
    availableReplicas: 4,
    stableRS: "a",
    currentStepIndex: 1,
  };
  const cases: Array<[string, boolean, RolloutStatus]> = [
    ["nothing changed", false, {}],
    ["more replicas updated", true, { updatedReplicas: 2, replicas: 6 }],
    ["fewer replicas updated (scale down of the canary)", true, { updatedReplicas: 0, replicas: 4 }],
    ["an old replica scaled down", true, { replicas: 4 }],
    ["an old replica added", false, { replicas: 6 }],
    ["one more ready", true, { readyReplicas: 5 }],
    ["one fewer ready", false, { readyReplicas: 3 }],
    ["one more available", true, { availableReplicas: 5 }],
    ["one fewer available", false, { availableReplicas: 3 }],
    ["the stable changed", true, { stableRS: "b" }],
    ["the step changed", true, { currentStepIndex: 2 }],
    ["the steps were edited", true, { currentStepHash: "x" }],
  ];
  it.each(cases)("%s -> progress: %s", (_name, want, change) => {
    expect(progressMade(base, { ...base, ...change })).toBe(want);
  });
});
