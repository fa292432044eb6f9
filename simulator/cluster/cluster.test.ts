import { describe, expect, it } from "vitest";
import { rfc3339 } from "../../engine/core/clock.ts";
import { MemoryEventLog } from "../../engine/core/events.ts";
import { KubeApiError, type KubeObject } from "../../engine/kube/types.ts";
import { VirtualClock } from "../clock/virtual.ts";
import { EmbeddedCluster } from "./cluster.ts";

const cm = (name: string, ns: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns },
  data: { k: "v" },
});
const nsObj = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

async function error(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("EmbeddedCluster", () => {
  it("is deterministic: same seed, same uids, names and resourceVersions", async () => {
    const run = async () => {
      const c = new EmbeddedCluster({ clock: new VirtualClock(), seed: "s1" });
      const k = c.client("me");
      const a = await k.create(cm("a", "default"));
      const b: KubeObject = await k.create<KubeObject>({
        ...cm("", "default"),
        metadata: { generateName: "x-", namespace: "default" },
      });
      return [a.metadata.uid, a.metadata.resourceVersion, a.metadata.creationTimestamp, b.metadata.name];
    };
    expect(await run()).toEqual(await run());
  });

  it("keeps the last auditLimit audit records, oldest dropped first, and counts every write", async () => {
    const c = new EmbeddedCluster({ clock: new VirtualClock(), auditLimit: 3 });
    const k = c.client("me");
    for (let i = 0; i < 8; i++) await k.create(cm(`a${i}`, "default"));
    expect(c.audit().map((a) => a.name)).toEqual(["a5", "a6", "a7"]);
    await k.create(cm("a8", "default"));
    expect(c.audit().map((a) => a.name)).toEqual(["a6", "a7", "a8"]);
    expect(c.auditTotal()).toBe(9);
  });

  it("denies writes outside the policy with upstream's Forbidden message, and audits both", async () => {
    const log = new MemoryEventLog();
    const c = new EmbeddedCluster({ clock: new VirtualClock(), sink: log });
    const admin = c.adminClient();
    await admin.create(nsObj("prod"));
    await admin.create(nsObj("dev"));
    const alice = c.client("alice", ["developers"]);
    await alice.create(cm("x", "prod"));
    c.setPolicy({ rules: [{ groups: ["developers"], namespaces: ["dev", "team-*"] }] });
    await alice.create(cm("x", "dev"));
    const e = await error(
      alice.patch(
        { apiVersion: "v1", kind: "ConfigMap", name: "x", namespace: "prod" },
        { data: { k: "w" } },
        "merge",
      ),
    );
    expect(e.code).toBe(403);
    expect(e.reason).toBe("Forbidden");
    expect(e.message).toBe(
      'configmaps "x" is forbidden: User "alice" cannot patch resource "configmaps" in API group "" in the namespace "prod"',
    );
    const audit = c.audit().filter((a) => a.identity === "alice");
    expect(audit.map((a) => [a.verb, a.namespace, a.code])).toEqual([
      ["create", "prod", 201],
      ["create", "dev", 201],
      ["patch", "prod", 403],
    ]);
    expect(audit[0]).toMatchObject({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "x",
      fieldManager: "gitops-testbed",
    });
    expect(log.ofType("audit.write").length).toBeGreaterThanOrEqual(3);
    c.setPolicy(undefined);
    await alice.delete({ apiVersion: "v1", kind: "ConfigMap", name: "x", namespace: "prod" });
  });

  it("deletes a namespace with its contents", async () => {
    const c = new EmbeddedCluster({ clock: new VirtualClock() });
    const k = c.client("me");
    await k.create(nsObj("tmp"));
    await k.create(cm("a", "tmp"));
    await k.delete({ apiVersion: "v1", kind: "Namespace", name: "tmp" });
    expect((await error(k.get({ apiVersion: "v1", kind: "Namespace", name: "tmp" }))).code).toBe(404);
    expect((await k.list("v1", "ConfigMap", { namespace: "tmp" })).items).toEqual([]);
  });

  it("foreground deletion keeps the owner until its dependents are gone", async () => {
    const c = new EmbeddedCluster({ clock: new VirtualClock() });
    const k = c.client("me");
    const owner = await k.create(cm("owner", "default"));
    const dep = cm("dep", "default");
    dep.metadata.ownerReferences = [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "owner",
        uid: owner.metadata.uid!,
        blockOwnerDeletion: true,
      },
    ];
    dep.metadata.finalizers = ["hold"];
    await k.create(dep);
    const ownerRef = { apiVersion: "v1", kind: "ConfigMap", name: "owner", namespace: "default" };
    const pending = await k.delete(ownerRef, { propagationPolicy: "Foreground" });
    expect(pending?.metadata.finalizers).toEqual(["foregroundDeletion"]);
    await k.patch({ ...ownerRef, name: "dep" }, { metadata: { finalizers: null } }, "merge");
    expect((await error(k.get(ownerRef))).code).toBe(404);
  });

  it("server-side apply of the same object again writes nothing (same resourceVersion, no watch event)", async () => {
    const clock = new VirtualClock();
    const c = new EmbeddedCluster({ clock });
    const k = c.adminClient("argocd");
    const first = await k.apply(cm("a", "default"), { fieldManager: "argocd-controller" });
    const events: string[] = [];
    await k.watch("v1", "ConfigMap", { resourceVersion: first.metadata.resourceVersion }, (e) =>
      events.push(`${e.type} ${e.object.metadata.resourceVersion}`),
    );
    await clock.runUntil(clock.now() + 60_000);
    const again = await k.apply(cm("a", "default"), { fieldManager: "argocd-controller" });
    expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(again.metadata.managedFields).toEqual(first.metadata.managedFields);
    const changed = await k.apply(
      { ...cm("a", "default"), data: { k: "w" } },
      { fieldManager: "argocd-controller" },
    );
    await clock.runUntil(clock.now() + 1);
    expect(events).toEqual([`MODIFIED ${changed.metadata.resourceVersion}`]);
    expect(changed.metadata.managedFields?.[0]?.time).toBe(rfc3339(clock.now() - 1));
  });

  it("a write equal to the stored object keeps its resourceVersion, also with values read from another object", async () => {
    const c = new EmbeddedCluster({ clock: new VirtualClock() });
    const k = c.adminClient("me");
    const spec = {
      replicas: 2,
      selector: { matchLabels: { app: "a" } },
      template: { spec: { containers: [] } },
    };
    const rs = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name, namespace: "default", labels: { app: "a" } },
      spec: { ...spec, ...extra },
    });
    const a = await k.create(rs("a"));
    // b's spec and labels are frozen values of the store, equal to a's but not a's own
    const b = await k.create(rs("b"));
    const ref = { apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "default", name: "a" };
    const same = await k.patch(ref, { spec: b.spec, metadata: { labels: b.metadata.labels } }, "merge");
    expect(same.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    expect(same.metadata.generation).toBe(1);
    const status = await k.patch(ref, { status: { replicas: 2 } }, "merge", { subresource: "status" });
    expect(status.metadata.generation).toBe(1);
    const sameStatus = await k.patch(
      ref,
      { status: { ...(b.status as Record<string, unknown>), replicas: 2 } },
      "merge",
      {
        subresource: "status",
      },
    );
    expect(sameStatus.metadata.resourceVersion).toBe(status.metadata.resourceVersion);
    const replaced = await k.replaceStatus({ ...sameStatus, status: status.status });
    expect(replaced.metadata.resourceVersion).toBe(status.metadata.resourceVersion);
    // a label alone: a new version, the same generation; the spec: the next generation
    const labelled = await k.patch(ref, { metadata: { labels: { app: "a", x: "y" } } }, "merge");
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(
      Number(status.metadata.resourceVersion),
    );
    expect(labelled.metadata.generation).toBe(1);
    const c3 = await k.create(rs("c", { replicas: 3 }));
    const scaled = await k.patch(ref, { spec: c3.spec }, "merge");
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.spec).toEqual({ ...spec, replicas: 3 });
  });

  it("delivers each watch its events in commit order, also writes a consumer makes during a delivery", async () => {
    const clock = new VirtualClock();
    const c = new EmbeddedCluster({ clock });
    const k = c.adminClient("me");
    const seen: Record<string, string[]> = { a: [], b: [], c: [] };
    const log = (w: string) => (e: { type: string; object: KubeObject }) =>
      seen[w]!.push(`${e.type} ${e.object.metadata.name}`);
    await k.watch("v1", "ConfigMap", {}, (e) => {
      log("a")(e);
      // the first consumer writes while the batch is being delivered
      if (e.type === "ADDED" && e.object.metadata.name === "one") void k.create(cm("two", "default"));
    });
    await k.watch("v1", "ConfigMap", {}, log("b"));
    await k.watch("v1", "ConfigMap", { labelSelector: "x=y" }, log("c"));
    await k.create(cm("one", "default"));
    await k.create({
      ...cm("three", "default"),
      metadata: { name: "three", namespace: "default", labels: { x: "y" } },
    });
    await clock.runUntil(clock.now() + 1);
    expect(seen.a).toEqual(["ADDED one", "ADDED two", "ADDED three"]);
    expect(seen.b).toEqual(seen.a);
    expect(seen.c).toEqual(["ADDED three"]);
  });

  it("starts without controllers unless asked", async () => {
    const c = new EmbeddedCluster({ clock: new VirtualClock() });
    expect(await c.start()).toBe(false);
    expect(c.controllersRunning).toBe(false);
  });
});

describe("watch bookmarks", () => {
  it("sends a BOOKMARK with the current resourceVersion after the interval when other writes happened", async () => {
    const clock = new VirtualClock();
    const c = new EmbeddedCluster({ clock, bookmarkIntervalMs: 60_000 });
    const k = c.client("me");
    const seen: Array<{ type: string; rv: string | undefined }> = [];
    const start = (await k.list("v1", "Secret")).metadata.resourceVersion;
    const w = await k.watch("v1", "Secret", { resourceVersion: start, allowWatchBookmarks: true }, (e) =>
      seen.push({ type: e.type, rv: e.object.metadata.resourceVersion }),
    );
    const other = await k.create(cm("unrelated", "default"));
    await clock.runFor(60_000);
    w.stop();
    expect(seen).toEqual([{ type: "BOOKMARK", rv: other.metadata.resourceVersion }]);
  });

  it("watches armed by one write get their bookmarks together, in order; a stopped one none", async () => {
    const clock = new VirtualClock();
    const c = new EmbeddedCluster({ clock, bookmarkIntervalMs: 60_000 });
    const k = c.client("me");
    const seen: string[] = [];
    const start = (await k.list("v1", "Secret")).metadata.resourceVersion;
    const open = (name: string, kind: string) =>
      k.watch("v1", kind, { resourceVersion: start, allowWatchBookmarks: true }, (e) =>
        seen.push(`${name} ${e.type} ${e.object.metadata.resourceVersion} ${clock.now()}`),
      );
    const idle = clock.size;
    const a = await open("a", "Secret");
    const b = await open("b", "ServiceAccount");
    const d = await open("d", "Secret");
    const t0 = clock.now();
    const first = await k.create(cm("one", "default"));
    await clock.runFor(30_000);
    const second = await k.create(cm("two", "default"));
    d.stop();
    await clock.runFor(30_000);
    expect(seen).toEqual([
      `a BOOKMARK ${second.metadata.resourceVersion} ${t0 + 60_000}`,
      `b BOOKMARK ${second.metadata.resourceVersion} ${t0 + 60_000}`,
    ]);
    expect(first.metadata.resourceVersion).not.toBe(second.metadata.resourceVersion);
    // armed again by the next write; no timer left once every watch is stopped
    await k.create(cm("three", "default"));
    a.stop();
    b.stop();
    expect(clock.size).toBe(idle);
  });
});
