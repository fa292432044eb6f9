/**
 * Engine core benchmark (engine/diff, engine/sync, engine/kube/cluster-cache):
 * - three-way diff of a Deployment (with managedFields) per second;
 * - planSync of 1,000 resources (200 apps x 5) in ms;
 * - one SyncOperation applying 200 ConfigMaps + 50 Deployments in waves against the
 *   in-process embedded cluster (virtual clock), wall ms;
 * - ClusterCache initial list of 2,000 objects and watch throughput (events/s).
 */
import { diff } from "../engine/diff/index.ts";
import { ClusterCache } from "../engine/kube/cluster-cache.ts";
import type { KubeObject } from "../engine/kube/types.ts";
import { planSync, SyncOperation } from "../engine/sync/index.ts";
import { VirtualClock } from "../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../simulator/cluster/cluster.ts";
import { report } from "./report.ts";

function deployment(name: string, ns: string, wave = 0): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: ns,
      labels: { app: name },
      annotations: { "argocd.argoproj.io/sync-wave": String(wave) },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "app",
              image: `${name}:1`,
              env: [{ name: "MODE", value: "prod" }],
              resources: { limits: { cpu: "500m" } },
            },
          ],
        },
      },
    },
  };
}
const configMap = (name: string, ns: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns },
  data: { a: name, b: "x".repeat(200) },
});

export async function run(): Promise<void> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, historySize: 100_000 });
  const client = cluster.client("argocd-application-controller");
  await cluster.adminClient().create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } });

  // diff
  const live = await client.apply(deployment("web", "bench"), {
    fieldManager: "argocd-controller",
    force: true,
  });
  const want = deployment("web", "bench");
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    diff(want, live);
    n++;
  }
  report(
    "engine-core",
    "diff Deployment (three-way, managedFields)",
    n / ((performance.now() - t0) / 1000),
    "diffs/s",
  );

  // planSync
  const desired: KubeObject[] = [];
  for (let a = 0; a < 200; a++) {
    desired.push(
      deployment(`app${a}`, "bench"),
      configMap(`app${a}-1`, "bench"),
      configMap(`app${a}-2`, "bench"),
    );
    desired.push(configMap(`app${a}-3`, "bench"), configMap(`app${a}-4`, "bench"));
  }
  t0 = performance.now();
  planSync(desired, [], { appName: "bench" });
  report("engine-core", "planSync 1,000 resources (no live)", performance.now() - t0, "ms");

  // sync operation
  const objs: KubeObject[] = [];
  for (let i = 0; i < 200; i++) objs.push(configMap(`cm${i}`, "bench"));
  for (let i = 0; i < 50; i++) objs.push(deployment(`dep${i}`, "bench", i % 5));
  const syncPlan = planSync(objs, [], { appName: "bench" });
  // No controllers run here, so Deployments never become healthy: one wave, nothing to wait for.
  const flat = { ...syncPlan, tasks: syncPlan.tasks.map((t) => ({ ...t, wave: 0 })) };
  const flatOp = new SyncOperation({ client, clock, plan: flat });
  t0 = performance.now();
  const state = await flatOp.run(1000, 60_000);
  report(
    "engine-core",
    "SyncOperation 250 resources (dry run + apply, in-process)",
    performance.now() - t0,
    "ms",
    {
      phase: state.phase,
    },
  );

  // ClusterCache
  for (let i = 0; i < 1750; i++) {
    const cm = configMap(`extra${i}`, "bench");
    cm.metadata.annotations = {
      "argocd.argoproj.io/tracking-id": `app${i % 200}:/ConfigMap:bench/extra${i}`,
    };
    await client.create(cm);
  }
  const cache = new ClusterCache(client, clock, {
    kinds: [
      { apiVersion: "v1", kind: "ConfigMap" },
      { apiVersion: "apps/v1", kind: "Deployment" },
    ],
  });
  t0 = performance.now();
  await cache.start();
  report("engine-core", "ClusterCache initial list", performance.now() - t0, "ms", {
    objects: cache.all().length,
  });
  let changes = 0;
  cache.onAppChange(() => changes++);
  t0 = performance.now();
  for (let i = 0; i < 1000; i++) {
    await client.patch(
      { apiVersion: "v1", kind: "ConfigMap", name: `extra${i}`, namespace: "bench" },
      { data: { a: "z" } },
      "merge",
    );
  }
  await clock.runFor(1000);
  report(
    "engine-core",
    "ClusterCache watch: write + app change delivered",
    1000 / ((performance.now() - t0) / 1000),
    "events/s",
    {
      delivered: changes,
    },
  );
  cache.stop();
  await cluster.close();
}
