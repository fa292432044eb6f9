/**
 * The KubeClient contract over HTTPS (client-node 1.4 -> the served
 * EmbeddedCluster), plus what only the wire shows: client-node's informer
 * re-listing after a 410 Expired, bearer-token auth, the kubeconfig.
 */
import { type KubernetesListObject, type KubernetesObject, makeInformer } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { generateTls } from "../../simulator/cluster/http/tls.ts";
import { CONTRACT_HISTORY_SIZE, kubeClientContract } from "./contract.suite.ts";
import { HttpKubeClient } from "./http-client.ts";
import { KubeApiError, type KubeObject } from "./types.ts";

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tls = generateTls();

async function served(historySize = CONTRACT_HISTORY_SIZE) {
  const cluster = new EmbeddedCluster({ clock: new VirtualClock(), historySize });
  await cluster.listen({ port: 0, tls });
  const client = new HttpKubeClient({ kubeconfig: cluster.kubeconfig() });
  return { cluster, client };
}

kubeClientContract("HTTP (client-node 1.4)", async () => {
  const { cluster, client } = await served();
  return { client, settle: () => until(() => true, "settle"), until, close: () => cluster.close() };
});

describe("HTTP adapter on the wire", () => {
  it("client-node's informer re-lists after a 410 Expired watch", async () => {
    const { cluster, client } = await served(20);
    try {
      const cm = (name: string): KubeObject => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: "default" },
        data: {},
      });
      for (let i = 0; i < 30; i++) await client.create(cm(`c${i}`));
      let lists = 0;
      const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
        lists++;
        const l = await client.list("v1", "ConfigMap", { namespace: "default" });
        // the first list answers with a resourceVersion long out of the watch window
        const resourceVersion = lists === 1 ? "1" : l.metadata.resourceVersion;
        return {
          apiVersion: l.apiVersion,
          kind: l.kind,
          items: l.items as KubernetesObject[],
          metadata: { resourceVersion },
        };
      };
      const informer = makeInformer(client.kubeConfig, "/api/v1/namespaces/default/configmaps", listFn);
      const errors: unknown[] = [];
      informer.on("error", (e) => errors.push(e));
      await informer.start();
      await until(() => lists >= 2, "a second list after 410");
      await client.create(cm("after"));
      await until(() => informer.get("after", "default") !== undefined, "the informer to see new objects");
      expect(informer.list("default")).toHaveLength(31);
      expect(errors).toEqual([]);
      await informer.stop();
    } finally {
      await cluster.close();
    }
  });

  it("answers 401 Unauthorized without a valid token", async () => {
    const { cluster } = await served();
    try {
      const kc = cluster.kubeconfig() as { users: Array<{ user: { token: string } }> };
      kc.users[0]!.user.token = "wrong";
      const bad = new HttpKubeClient({ kubeconfig: kc });
      const e = await bad.list("v1", "ConfigMap").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(KubeApiError);
      expect((e as KubeApiError).status).toMatchObject({
        code: 401,
        reason: "Unauthorized",
        message: "Unauthorized",
      });
    } finally {
      await cluster.close();
    }
  });
});
