import { describe, expect, it } from "vitest";
import { isNotFound, type KubeObject, type WatchEvent } from "../../engine/kube/types.ts";
import { VirtualClock } from "../clock/virtual.ts";
import { EmbeddedCluster } from "./cluster.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

const event = (name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { name, namespace: "default" },
  involvedObject: { kind: "Rollout", name: "web", namespace: "default" },
  reason: "RolloutUpdated",
  message: "Rollout updated to revision 2",
  type: "Normal",
  count: 1,
});
const ref = (name: string) => ({ apiVersion: "v1", kind: "Event", namespace: "default", name });

async function exists(c: EmbeddedCluster, kind: string, name: string): Promise<boolean> {
  try {
    await c.adminClient().get({ apiVersion: "v1", kind, namespace: "default", name });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

function setup(eventTtlMs?: number) {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, ...(eventTtlMs === undefined ? {} : { eventTtlMs }) });
  return { clock, cluster, k: cluster.adminClient() };
}

describe("Event TTL (kube-apiserver --event-ttl)", () => {
  it("deletes an Event one hour (the default) after its creation, and nothing else", async () => {
    const { clock, cluster, k } = setup();
    await k.create(event("e1"));
    await k.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" } });
    await clock.runFor(HOUR - 1);
    expect(await exists(cluster, "Event", "e1")).toBe(true);
    await clock.runFor(1);
    expect(await exists(cluster, "Event", "e1")).toBe(false);
    await clock.runFor(24 * HOUR);
    expect(await exists(cluster, "ConfigMap", "cm")).toBe(true);
  });

  it("counts from the last write: a repeat of the Event keeps it", async () => {
    const { clock, cluster, k } = setup();
    await k.create(event("e1"));
    await clock.runFor(40 * MIN);
    await k.patch(ref("e1"), { count: 2 }, "merge");
    await clock.runFor(40 * MIN);
    expect(await exists(cluster, "Event", "e1")).toBe(true);
    await clock.runFor(20 * MIN);
    expect(await exists(cluster, "Event", "e1")).toBe(false);
  });

  it("sends watchers DELETED with the last state at a new resourceVersion", async () => {
    const { clock, k } = setup(5 * MIN);
    const created = await k.create(event("e1"));
    const seen: Array<WatchEvent<KubeObject>> = [];
    const list = await k.list("v1", "Event", { namespace: "default" });
    const w = await k.watch(
      "v1",
      "Event",
      { namespace: "default", resourceVersion: list.metadata.resourceVersion },
      (e) => seen.push(e),
    );
    await clock.runFor(5 * MIN);
    w.stop();
    expect(seen.map((e) => [e.type, e.object.metadata.name, e.object.count])).toEqual([["DELETED", "e1", 1]]);
    const rv = Number(seen[0]!.object.metadata.resourceVersion);
    expect(rv).toBeGreaterThan(Number(created.metadata.resourceVersion));
  });

  it("expires each Event on its own schedule, and one deleted or recreated meanwhile on the new one's", async () => {
    const { clock, cluster, k } = setup(10 * MIN);
    await k.create(event("a"));
    await clock.runFor(3 * MIN);
    await k.create(event("b"));
    await k.delete(ref("a"));
    await clock.runFor(1 * MIN);
    await k.create(event("a"));
    await clock.runFor(6 * MIN); // 10 min after the first "a"
    expect(await exists(cluster, "Event", "a")).toBe(true);
    expect(await exists(cluster, "Event", "b")).toBe(true);
    await clock.runFor(3 * MIN); // 10 min after "b"
    expect(await exists(cluster, "Event", "b")).toBe(false);
    expect(await exists(cluster, "Event", "a")).toBe(true);
    await clock.runFor(1 * MIN); // 10 min after the second "a"
    expect(await exists(cluster, "Event", "a")).toBe(false);
  });

  it("keeps Events forever with eventTtlMs 0, and leaves no timer behind", async () => {
    const { clock, cluster, k } = setup(0);
    await k.create(event("e1"));
    expect(clock.peek()).toBeUndefined();
    await clock.runFor(30 * 24 * HOUR);
    expect(await exists(cluster, "Event", "e1")).toBe(true);
  });

  it("arms no timer while no Event exists, and none after the last one expired", async () => {
    const { clock, k } = setup(MIN);
    expect(clock.peek()).toBeUndefined();
    await k.create(event("e1"));
    expect(clock.peek()).toBe(clock.now() + MIN);
    await clock.runFor(MIN);
    expect(clock.peek()).toBeUndefined();
  });
});
