/**
 * Informer and ClusterCache against the embedded API server (in-process
 * client) in virtual time. `Flaky` wraps the real client so a test can cut a
 * watch connection or deliver a malformed event, like a flaky network would.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { type AppChange, ClusterCache } from "./cluster-cache.ts";
import { Informer, type InformerError, type InformerEvent } from "./informer.ts";
import type { KubeClient, KubeObject, WatchEvent, WatchHandle } from "./types.ts";

interface Conn {
  handle: WatchHandle;
  onEvent: (e: WatchEvent) => void;
}

class Flaky {
  readonly conns: Conn[] = [];
  watches = 0;
  readonly client: KubeClient;
  constructor(inner: KubeClient) {
    const self = this;
    this.client = Object.assign(Object.create(inner) as KubeClient, {
      async watch<T extends KubeObject>(
        apiVersion: string,
        kind: string,
        opts: Parameters<KubeClient["watch"]>[2],
        onEvent: (e: WatchEvent<T>) => void,
        onClose?: (err?: unknown) => void,
      ): Promise<WatchHandle> {
        self.watches++;
        const handle = await inner.watch<T>(apiVersion, kind, opts, onEvent, onClose);
        self.conns.push({ handle, onEvent: onEvent as (e: WatchEvent) => void });
        return handle;
      },
    });
  }
  /** The server closes every open watch. */
  drop(): void {
    const conns = this.conns.splice(0);
    for (const c of conns) c.handle.stop();
  }
  /** Deliver a raw event on the newest connection. */
  inject(e: WatchEvent): void {
    this.conns[this.conns.length - 1]?.onEvent(e);
  }
}

let clock: VirtualClock;
let cluster: EmbeddedCluster;
let admin: KubeClient;

beforeEach(async () => {
  clock = new VirtualClock();
  cluster = new EmbeddedCluster({ clock, historySize: 20 });
  admin = cluster.adminClient();
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
});
afterEach(async () => {
  await cluster.close();
});

const cm = (
  name: string,
  data: Record<string, string> = { k: "v" },
  annotations?: Record<string, string>,
): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "shop", ...(annotations === undefined ? {} : { annotations }) },
  data,
});
const ref = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", name, namespace: "shop" });
const describeEv = (e: InformerEvent) =>
  `${e.type} ${e.object.metadata.name}${e.type === "update" ? ` ${JSON.stringify(e.old.data)}->${JSON.stringify(e.object.data)}` : ""}`;

async function cacheMatchesServer(inf: Informer): Promise<void> {
  const server = (await admin.list("v1", "ConfigMap", { namespace: "shop" })).items;
  expect(inf.list().map((o) => [o.metadata.name, o.metadata.resourceVersion])).toEqual(
    server.map((o) => [o.metadata.name, o.metadata.resourceVersion]).sort(),
  );
}

describe("Informer", () => {
  it("lists, then reports add / update (with old) / delete from the watch", async () => {
    await admin.create(cm("a"));
    const inf = new Informer(admin, { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }, clock);
    const seen: string[] = [];
    inf.onEvent((e) => seen.push(describeEv(e)));
    await inf.start();
    expect(inf.hasSynced()).toBe(true);
    await admin.create(cm("b"));
    await admin.patch(ref("a"), { data: { k: "w" } }, "merge");
    await admin.delete(ref("b"));
    await clock.runFor(1000);
    expect(seen).toEqual(["add a", "add b", 'update a {"k":"v"}->{"k":"w"}', "delete b"]);
    expect(inf.get("shop", "a")?.data).toEqual({ k: "w" });
    await cacheMatchesServer(inf);
    inf.stop();
  });

  it("resumes a closed watch from its resourceVersion after a backoff, missing nothing", async () => {
    const flaky = new Flaky(admin);
    const inf = new Informer(
      flaky.client,
      { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" },
      clock,
      {
        backoff: { initialMs: 2000 },
      },
    );
    const seen: string[] = [];
    inf.onEvent((e) => seen.push(describeEv(e)));
    await inf.start();
    flaky.drop();
    await admin.create(cm("during-outage"));
    await clock.runFor(1000);
    expect(seen).toEqual([]); // still backing off
    expect(flaky.watches).toBe(1);
    await clock.runFor(1500);
    expect(flaky.watches).toBe(2);
    expect(seen).toEqual(["add during-outage"]);
    await cacheMatchesServer(inf);
    inf.stop();
  });

  it("re-lists on 410 Expired and reports what changed meanwhile", async () => {
    await admin.create(cm("keep"));
    await admin.create(cm("doomed"));
    const flaky = new Flaky(admin);
    const inf = new Informer(flaky.client, { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }, clock);
    const seen: string[] = [];
    const errors: InformerError[] = [];
    inf.onEvent((e) => seen.push(describeEv(e)));
    inf.onError((e) => errors.push(e));
    await inf.start();
    seen.length = 0;
    flaky.drop();
    await admin.delete(ref("doomed"));
    await admin.patch(ref("keep"), { data: { k: "changed" } }, "merge");
    // push the resume point out of the server's 20-event history window
    for (let i = 0; i < 30; i++) await admin.create(cm(`filler-${i}`));
    for (let i = 0; i < 30; i++) await admin.delete(ref(`filler-${i}`));
    await clock.runFor(5000);
    expect(errors.map((e) => e.kind)).toContain("expired");
    expect(seen).toEqual(['update keep {"k":"v"}->{"k":"changed"}', "delete doomed"]);
    await cacheMatchesServer(inf);
    inf.stop();
  });

  it("reports a malformed watch event and re-lists instead of dropping it", async () => {
    const flaky = new Flaky(admin);
    const inf = new Informer(flaky.client, { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }, clock);
    const errors: InformerError[] = [];
    inf.onError((e) => errors.push(e));
    await inf.start();
    await admin.create(cm("x"));
    flaky.inject({ type: "MODIFIED", object: { garbage: true } as unknown as KubeObject });
    await clock.runFor(1000);
    expect(errors.map((e) => e.kind)).toEqual(["parse"]);
    expect(errors[0]?.message).toContain("malformed MODIFIED watch event");
    await cacheMatchesServer(inf);
    inf.stop();
  });

  it("takes a bookmark's resourceVersion and keeps its watch (a bookmark has no name or kind)", async () => {
    const flaky = new Flaky(admin);
    const inf = new Informer(flaky.client, { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }, clock);
    const errors: InformerError[] = [];
    inf.onError((e) => errors.push(e));
    await inf.start();
    await admin.create(cm("x"));
    const rv = (await admin.list("v1", "ConfigMap", { namespace: "shop" })).metadata.resourceVersion;
    flaky.inject({
      type: "BOOKMARK",
      object: { metadata: { resourceVersion: rv } } as unknown as KubeObject,
    });
    await clock.runFor(1000);
    expect(errors).toEqual([]);
    expect(flaky.watches).toBe(1);
    await cacheMatchesServer(inf);
    inf.stop();
  });

  it("without an error listener, errors surface from the clock instead of vanishing", async () => {
    const flaky = new Flaky(admin);
    const inf = new Informer(flaky.client, { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }, clock);
    await inf.start();
    flaky.inject({ type: "ADDED", object: { nope: 1 } as unknown as KubeObject });
    await expect(clock.runFor(1000)).rejects.toThrow(/parse: malformed ADDED watch event/);
    inf.stop();
  });
});

describe("ClusterCache", () => {
  const tracked = (app: string, name: string, data: Record<string, string> = { k: "v" }) =>
    cm(name, data, { "argocd.argoproj.io/tracking-id": `${app}:/ConfigMap:shop/${name}` });

  it("indexes objects by tracking id and reports only app-relevant changes", async () => {
    await admin.create(tracked("shop", "a"));
    await admin.create(cm("untracked"));
    // a copied annotation that names another object is not tracking
    await admin.create(
      cm("copy", { k: "v" }, { "argocd.argoproj.io/tracking-id": "shop:/ConfigMap:shop/a" }),
    );
    const cache = new ClusterCache(admin, clock, {
      kinds: [
        { apiVersion: "v1", kind: "ConfigMap" },
        { apiVersion: "apps/v1", kind: "Deployment" },
      ],
    });
    const changes: string[] = [];
    cache.onAppChange((c: AppChange) =>
      changes.push(`${c.app} ${c.type} ${c.reason} ${c.object.metadata.name}`),
    );
    await cache.start();
    expect(cache.objectsOf("shop").map((o) => o.metadata.name)).toEqual(["a"]);
    changes.length = 0;

    await admin.create(tracked("shop", "b"));
    await admin.patch(ref("a"), { data: { k: "edited" } }, "merge");
    await admin.patch(ref("untracked"), { data: { k: "edited" } }, "merge");
    // the same values applied by another field manager: only managedFields / resourceVersion change
    await admin.apply(tracked("shop", "b"), { fieldManager: "someone-else", force: true });
    await admin.delete(ref("a"));
    await clock.runFor(1000);
    expect(changes).toEqual([
      "shop created add b".replace("created add", "add created"),
      "shop update spec a",
      "shop delete deleted a",
    ]);
    expect(cache.objectsOf("shop").map((o) => o.metadata.name)).toEqual(["b"]);
    cache.stop();
  });

  it("skips and reports a kind it cannot list, and watches the others", async () => {
    const cache = new ClusterCache(admin, clock, {
      kinds: [
        { apiVersion: "example.com/v1", kind: "Widget" },
        { apiVersion: "v1", kind: "ConfigMap" },
      ],
    });
    const errors: InformerError[] = [];
    cache.onError((e) => errors.push(e));
    await cache.start();
    expect(errors.map((e) => [e.kind, e.resourceKind])).toEqual([["list", "Widget"]]);
    expect(cache.watchedKinds()).toEqual([{ apiVersion: "v1", kind: "ConfigMap" }]);
    await admin.create(tracked("shop", "c"));
    await clock.runFor(1000);
    expect(cache.objectsOf("shop").map((o) => o.metadata.name)).toEqual(["c"]);
    cache.stop();
  });

  it("reports status-only changes when they change health, and ignores the rest", async () => {
    const dep: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace: "shop",
        annotations: { "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/web" },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "app", image: "web:1" }] },
        },
      },
    };
    const created = await admin.create(dep);
    const cache = new ClusterCache(admin, clock);
    const changes: string[] = [];
    cache.onAppChange((c) =>
      changes.push(`${c.type} ${c.reason} ${c.object.kind}/${c.object.metadata.name}`),
    );
    await cache.start();
    expect(cache.watchedKinds().some((k) => k.kind === "Event")).toBe(false);
    expect(cache.isNamespaced("apps", "Deployment")).toBe(true);
    changes.length = 0;
    const progressing = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 };
    const s1 = await admin.replaceStatus({ ...created, status: progressing });
    await admin.replaceStatus({
      ...s1,
      status: { ...progressing, observedGeneration: 1, unavailableReplicas: 1 },
    });
    const s3 = await admin.get({ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "shop" });
    await admin.replaceStatus({ ...s3, status: { ...progressing, availableReplicas: 1, readyReplicas: 1 } });
    await clock.runFor(1000);
    // first write: no status -> Progressing (was Progressing: not observed) -> nothing;
    // second: still Progressing -> nothing; third: Healthy -> reported
    expect(changes).toEqual(["update health Deployment/web"]);
    cache.stop();
  });
});
