/**
 * RolloutsManager's watches: a dropped watch is re-listed (what changed meanwhile is
 * seen), and a re-list that fails is reported and retried with back-off on the clock.
 */
import { afterEach, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { advance } from "../../test/rollouts/harness.ts";
import { FunctionProvider } from "../analysis/provider.ts";
import type { KubeClient, WatchEvent, WatchHandle } from "../kube/types.ts";
import { RolloutsManager } from "./manager.ts";
import { rollout, strictManager } from "./test-fixtures.ts";
import type { Rollout } from "./types.ts";

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** `client` whose watches can be dropped and whose next `failLists` lists fail. */
function flaky(client: KubeClient) {
  const closers: Array<() => void> = [];
  const ctl = { failLists: 0, lists: 0 };
  const wrapped: KubeClient = Object.create(client) as KubeClient;
  wrapped.list = (apiVersion, kind, opts) => {
    ctl.lists++;
    if (ctl.failLists > 0) {
      ctl.failLists--;
      return Promise.reject(new Error("connection refused"));
    }
    return client.list(apiVersion, kind, opts);
  };
  wrapped.watch = async <T extends Parameters<KubeClient["create"]>[0]>(
    apiVersion: string,
    kind: string,
    opts: Parameters<KubeClient["watch"]>[2],
    onEvent: (e: WatchEvent<T>) => void,
    onClose?: (err?: unknown) => void,
  ): Promise<WatchHandle> => {
    const h = await client.watch<T>(apiVersion, kind, opts, onEvent);
    closers.push(() => {
      h.stop();
      onClose?.(new Error("watch dropped"));
    });
    return h;
  };
  return {
    client: wrapped,
    ctl,
    drop: () => {
      for (const c of closers.splice(0)) c();
    },
  };
}

it("a dropped watch is re-listed; failed re-lists are reported and retried until one succeeds", async () => {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, controllers: true, seed: "manager-test" });
  await cluster.start();
  const admin = cluster.adminClient("admin");
  const f = flaky(cluster.adminClient("argo-rollouts"));
  const errors: string[] = [];
  const manager = new RolloutsManager({
    client: f.client,
    clock,
    provider: new FunctionProvider(() => 0),
    freezeCache: true,
    onError: (e, where) => errors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`),
  });
  stop = async () => {
    manager.stop();
    await cluster.close();
  };
  await manager.start();
  f.ctl.failLists = 2;
  f.drop();
  await admin.create(rollout("web:1", { replicas: 2 }, [{ setWeight: 50 }]));
  await advance(clock, 60_000);
  expect(errors).toEqual(["watch Rollout: connection refused", "watch ReplicaSet: connection refused"]);
  const ro = await admin.get<Rollout>({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    namespace: "default",
    name: "web",
  });
  expect(ro.status?.phase).toBe("Healthy");
});

it("a controller's own status write does not re-run its reconcile; another's change to the same object does", async () => {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, controllers: true, seed: "manager-own-writes" });
  await cluster.start();
  const admin = cluster.adminClient("admin");
  const manager = strictManager({
    client: cluster.adminClient("argo-rollouts"),
    clock,
    provider: new FunctionProvider(() => 0),
  });
  stop = async () => {
    manager.stop();
    await cluster.close();
  };
  const runReconciles: number[] = [];
  const reconcileRun = manager.analysis.reconcile.bind(manager.analysis);
  manager.analysis.reconcile = (ns, name) => {
    runReconciles.push(clock.now());
    return reconcileRun(ns, name);
  };
  await manager.start();
  await admin.create({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AnalysisTemplate",
    metadata: { name: "slo", namespace: "default" },
    spec: {
      metrics: [
        {
          name: "errors",
          interval: "10m",
          successCondition: "result < 1",
          provider: { prometheus: { address: "http://prometheus:9090", query: "errors" } },
        },
      ],
    },
  });
  const steps = [{ setWeight: 50 }, { pause: { duration: "15m" } }];
  const analysis = { templates: [{ templateName: "slo" }] };
  await admin.create(rollout("web:1", { replicas: 2 }, steps));
  await advance(clock, 60_000);
  const ref = { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", namespace: "default", name: "web" };
  const ro = await admin.get<Rollout>(ref);
  const tpl = structuredClone(ro.spec.template!);
  (tpl.spec as { containers: Array<{ image: string }> }).containers[0]!.image = "web:2";
  await admin.patch(ref, { spec: { template: tpl, strategy: { canary: { steps, analysis } } } }, "merge");
  const start = clock.now();
  await advance(clock, 20 * 60_000);
  const runs = (await admin.list("argoproj.io/v1alpha1", "AnalysisRun", { namespace: "default" }))
    .items as Array<{
    status?: { phase?: string; metricResults?: Array<{ count?: number }> };
  }>;
  expect(runs).toHaveLength(1);
  // measured at 0 and 10 min; the rollout completed after the 15-minute pause and terminated the run,
  // which its controller saw at once (the terminate is another controller's write), not at 20 min
  expect(runs[0]!.status?.phase).toBe("Successful");
  expect(runs[0]!.status?.metricResults?.[0]?.count).toBe(2);
  const minutes = runReconciles.map((t) => Math.floor((t - start) / 60_000));
  // one reconcile per measurement, one for the terminate and the one the 10-minute measurement
  // scheduled (it finds the run completed): none for the run's own status writes
  expect(minutes).toEqual([0, 10, 15, 20]);
});
