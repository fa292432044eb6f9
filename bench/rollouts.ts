/**
 * Rollouts benchmark: 200 Rollouts (one namespace each), each with a canary
 * held at 5% by an indefinite pause while background analysis (error rate and
 * P99 via PromQL on the traffic model, every 60 s) runs for one simulated day
 * in virtual time, against the embedded cluster in-process with its
 * controllers. Figures: wall time, measurements/s (wall), reconciles/s.
 * BENCH_ROLLOUTS and BENCH_HOURS scale it down for a quick look.
 */
import { inProcessPrometheusApi, PrometheusProvider } from "../engine/analysis/provider.ts";
import type { AnalysisEvent } from "../engine/analysis/events.ts";
import type { KubeObject } from "../engine/kube/types.ts";
import { RolloutsManager } from "../engine/rollouts/manager.ts";
import type { RolloutEvent } from "../engine/rollouts/events.ts";
import type { Rollout } from "../engine/rollouts/types.ts";
import { VirtualClock } from "../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../simulator/cluster/cluster.ts";
import { MockPrometheus } from "../simulator/prometheus/mock.ts";
import { followReplicaSets } from "../simulator/traffic/cluster.ts";
import { TrafficModel } from "../simulator/traffic/model.ts";
import { report } from "./report.ts";

const N = Number(process.env.BENCH_ROLLOUTS ?? 200);
const HOURS = Number(process.env.BENCH_HOURS ?? 24);

const template = (ns: string): KubeObject => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "slo", namespace: ns },
  spec: {
    args: [{ name: "service" }, { name: "namespace" }, { name: "hash" }],
    metrics: [
      {
        name: "error-rate",
        interval: "60s",
        initialDelay: "1m",
        successCondition: "result[0] < 0.005",
        provider: {
          prometheus: {
            query:
              '(sum(rate(http_requests_total{namespace="{{args.namespace}}",service="{{args.service}}",rollouts_pod_template_hash="{{args.hash}}",code=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{namespace="{{args.namespace}}",service="{{args.service}}",rollouts_pod_template_hash="{{args.hash}}"}[5m]))',
          },
        },
      },
      {
        name: "p99-latency",
        interval: "60s",
        initialDelay: "1m",
        successCondition: "result[0] < 0.5",
        provider: {
          prometheus: {
            query:
              'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{args.namespace}}",service="{{args.service}}",rollouts_pod_template_hash="{{args.hash}}"}[5m])))',
          },
        },
      },
    ],
  },
});

const rollout = (ns: string, image: string): Rollout => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Rollout",
  metadata: { name: "svc", namespace: ns },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: "svc" } },
    template: { metadata: { labels: { app: "svc" } }, spec: { containers: [{ name: "svc", image }] } },
    strategy: {
      canary: {
        trafficRouting: { smi: {} },
        analysis: {
          templates: [{ templateName: "slo" }],
          args: [
            { name: "service", value: "svc" },
            { name: "namespace", value: ns },
            { name: "hash", valueFrom: { podTemplateHashValue: "Latest" } },
          ],
        },
        steps: [{ setWeight: 5 }, { pause: {} }],
      },
    },
  },
});

export async function run(): Promise<void> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({
    clock,
    controllers: true,
    seed: "bench-rollouts",
    historySize: 50_000,
  });
  await cluster.start();
  const client = cluster.adminClient("argo-rollouts");
  const traffic = new TrafficModel({ clock, seed: 7 });
  const prom = new MockPrometheus({ clock });
  prom.addProvider(traffic);
  let measurements = 0;
  let errors = 0;
  let aborted = 0;
  const manager = new RolloutsManager({
    client,
    clock,
    trafficRouter: traffic,
    provider: new PrometheusProvider({ apiFor: () => inProcessPrometheusApi(prom) }),
    recorder: { record: async () => {} },
    events: {
      emit: (e: RolloutEvent | AnalysisEvent) => {
        if (e.type === "analysis.measurement") {
          measurements++;
          if (e.phase === "Error") errors++;
        } else if (e.type === "rollout.aborted") aborted++;
      },
    },
    onError: (e, where) => process.stderr.write(`bench rollouts: ${where}: ${String(e)}\n`),
  });
  const namespaces = Array.from({ length: N }, (_, i) => `svc-${String(i).padStart(3, "0")}`);
  for (const ns of namespaces) {
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    traffic.addService({ namespace: ns, service: "svc", baseRps: 50 + (namespaces.indexOf(ns) % 10) * 20 });
    await client.create(template(ns));
    await client.create(rollout(ns, "registry.example.com/svc:1.0.0"));
  }
  const follower = await followReplicaSets(client, traffic);
  await manager.start();
  await advance(clock, 60_000);
  const t0 = performance.now();
  const r0 = manager.reconciles;
  for (const ns of namespaces) {
    await client.patch(
      { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "svc", namespace: ns },
      {
        spec: {
          template: { spec: { containers: [{ name: "svc", image: "registry.example.com/svc:1.1.0" }] } },
        },
      },
      "merge",
    );
  }
  await advance(clock, HOURS * 3_600_000);
  const wallS = (performance.now() - t0) / 1000;
  const reconciles = manager.reconciles - r0;
  manager.stop();
  follower.stop();
  await cluster.close();
  const extra = { rollouts: N, simulatedHours: HOURS, measurements, errorMeasurements: errors, aborted };
  report(
    "rollouts",
    `wall time, ${N} rollouts x ${HOURS} simulated hours of background analysis`,
    wallS,
    "s",
    extra,
  );
  report("rollouts", "measurements per wall second", measurements / wallS, "measurements/s", extra);
  report(
    "rollouts",
    "reconciles per wall second (Rollout + AnalysisRun)",
    reconciles / wallS,
    "reconciles/s",
    {
      reconciles,
    },
  );
  report("rollouts", "simulated time per wall second", (HOURS * 3600) / wallS, "x", {});
}

/** Advance virtual time firing every timer on the way (see test/rollouts/harness.ts). */
async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  for (;;) {
    await clock.settle();
    const next = clock.peek();
    if (next === undefined || next > end) break;
    await clock.runUntil(next);
  }
  await clock.runUntil(end);
}
