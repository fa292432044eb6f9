/**
 * The case study's canary in virtual time with everything real: the embedded
 * cluster (with its controllers), D's traffic model as the TrafficRouter and
 * series source, C's mock Prometheus evaluating the template's PromQL
 * in-process, and the analysis verdicts that emerge from the traffic.
 */
import { afterEach, describe, expect, it } from "vitest";
import { inProcessPrometheusApi, PrometheusProvider } from "../../engine/analysis/provider.ts";
import type { KubeObject } from "../../engine/kube/types.ts";
import { podTemplateHash } from "../../engine/rollouts/replicas.ts";
import type { Rollout } from "../../engine/rollouts/types.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { MockPrometheus } from "../../simulator/prometheus/mock.ts";
import { followReplicaSets, type ReplicaSetFollower } from "../../simulator/traffic/cluster.ts";
import type { VersionBehaviour } from "../../simulator/traffic/behaviour.ts";
import { TrafficModel } from "../../simulator/traffic/model.ts";
import { type Harness, fixture, startHarness } from "./harness.ts";

const SVC = { namespace: "default", service: "checkout" };

interface Sim {
  h: Harness;
  traffic: TrafficModel;
  prom: MockPrometheus;
  follower: ReplicaSetFollower;
  /** Deploy `image` with `behaviour` for its version; returns the new pod-template hash. */
  deploy(image: string, behaviour: VersionBehaviour): Promise<string>;
}

let sim: Sim | undefined;
afterEach(async () => {
  sim?.follower.stop();
  await sim?.h.stop();
  sim = undefined;
});

async function setup(opts: { rps: number; template?: string; noInitialDelay?: boolean }): Promise<Sim> {
  const clock = new VirtualClock();
  const traffic = new TrafficModel({ clock, seed: 42 });
  traffic.addService({ ...SVC, baseRps: opts.rps, diurnalAmplitude: 0, noiseSd: 0, weekendFactor: 1 });
  const prom = new MockPrometheus({ clock });
  prom.addProvider(traffic);
  const objects: KubeObject[] = [
    ...fixture(opts.template ?? "analysis-template-slo.yaml"),
    ...fixture("rollout-canary.yaml"),
  ];
  if (opts.noInitialDelay === true) {
    for (const m of (objects[0]!.spec as { metrics: Array<{ initialDelay?: string }> }).metrics)
      delete m.initialDelay;
  }
  if (opts.template !== undefined) {
    const ro = objects.find((o) => o.kind === "Rollout") as Rollout;
    ro.spec.strategy!.canary!.analysis!.templates = [{ templateName: objects[0]!.metadata.name! }];
  }
  const h = await startHarness({
    clock,
    provider: new PrometheusProvider({ apiFor: () => inProcessPrometheusApi(prom) }),
    trafficRouter: traffic,
    objects,
  });
  const follower = await followReplicaSets(h.client, traffic);
  await h.advance(5 * 60_000);
  const s: Sim = {
    h,
    traffic,
    prom,
    follower,
    deploy: async (image, behaviour) => {
      const ro = await h.rollout();
      const tpl = structuredClone(ro.spec.template!);
      (tpl.spec as { containers: Array<{ image: string }> }).containers[0]!.image = image;
      const hash = podTemplateHash(tpl, ro.status?.collisionCount);
      traffic.setVersionBehaviour(SVC, hash, behaviour);
      await h.setImage("checkout", image);
      return hash;
    },
  };
  sim = s;
  return s;
}

describe("canary against the traffic model and the mock Prometheus (virtual time)", () => {
  it("aborts a version with 2% errors at the first failed measurement and returns all traffic to stable", async () => {
    const { h, traffic, deploy } = await setup({ rps: 200 });
    const stable = (await h.rollout()).status!.stableRS!;
    const t0 = h.clock.now();
    const bad = await deploy("registry.example.com/checkout:1.1.0", { errorRatio: 0.02 });
    await h.advance(15 * 60_000);
    const ro = await h.rollout();
    expect(ro.status).toMatchObject({
      phase: "Degraded",
      abort: true,
      stableRS: stable,
      currentPodHash: bad,
    });
    const run = (await h.runs()).find((r) => r.metadata.labels?.["rollouts-pod-template-hash"] === bad)!;
    expect(run.status!.phase).toBe("Failed");
    const er = run.status!.metricResults!.find((m) => m.name === "error-rate")!;
    // the first measurement with data is the failed one
    expect(er.measurements!.filter((m) => m.phase === "Failed")).toHaveLength(1);
    expect(er.measurements!.every((m) => m.phase !== "Successful")).toBe(true);
    expect(Number(/\[(.*)\]/.exec(er.measurements!.at(-1)!.value!)![1])).toBeGreaterThan(0.01);
    const history = traffic.weightHistory(SVC);
    const last = history.at(-1)!;
    expect(last.weights).toMatchObject({ [stable]: 100 });
    expect(last.weights[bad] ?? 0).toBe(0);
    const abortedAt = Date.parse(ro.status!.abortedAt!);
    expect(abortedAt - t0).toBeLessThanOrEqual(2 * 60_000);
    expect(history.some((c) => c.weights[bad] === 5)).toBe(true);
  });

  it("promotes a good version after all steps", async () => {
    const { h, traffic, deploy } = await setup({ rps: 200 });
    const good = await deploy("registry.example.com/checkout:1.1.0", {
      errorRatio: 0.001,
      latency: { p50Ms: 40, p99Ms: 250 },
    });
    await h.advance(20 * 60_000);
    const ro = await h.rollout();
    expect(ro.status).toMatchObject({ phase: "Healthy", stableRS: good });
    const [run] = await h.runs();
    expect(run!.status!.phase).toBe("Successful");
    const er = run!.status!.metricResults!.find((m) => m.name === "error-rate")!;
    expect(er.failed ?? 0).toBe(0);
    expect(er.successful).toBeGreaterThanOrEqual(10);
    expect(traffic.getWeights(SVC)).toMatchObject({ stableHash: good, canaryWeight: 0 });
  });

  it("without initialDelay the first measurements of a canary that just started have no data (Error, retried 10 s later)", async () => {
    const { h, deploy } = await setup({ rps: 200, noInitialDelay: true });
    await deploy("registry.example.com/checkout:1.1.0", { errorRatio: 0.001 });
    await h.advance(3 * 60_000);
    const [run] = await h.runs();
    const ms = run!.status!.metricResults!.find((m) => m.name === "error-rate")!.measurements!;
    expect(ms[0]).toMatchObject({ phase: "Error", value: "[]" });
    expect(ms[0]!.message).toContain("no data returned from the metric provider");
    expect(Date.parse(ms[1]!.finishedAt!) - Date.parse(ms[0]!.finishedAt!)).toBe(10_000);
    expect(ms.at(-1)!.phase).toBe("Successful");
  });

  it("a Prometheus outage gives 5 consecutive errors and then aborts", async () => {
    const { h, prom, deploy } = await setup({ rps: 200 });
    prom.setFault({ kind: "unavailable" });
    await deploy("registry.example.com/checkout:1.1.0", { errorRatio: 0.001 });
    await h.advance(5 * 60_000);
    const [run] = await h.runs();
    expect(run!.status!.phase).toBe("Error");
    const er = run!.status!.metricResults!.find((m) => m.name === "error-rate")!;
    expect(er.consecutiveError).toBe(5);
    expect(er.measurements![0]!.message).toBe("unavailable: Service Unavailable (injected fault)");
    expect((await h.rollout()).status).toMatchObject({ phase: "Degraded", abort: true });
  });

  describe("a low-traffic service (0.05 rps: the 5% canary sees almost no requests)", () => {
    it("unguarded: no data / NaN aborts a version that was fine", async () => {
      const { h, deploy } = await setup({ rps: 0.05 });
      await deploy("registry.example.com/checkout:1.1.0", { errorRatio: 0.001 });
      await h.advance(20 * 60_000);
      const ro = await h.rollout();
      expect(ro.status).toMatchObject({ phase: "Degraded", abort: true });
      const [run] = await h.runs();
      const er = run!.status!.metricResults!.find((m) => m.name === "error-rate")!;
      const ms = er.measurements!;
      // what stopped it: an Error with no data (empty vector) or a Failed NaN (0/0)
      const last = ms.at(-1)!;
      expect(
        (last.phase === "Error" && last.message!.includes("no data returned from the metric provider")) ||
          (last.phase === "Failed" && last.value === "[NaN]"),
      ).toBe(true);
    });

    it("guarded with len(result) == 0 || isNaN(result[0]): the fine version is promoted", async () => {
      const { h, deploy } = await setup({ rps: 0.05, template: "analysis-template-slo-guarded.yaml" });
      const good = await deploy("registry.example.com/checkout:1.1.0", { errorRatio: 0.001 });
      await h.advance(20 * 60_000);
      expect((await h.rollout()).status).toMatchObject({ phase: "Healthy", stableRS: good });
    });
  });
});
