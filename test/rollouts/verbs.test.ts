/** Operator verbs and step kinds against the embedded cluster in virtual time. */
import { afterEach, describe, expect, it } from "vitest";
import { FunctionProvider } from "../../engine/analysis/provider.ts";
import type { MetricValue } from "../../engine/analysis/types.ts";
import type { KubeObject } from "../../engine/kube/types.ts";
import { rollout as baseRollout } from "../../engine/rollouts/test-fixtures.ts";
import type { CanaryStep } from "../../engine/rollouts/types.ts";
import { abort, pause, promote, retry, undo } from "../../engine/rollouts/verbs.ts";
import { type Harness, startHarness } from "./harness.ts";

/** The shared test Rollout `default/web` at web:1, with `extra` merged into its canary strategy. */
function rollout(steps: CanaryStep[], extra: Record<string, unknown> = {}): KubeObject {
  return baseRollout("web:1", { strategy: { canary: { steps, ...extra } } }, steps) as unknown as KubeObject;
}

const template = (successCondition: string): KubeObject => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "smoke", namespace: "default" },
  spec: {
    metrics: [
      {
        name: "smoke",
        successCondition,
        failureCondition: "result[0] > 10",
        provider: { prometheus: { query: "q" } },
      },
    ],
  },
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function setup(objects: KubeObject[], value: MetricValue = [1]): Promise<Harness> {
  h = await startHarness({ provider: new FunctionProvider(() => value), objects });
  await h.advance(30_000);
  return h;
}

describe("operator verbs", () => {
  it("an indefinite pause waits for promote; promote moves on to the end", async () => {
    const h = await setup([rollout([{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }])]);
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    let ro = await h.rollout("web");
    expect(ro.status).toMatchObject({
      phase: "Paused",
      currentStepIndex: 1,
      message: "CanaryPauseStep",
      controllerPause: true,
    });
    expect(ro.status!.pauseConditions!.map((p) => p.reason)).toEqual(["CanaryPauseStep"]);
    await h.advance(3_600_000);
    expect((await h.rollout("web")).status!.currentStepIndex).toBe(1);
    await promote(h.client, "default", "web");
    await h.advance(60_000);
    ro = await h.rollout("web");
    expect(ro.status).toMatchObject({
      phase: "Healthy",
      currentStepIndex: 3,
      stableRS: ro.status!.currentPodHash,
    });
  });

  it("promote --full skips the remaining steps", async () => {
    const h = await setup([rollout([{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }])]);
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    await promote(h.client, "default", "web", { full: true });
    await h.advance(60_000);
    const ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Healthy", currentStepIndex: 4 });
    expect(ro.status!.promoteFull).toBeUndefined();
  });

  it("abort returns to stable (Degraded, weight 0); retry moves toward the spec again", async () => {
    const h = await setup([rollout([{ setWeight: 25 }, { pause: {} }])]);
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    await abort(h.client, "default", "web");
    await h.advance(60_000);
    let ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Degraded", abort: true, currentStepIndex: 0 });
    expect(ro.status!.message).toBe("RolloutAborted: Rollout aborted update to revision 2");
    expect(ro.status!.canary!.weights!.canary.weight).toBe(0);
    expect(ro.status!.abortedAt).toBeDefined();
    const canaryRs = (await h.replicaSets()).find(
      (r) => r.metadata.name === `web-${ro.status!.currentPodHash}`,
    )!;
    expect(canaryRs.spec.replicas).toBe(0);
    await retry(h.client, "default", "web");
    await h.advance(60_000);
    ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Paused", currentStepIndex: 1 });
    expect(ro.status!.abort).toBeFalsy();
  });

  it("a new spec after an abort starts a fresh rollout", async () => {
    const h = await setup([rollout([{ setWeight: 25 }, { pause: { duration: "1m" } }])]);
    await h.setImage("web", "web:2");
    await h.advance(10_000);
    await abort(h.client, "default", "web");
    await h.advance(10_000);
    await h.setImage("web", "web:3");
    await h.advance(5 * 60_000);
    const ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Healthy", stableRS: ro.status!.currentPodHash });
    expect(h.log.ofType("rollout.updated").map((e) => e.canaryImages[0])).toEqual(["web:2", "web:3"]);
  });

  it("pause (spec.paused) stops progress until promote", async () => {
    const h = await setup([rollout([{ setWeight: 25 }, { pause: { duration: 30 } }, { setWeight: 50 }])]);
    await pause(h.client, "default", "web");
    await h.setImage("web", "web:2");
    await h.advance(5 * 60_000);
    let ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Paused", message: "manually paused" });
    await promote(h.client, "default", "web");
    await h.advance(5 * 60_000);
    ro = await h.rollout("web");
    expect(ro.status!.phase).toBe("Healthy");
  });

  it("undo rolls back to the previous revision's template as a new revision", async () => {
    const h = await setup([rollout([{ setWeight: 50 }, { pause: { duration: 10 } }])]);
    const first = (await h.rollout("web")).status!.stableRS;
    await h.setImage("web", "web:2");
    await h.advance(5 * 60_000);
    await undo(h.client, "default", "web");
    await h.advance(5 * 60_000);
    const ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Healthy", stableRS: first, currentPodHash: first });
    const rs = (await h.replicaSets()).find((r) => r.metadata.name === `web-${first}`)!;
    expect(rs.metadata.annotations!["rollout.argoproj.io/revision"]).toBe("3");
  });
});

describe("step kinds", () => {
  it("an inline analysis step blocks until its run completes; Successful moves on", async () => {
    const h = await setup([
      template("result[0] < 5"),
      rollout([{ setWeight: 25 }, { analysis: { templates: [{ templateName: "smoke" }] } }]),
    ]);
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    const ro = await h.rollout("web");
    expect(ro.status!.phase).toBe("Healthy");
    const [run] = await h.runs();
    expect(run!.metadata.labels).toMatchObject({ "rollout-type": "Step", "step-index": "1" });
    expect(run!.status!.phase).toBe("Successful");
  });

  it("an Inconclusive analysis pauses with InconclusiveAnalysisRun; promote continues", async () => {
    const h = await setup(
      [
        template("result[0] < 5"),
        rollout([{ setWeight: 25 }, { analysis: { templates: [{ templateName: "smoke" }] } }]),
      ],
      [7],
    );
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    let ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Paused", message: "InconclusiveAnalysisRun" });
    expect(ro.status!.canary!.currentStepAnalysisRunStatus).toMatchObject({ status: "Inconclusive" });
    await promote(h.client, "default", "web");
    await h.advance(60_000);
    ro = await h.rollout("web");
    expect(ro.status!.phase).toBe("Healthy");
  });

  it("a Failed inline analysis aborts", async () => {
    const h = await setup(
      [
        template("result[0] < 5"),
        rollout([{ setWeight: 25 }, { analysis: { templates: [{ templateName: "smoke" }] } }]),
      ],
      [20],
    );
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    const ro = await h.rollout("web");
    expect(ro.status).toMatchObject({ phase: "Degraded", abort: true });
    expect(ro.status!.message).toBe(
      'RolloutAborted: Rollout aborted update to revision 2: Metric "smoke" assessed Failed due to failed (1) > failureLimit (0)',
    );
  });

  it("without traffic routing the weight is approximated by replicas (41% of 10 = 4 pods)", async () => {
    const ro = rollout([{ setWeight: 41 }, { pause: {} }]);
    (ro.spec as { replicas: number }).replicas = 10;
    const h = await setup([ro]);
    await h.setImage("web", "web:2");
    await h.advance(60_000);
    const status = (await h.rollout("web")).status!;
    const rs = await h.replicaSets();
    const canary = rs.find((r) => r.metadata.name === `web-${status.currentPodHash}`)!;
    const stable = rs.find((r) => r.metadata.name === `web-${status.stableRS}`)!;
    expect([canary.spec.replicas, stable.spec.replicas]).toEqual([4, 6]);
  });

  it("blueGreen is refused with an InvalidSpec condition", async () => {
    const ro = rollout([]);
    (ro.spec as { strategy: unknown }).strategy = { blueGreen: { activeService: "web" } };
    const h = await setup([ro]);
    const status = (await h.rollout("web")).status!;
    expect(status.phase).toBe("Degraded");
    expect(status.conditions!.find((c) => c.type === "InvalidSpec")).toMatchObject({
      status: "True",
      message: "blueGreen strategy is not supported by gitops-testbed yet",
    });
  });
});
