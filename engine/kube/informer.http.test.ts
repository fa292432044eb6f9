/**
 * The Informer and a SyncOperation over HTTPS (HttpKubeClient, client-node)
 * against the served embedded cluster: the same engine code as in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { generateTls } from "../../simulator/cluster/http/tls.ts";
import { planSync, SyncOperation } from "../sync/index.ts";
import { HttpKubeClient } from "./http-client.ts";
import { Informer, type InformerEvent } from "./informer.ts";
import type { KubeObject } from "./types.ts";

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let cluster: EmbeddedCluster;
let client: HttpKubeClient;
const clock = new VirtualClock();

beforeAll(async () => {
  cluster = new EmbeddedCluster({ clock });
  await cluster.listen({ port: 0, tls: generateTls() });
  client = new HttpKubeClient({ kubeconfig: cluster.kubeconfig() });
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
});
afterAll(async () => {
  await cluster.close();
});

const cm = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "shop" },
  data,
});

describe("engine core over HTTPS", () => {
  it("Informer: list + watch add / update / delete", async () => {
    await client.create(cm("first", { k: "1" }));
    const inf = new Informer(client, { apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }, clock);
    const seen: string[] = [];
    inf.onEvent((e: InformerEvent) => seen.push(`${e.type} ${e.object.metadata.name}`));
    await inf.start();
    await client.create(cm("second", { k: "2" }));
    await client.patch(
      { apiVersion: "v1", kind: "ConfigMap", name: "first", namespace: "shop" },
      { data: { k: "3" } },
      "merge",
    );
    await client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "second", namespace: "shop" });
    await until(() => seen.length >= 4, "four events");
    expect(seen).toEqual(["add first", "add second", "update first", "delete second"]);
    expect(inf.get("shop", "first")?.data).toEqual({ k: "3" });
    inf.stop();
  });

  it("SyncOperation: dry run then server-side apply", async () => {
    const plan = planSync([cm("synced", { a: "b" })], [], { appName: "shop" });
    const op = new SyncOperation({ client, clock, plan });
    let state = await op.step();
    state = await op.step();
    state = await op.step();
    expect(state.phase).toBe("Succeeded");
    const live = await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "synced", namespace: "shop" });
    expect(live.metadata.managedFields?.map((m) => m.manager)).toContain("argocd-controller");
    expect(live.metadata.annotations?.["argocd.argoproj.io/tracking-id"]).toBe("shop:/ConfigMap:shop/synced");
  });
});
