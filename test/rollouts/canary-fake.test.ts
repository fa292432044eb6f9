/**
 * The case study's canary in virtual time against the embedded cluster, with a
 * small fake metrics provider (values per image). The same scenarios against
 * the mock Prometheus and the traffic model are in canary-sim.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FunctionProvider } from "../../engine/analysis/provider.ts";
import type { MetricValue } from "../../engine/analysis/types.ts";
import type { TrafficRouter, TrafficTarget, TrafficWeights } from "../../engine/core/traffic-router.ts";
import type { KubeClient, KubeObject } from "../../engine/kube/types.ts";
import { POD_HASH_LABEL } from "../../engine/rollouts/types.ts";
import { type Harness, fixture, startHarness } from "./harness.ts";

class RecordingRouter implements TrafficRouter {
  readonly history: Array<{ t: number; canary: string | undefined; stable: string; weight: number }> = [];
  private readonly current = new Map<string, TrafficWeights>();
  constructor(private readonly now: () => number) {}
  setWeight(target: TrafficTarget, canaryHash: string | undefined, stableHash: string, weight: number): void {
    this.current.set(`${target.namespace}/${target.service}`, {
      canaryHash,
      stableHash,
      canaryWeight: weight,
    });
    this.history.push({ t: this.now(), canary: canaryHash, stable: stableHash, weight });
  }
  getWeights(target: TrafficTarget): TrafficWeights | undefined {
    return this.current.get(`${target.namespace}/${target.service}`);
  }
}

type Behaviour = { errorRate: MetricValue; p99: MetricValue } | "outage";

/** Answers each query from the behaviour of the image whose pod hash the query names. */
function providerFor(behaviours: Record<string, Behaviour>, client: () => KubeClient) {
  return new FunctionProvider(async (metric) => {
    const q = metric.provider.prometheus!.query;
    const rs = (await client().list("apps/v1", "ReplicaSet", { namespace: "default" })).items;
    const hit = rs.find((r) => q.includes(`"${r.metadata.labels?.[POD_HASH_LABEL]}"`));
    const tpl = (hit?.spec as { template?: { spec?: { containers?: Array<{ image: string }> } } } | undefined)
      ?.template;
    const image = tpl?.spec?.containers?.[0]?.image ?? "";
    const b = behaviours[image.split(":")[1] ?? ""] ?? { errorRate: [0.001], p99: [0.2] };
    if (b === "outage")
      throw new Error(
        'Post "http://prometheus.monitoring:9090/api/v1/query": dial tcp 10.0.0.9:9090: connect: connection refused',
      );
    return metric.name === "error-rate" ? b.errorRate : b.p99;
  });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function setup(
  behaviours: Record<string, Behaviour>,
  template = "analysis-template-slo.yaml",
): Promise<{ h: Harness; router: RecordingRouter }> {
  let client: KubeClient | undefined;
  const objects: KubeObject[] = [...fixture(template), ...fixture("rollout-canary.yaml")];
  if (template !== "analysis-template-slo.yaml") {
    const ro = objects.find((o) => o.kind === "Rollout")!;
    (
      ro.spec as { strategy: { canary: { analysis: { templates: Array<{ templateName: string }> } } } }
    ).strategy.canary.analysis.templates = [{ templateName: "slo-guarded" }];
  }
  let routerNow = () => 0;
  const router = new RecordingRouter(() => routerNow());
  const harness = await startHarness({
    provider: providerFor(behaviours, () => client!),
    trafficRouter: router,
    objects,
  });
  client = harness.client;
  routerNow = () => harness.clock.now();
  h = harness;
  return { h: harness, router };
}

describe("canary with background analysis (fake metrics)", () => {
  it("first deploy goes straight to stable and is Healthy", async () => {
    const { h } = await setup({});
    await h.advance(60_000);
    const ro = await h.rollout();
    expect(ro.status).toMatchObject({
      phase: "Healthy",
      currentStepIndex: 6,
      stableRS: ro.status!.currentPodHash,
      availableReplicas: 10,
    });
    expect(await h.runs()).toHaveLength(0);
  });

  it("aborts a 2% error version at the first failed measurement and returns all traffic to stable", async () => {
    const { h, router } = await setup({ "1.1.0-bad": { errorRate: [0.02], p99: [0.2] } });
    await h.advance(60_000);
    const stable = (await h.rollout()).status!.stableRS!;
    const t0 = h.clock.now();
    await h.setImage("checkout", "registry.example.com/checkout:1.1.0-bad");
    await h.advance(5 * 60_000);
    const ro = await h.rollout();
    const canary = ro.status!.currentPodHash!;
    expect(canary).not.toBe(stable);
    expect(ro.status).toMatchObject({ phase: "Degraded", abort: true, stableRS: stable });
    const prog = ro.status!.conditions!.find((c) => c.type === "Progressing")!;
    expect(prog).toMatchObject({ status: "False", reason: "RolloutAborted" });
    expect(prog.message).toBe(
      'Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
    );
    expect(ro.status!.canary!.weights).toEqual({
      canary: { podTemplateHash: canary, weight: 0 },
      stable: { podTemplateHash: stable, weight: 100 },
    });
    // 5% to the canary, then back to 0 at the first (failed) measurement
    const weights = router.history.filter((e) => e.canary === canary).map((e) => e.weight);
    expect(weights).toEqual([5, 0]);
    const abortAt = router.history.find((e) => e.canary === canary && e.weight === 0)!.t;
    expect(abortAt - t0).toBeLessThanOrEqual(60_000);
    const aborted = h.log.ofType("rollout.aborted");
    expect(aborted).toHaveLength(1);
    expect(aborted[0]).toMatchObject({ metric: "error-rate", metricValue: "[0.02]", service: "checkout" });
    const [run] = (await h.runs()).filter((r) => r.metadata.labels?.[POD_HASH_LABEL] === canary);
    expect(run!.status!.phase).toBe("Failed");
    expect(run!.status!.metricResults!.find((m) => m.name === "error-rate")!.measurements).toHaveLength(1);
    // canary scaled down after abortScaleDownDelaySeconds
    const rs = (await h.replicaSets()).find((r) => r.metadata.labels?.[POD_HASH_LABEL] === canary)!;
    expect(rs.spec.replicas).toBe(0);
    const events = (await h.client.list("v1", "Event", { namespace: "default" })).items.map((e) => e.reason);
    expect(events).toEqual(expect.arrayContaining(["RolloutUpdated", "RolloutAborted", "AnalysisRunFailed"]));
  });

  it("promotes a good version after all steps and terminates the background analysis as Successful", async () => {
    const { h, router } = await setup({});
    await h.advance(60_000);
    await h.setImage("checkout", "registry.example.com/checkout:1.1.0");
    await h.advance(20 * 60_000);
    const ro = await h.rollout();
    expect(ro.status).toMatchObject({
      phase: "Healthy",
      stableRS: ro.status!.currentPodHash,
      currentStepIndex: 6,
    });
    const runs = await h.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toMatchObject({ phase: "Successful", message: "Run Terminated" });
    const er = runs[0]!.status!.metricResults!.find((m) => m.name === "error-rate")!;
    expect(er.count).toBeGreaterThanOrEqual(14);
    expect(router.history.map((e) => e.weight)).toEqual(expect.arrayContaining([5, 25, 50, 0]));
    expect(h.log.ofType("rollout.completed")).toHaveLength(1);
    expect(h.log.ofType("rollout.step").map((e) => e.step)).toEqual([
      "setWeight: 5",
      "pause: 10m",
      "setWeight: 25",
      "pause: 2m",
      "setWeight: 50",
      "pause: 2m",
    ]);
  });

  it("a Prometheus outage gives 5 consecutive errors (10 s apart) and then aborts", async () => {
    const { h } = await setup({ "1.1.0": "outage" });
    await h.advance(60_000);
    await h.setImage("checkout", "registry.example.com/checkout:1.1.0");
    await h.advance(5 * 60_000);
    const ro = await h.rollout();
    expect(ro.status).toMatchObject({ phase: "Degraded", abort: true });
    const [run] = await h.runs();
    expect(run!.status!.phase).toBe("Error");
    const er = run!.status!.metricResults!.find((m) => m.name === "error-rate")!;
    expect(er).toMatchObject({ error: 5, consecutiveError: 5 });
    expect(er.count ?? 0).toBe(0);
    const times = er.measurements!.map((m) => Date.parse(m.finishedAt!));
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([10_000, 10_000, 10_000, 10_000]);
    expect(ro.status!.conditions!.find((c) => c.type === "Progressing")!.message).toMatch(
      /^Rollout aborted update to revision 2: Metric "(error-rate|p99-latency)" assessed Error due to consecutiveErrors \(5\) > consecutiveErrorLimit \(4\): "Error Message: Post /,
    );
  });

  describe("low-traffic service", () => {
    it("unguarded: an empty result is an Error measurement (no data) and 5 of them abort", async () => {
      const { h } = await setup({ "1.1.0": { errorRate: [], p99: [] } });
      await h.advance(60_000);
      await h.setImage("checkout", "registry.example.com/checkout:1.1.0");
      await h.advance(5 * 60_000);
      const [run] = await h.runs();
      expect(run!.status!.phase).toBe("Error");
      const m = run!.status!.metricResults!.find((r) => r.name === "error-rate")!.measurements![0]!;
      expect(m).toMatchObject({ phase: "Error", value: "[]" });
      expect(m.message).toContain("metric result is nil or empty: no data returned from the metric provider");
      expect((await h.rollout()).status!.abort).toBe(true);
    });

    it("unguarded: NaN (0/0) compares false and fails at the first measurement", async () => {
      const { h } = await setup({ "1.1.0": { errorRate: [Number.NaN], p99: [Number.NaN] } });
      await h.advance(60_000);
      await h.setImage("checkout", "registry.example.com/checkout:1.1.0");
      await h.advance(2 * 60_000);
      const [run] = await h.runs();
      expect(run!.status!.phase).toBe("Failed");
      expect((await h.rollout()).status).toMatchObject({ abort: true, phase: "Degraded" });
    });

    it.each([
      ["empty", [] as number[]],
      ["NaN", [Number.NaN]],
    ])(
      "guarded with len(result) == 0 || isNaN(result[0]): %s passes and the version is promoted",
      async (_n, v) => {
        const { h } = await setup(
          { "1.1.0": { errorRate: v, p99: v } },
          "analysis-template-slo-guarded.yaml",
        );
        await h.advance(60_000);
        await h.setImage("checkout", "registry.example.com/checkout:1.1.0");
        await h.advance(20 * 60_000);
        const ro = await h.rollout();
        expect(ro.status).toMatchObject({ phase: "Healthy", stableRS: ro.status!.currentPodHash });
      },
    );
  });
});
