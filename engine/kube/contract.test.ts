/** The KubeClient contract against the in-process adapter (HTTP: http-client.test.ts). */
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { CONTRACT_HISTORY_SIZE, kubeClientContract } from "./contract.suite.ts";

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

kubeClientContract("in-process", async () => {
  const cluster = new EmbeddedCluster({ clock: new VirtualClock(), historySize: CONTRACT_HISTORY_SIZE });
  return {
    client: cluster.client("tester"),
    settle: () => until(() => true, "settle"),
    until,
    close: () => cluster.close(),
  };
});
