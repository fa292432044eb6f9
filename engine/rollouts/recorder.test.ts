/**
 * KubeEventRecorder against the embedded API server: a repeat bumps count and lastTimestamp of the
 * Event it remembers without reading it; a vanished Event is created again; an Event recorded before
 * the recorder existed is counted on from the server's count.
 */
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import { KubeEventRecorder } from "./recorder.ts";

let cluster: EmbeddedCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const RO: KubeObject = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Rollout",
  metadata: { name: "web", namespace: "default", uid: "u-1" },
};

async function setup(): Promise<{ clock: VirtualClock; client: KubeClient; gets: () => number }> {
  const clock = new VirtualClock(Date.parse("2026-01-05T00:00:00Z"));
  cluster = new EmbeddedCluster({ clock, seed: "recorder-test" });
  await cluster.start();
  const inner = cluster.adminClient("rollouts");
  let gets = 0;
  const client: KubeClient = Object.create(inner) as KubeClient;
  client.get = (ref) => {
    gets++;
    return inner.get(ref);
  };
  return { clock, client, gets: () => gets };
}

async function events(client: KubeClient): Promise<KubeObject[]> {
  return (await client.list("v1", "Event", { namespace: "default" })).items;
}

describe("KubeEventRecorder", () => {
  it("counts repeats of the same reason and message on one Event without reading it", async () => {
    const { clock, client, gets } = await setup();
    const rec = new KubeEventRecorder(client, clock);
    await rec.record(RO, "Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)");
    await clock.runFor(60_000);
    await rec.record(RO, "Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)");
    await rec.record(RO, "Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)");
    await rec.record(RO, "Warning", "RolloutAborted", "aborted");
    const evs = await events(client);
    expect(evs.map((e) => [e.reason, e.count, e.type])).toEqual(
      expect.arrayContaining([
        ["RolloutPaused", 3, "Normal"],
        ["RolloutAborted", 1, "Warning"],
      ]),
    );
    const paused = evs.find((e) => e.reason === "RolloutPaused")!;
    expect(paused.firstTimestamp).toBe("2026-01-05T00:00:00Z");
    expect(paused.lastTimestamp).toBe("2026-01-05T00:01:00Z");
    expect(paused.involvedObject).toMatchObject({ kind: "Rollout", name: "web", uid: "u-1" });
    expect(gets()).toBe(0);
  });

  it("creates a deleted Event again, and counts on from an Event recorded by an earlier recorder", async () => {
    const { clock, client } = await setup();
    const first = new KubeEventRecorder(client, clock);
    await first.record(RO, "Normal", "RolloutResumed", "Rollout is resumed");
    await first.record(RO, "Normal", "RolloutResumed", "Rollout is resumed");
    const restarted = new KubeEventRecorder(client, clock);
    await restarted.record(RO, "Normal", "RolloutResumed", "Rollout is resumed");
    let [ev] = await events(client);
    expect(ev?.count).toBe(3);
    await client.delete({ apiVersion: "v1", kind: "Event", namespace: "default", name: ev!.metadata.name! });
    await restarted.record(RO, "Normal", "RolloutResumed", "Rollout is resumed");
    [ev] = await events(client);
    expect(ev?.count).toBe(1);
  });

  it("creates an Event older than the server's event TTL afresh, without patching it first", async () => {
    const { clock, client } = await setup();
    let patches = 0;
    const inner = client.patch.bind(client);
    client.patch = (...args: Parameters<KubeClient["patch"]>) => {
      patches++;
      return inner(...args);
    };
    const rec = new KubeEventRecorder(client, clock);
    await rec.record(RO, "Normal", "RolloutCompleted", "Rollout completed");
    await clock.runFor(30 * 60_000);
    await rec.record(RO, "Normal", "RolloutCompleted", "Rollout completed");
    expect(patches).toBe(1);
    // the embedded server drops Events an hour after their last write (kube-apiserver --event-ttl)
    await clock.runFor(61 * 60_000);
    expect(await events(client)).toEqual([]);
    await rec.record(RO, "Normal", "RolloutCompleted", "Rollout completed");
    expect(patches).toBe(1);
    expect((await events(client)).map((e) => [e.count, e.firstTimestamp])).toEqual([
      [1, "2026-01-05T01:31:00Z"],
    ]);
    // a server keeping Events longer than the recorder assumes: the create finds the Event, counted on
    const short = new KubeEventRecorder(client, clock, "rollouts-controller", 60_000);
    await short.record(RO, "Normal", "RolloutAborted", "aborted");
    await clock.runFor(2 * 60_000);
    await short.record(RO, "Normal", "RolloutAborted", "aborted");
    expect((await events(client)).map((e) => [e.reason, e.count])).toEqual(
      expect.arrayContaining([["RolloutAborted", 2]]),
    );
  });
});
