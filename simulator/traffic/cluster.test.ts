import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "../../engine/kube/types.ts";
import { EmbeddedCluster } from "../cluster/cluster.ts";
import { VirtualClock } from "../clock/virtual.ts";
import { followReplicaSets } from "./cluster.ts";
import { TrafficModel } from "./model.ts";

const T0 = Date.UTC(2026, 0, 5);

function replicaSet(name: string, hash: string, owner: string): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: "shop",
      labels: { app: owner, "rollouts-pod-template-hash": hash },
      ownerReferences: [
        {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Rollout",
          name: owner,
          uid: `uid-${owner}`,
          controller: true,
        },
      ],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: owner, "rollouts-pod-template-hash": hash } },
      template: {
        metadata: { labels: { app: owner, "rollouts-pod-template-hash": hash } },
        spec: { containers: [{ name: "c", image: "x" }] },
      },
    },
  };
}

async function setReady(client: KubeClient, name: string, ready: number): Promise<void> {
  const rs = await client.get({ apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "shop", name });
  await client.replaceStatus({ ...rs, status: { replicas: ready, readyReplicas: ready } });
}

describe("followReplicaSets", () => {
  it("starts a version when its ReplicaSet has ready pods, splits by replicas, stops it when they go", async () => {
    const clock = new VirtualClock(T0);
    const cluster = new EmbeddedCluster({ clock, autoCreateNamespaces: true });
    const client = cluster.client("admin");
    const traffic = new TrafficModel({ clock, seed: 1 });
    traffic.addService({ namespace: "shop", service: "cart", baseRps: 100 });
    await client.create(replicaSet("cart-aaa", "aaa", "cart"));
    await client.create(replicaSet("other-zzz", "zzz", "not-modelled"));
    const follower = await followReplicaSets(client, traffic);
    expect(traffic.runningVersions("cart")).toEqual([]);

    await setReady(client, "cart-aaa", 3);
    await clock.runFor(1000);
    expect(traffic.runningVersions("cart")).toEqual(["aaa"]);

    await client.create(replicaSet("cart-bbb", "bbb", "cart"));
    await setReady(client, "cart-bbb", 1);
    await clock.runFor(1000);
    expect(traffic.runningVersions("cart")).toEqual(["aaa", "bbb"]);
    expect(traffic.weightHistory("cart").at(-1)?.weights).toEqual({ aaa: 75, bbb: 25 });

    // once the rollout controller routes through the TrafficRouter port, its weights win
    traffic.setWeight({ namespace: "shop", service: "cart" }, "bbb", "aaa", 5);
    await setReady(client, "cart-bbb", 2);
    await clock.runFor(1000);
    expect(traffic.weightHistory("cart").at(-1)?.weights).toEqual({ aaa: 95, bbb: 5 });

    await client.delete({ apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "shop", name: "cart-aaa" });
    await clock.runFor(1000);
    expect(traffic.runningVersions("cart")).toEqual(["bbb"]);
    follower.stop();
  });
});
