/**
 * Cost of the embedded cluster's built-in controllers in virtual time: 200
 * Deployments x 5 pods converge, then 10 simulated weeks in which every
 * service ships a new image twice a week (RollingUpdate 25%/25%), driven
 * by watch events and stage timers only. Reports wall time, API writes,
 * and the wall cost of idle simulated time (which must be ~0: no polling).
 * BENCH_CLUSTER_SERVICES / BENCH_CLUSTER_WEEKS override the defaults.
 */
import { performance } from "node:perf_hooks";
import type { KubeObject } from "../engine/kube/types.ts";
import { SeededRng } from "../simulator/clock/rng.ts";
import { VirtualClock } from "../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../simulator/cluster/cluster.ts";
import { startBuiltinControllers } from "../simulator/cluster/controllers/index.ts";
import { report } from "./report.ts";

const BENCH = "cluster-controllers";
const SERVICES = Number(process.env.BENCH_CLUSTER_SERVICES ?? 200);
const WEEKS = Number(process.env.BENCH_CLUSTER_WEEKS ?? 10);
const REPLICAS = 5;
const DAY = 86_400_000;

async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  await clock.runAll(ms);
  await clock.runUntil(end);
}

function deployment(i: number, version: number): KubeObject {
  const name = `svc-${String(i).padStart(3, "0")}`;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: "app", image: `registry.local/${name}:v${version}`, ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

export async function run(): Promise<void> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock });
  const ctl = startBuiltinControllers(cluster.adminClient("system:kube-controller-manager"), clock, {
    rng: new SeededRng("bench"),
  });
  await ctl.ready;
  const kube = cluster.adminClient("bench");
  const heap0 = process.memoryUsage().heapUsed;

  let t0 = performance.now();
  let cpu0 = process.cpuUsage();
  const cpuMs = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  for (let i = 0; i < SERVICES; i++) await kube.create(deployment(i, 1));
  await advance(clock, 120_000);
  const convergeMs = performance.now() - t0;
  const ready = (await kube.list("v1", "Pod")).items.filter((p) =>
    ((p.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some(
      (c) => c.type === "Ready" && c.status === "True",
    ),
  ).length;
  const writes0 = cluster.auditTotal();
  report(BENCH, "converge_wall", convergeMs, "ms", {
    services: SERVICES,
    replicas: REPLICAS,
    readyPods: ready,
  });
  report(BENCH, "converge_cpu", cpuMs(), "ms");
  report(BENCH, "converge_writes", writes0, "writes", {
    perPod: Number((writes0 / (SERVICES * REPLICAS)).toFixed(2)),
  });

  // idle simulated time: a day with no changes
  t0 = performance.now();
  await advance(clock, DAY);
  report(BENCH, "idle_day_wall", performance.now() - t0, "ms", { writes: cluster.auditTotal() - writes0 });

  // 10 weeks, every service ships twice a week at its own time of day
  const versions = new Array<number>(SERVICES).fill(1);
  const deploysPerService = WEEKS * 2;
  const slot = (3.5 * DAY) / SERVICES;
  let rollouts = 0;
  t0 = performance.now();
  cpu0 = process.cpuUsage();
  const writes1 = cluster.auditTotal();
  for (let round = 0; round < deploysPerService; round++) {
    for (let i = 0; i < SERVICES; i++) {
      versions[i] = (versions[i] ?? 1) + 1;
      const name = `svc-${String(i).padStart(3, "0")}`;
      await kube.patch(
        { apiVersion: "apps/v1", kind: "Deployment", name, namespace: "default" },
        {
          spec: {
            template: {
              spec: { containers: [{ name: "app", image: `registry.local/${name}:v${versions[i]}` }] },
            },
          },
        },
        "strategic",
      );
      rollouts++;
      await advance(clock, slot);
    }
  }
  await advance(clock, 600_000);
  const weeksMs = performance.now() - t0;
  const weeksCpu = cpuMs();
  const writes = cluster.auditTotal() - writes1;
  const deployments = (await kube.list("apps/v1", "Deployment")).items;
  const complete = deployments.filter((d) =>
    ((d.status as { conditions?: Array<{ type: string; reason?: string }> }).conditions ?? []).some(
      (c) => c.type === "Progressing" && c.reason === "NewReplicaSetAvailable",
    ),
  ).length;
  report(BENCH, "weeks_wall", weeksMs, "ms", { weeks: WEEKS, rollouts, completeDeployments: complete });
  report(BENCH, "weeks_cpu", weeksCpu, "ms", { loadavg: (await import("node:os")).loadavg()[0] });
  report(BENCH, "rollout_cpu", weeksCpu / rollouts, "ms/rollout", {
    writesPerRollout: Number((writes / rollouts).toFixed(1)),
  });
  report(BENCH, "heap_growth", (process.memoryUsage().heapUsed - heap0) / 1e6, "MB", {
    auditRecords: cluster.audit().length,
  });
  ctl.stop();
  await cluster.close();
}
