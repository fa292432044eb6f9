/**
 * History limits: AnalysisRuns of past attempts beyond spec.analysis.successfulRunHistoryLimit /
 * unsuccessfulRunHistoryLimit (default 5 each) are deleted, as are runs whose ReplicaSet is gone;
 * ReplicaSets beyond revisionHistoryLimit (default 10) are deleted. Pure rule table first, then
 * a Rollout updated many times against the embedded cluster in virtual time.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FunctionProvider } from "../analysis/provider.ts";
import type { AnalysisRun, AnalysisTemplate } from "../analysis/types.ts";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { advance } from "../../test/rollouts/harness.ts";
import { type ReplicaSet, analysisRunsToDelete } from "./controller.ts";
import { rollout, strictManager } from "./test-fixtures.ts";
import { POD_HASH_LABEL, type Rollout } from "./types.ts";

function run(
  name: string,
  created: string,
  phase: string | undefined,
  hash: string | null = "h1",
): AnalysisRun {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AnalysisRun",
    metadata: {
      name,
      namespace: "default",
      creationTimestamp: created,
      labels: hash === null ? {} : { [POD_HASH_LABEL]: hash },
    },
    spec: { metrics: [] },
    ...(phase === undefined ? {} : { status: { phase } as AnalysisRun["status"] }),
  };
}

function rs(hash: string, deleting = false): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${hash}`,
      labels: { [POD_HASH_LABEL]: hash },
      ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
  };
}

const t = (min: number) => `2026-01-01T00:${String(min).padStart(2, "0")}:00Z`;

describe("analysisRunsToDelete (upstream FilterAnalysisRunsToDelete)", () => {
  const cases: Array<{
    name: string;
    runs: AnalysisRun[];
    rss: KubeObject[];
    limits: [number, number];
    deleted: string[];
  }> = [
    {
      name: "under the limits nothing goes",
      runs: [run("a", t(1), "Successful"), run("b", t(2), "Failed")],
      rss: [rs("h1")],
      limits: [5, 5],
      deleted: [],
    },
    {
      name: "the oldest successful runs beyond the limit go",
      runs: [run("a", t(1), "Successful"), run("b", t(2), "Successful"), run("c", t(3), "Successful")],
      rss: [rs("h1")],
      limits: [2, 5],
      deleted: ["a"],
    },
    {
      name: "Failed, Error and Inconclusive share the unsuccessful limit",
      runs: [
        run("a", t(1), "Failed"),
        run("b", t(2), "Error"),
        run("c", t(3), "Inconclusive"),
        run("d", t(4), "Successful"),
      ],
      rss: [rs("h1")],
      limits: [5, 1],
      deleted: ["b", "a"],
    },
    {
      name: "running and pending runs never count against a limit",
      runs: [run("a", t(1), "Running"), run("b", t(2), undefined), run("c", t(3), "Successful")],
      rss: [rs("h1")],
      limits: [0, 0],
      deleted: ["c"],
    },
    {
      name: "a run without a pod-hash label or whose ReplicaSet is gone or deleting goes, whatever its phase",
      runs: [
        run("nolabel", t(1), "Running", null),
        run("gone", t(2), "Running", "h9"),
        run("deleting", t(3), "Successful", "h2"),
        run("kept", t(4), "Successful", "h1"),
      ],
      rss: [rs("h1"), rs("h2", true)],
      limits: [5, 5],
      deleted: ["deleting", "gone", "nolabel"],
    },
    {
      name: "equal creation times are ordered by name (newest = greatest)",
      runs: [run("x-1", t(1), "Successful"), run("x-2", t(1), "Successful")],
      rss: [rs("h1")],
      limits: [1, 5],
      deleted: ["x-1"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = analysisRunsToDelete(c.runs, c.rss, c.limits[0], c.limits[1]);
      expect(out.map((r) => r.metadata.name)).toEqual(c.deleted);
    });
  }
});

const TEMPLATE: AnalysisTemplate = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "check", namespace: "default" },
  spec: {
    metrics: [
      {
        name: "errors",
        successCondition: "result < 1",
        provider: { prometheus: { address: "http://prometheus:9090", query: "errors" } },
      },
    ],
  },
} as AnalysisTemplate;

const REF = { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", namespace: "default", name: "web" };

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function start(ro: Rollout): Promise<{
  client: KubeClient;
  advance(ms: number): Promise<void>;
  deploy(image: string): Promise<void>;
}> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, controllers: true, seed: "history-test" });
  await cluster.start();
  const client = cluster.adminClient("argo-rollouts");
  let image = "";
  const manager = strictManager({
    client,
    clock,
    // a version tagged bad-* measures 1 error (fails the step analysis), any other 0
    provider: new FunctionProvider(() => (image.startsWith("web:bad") ? 1 : 0)),
  });
  await manager.start();
  await client.create(TEMPLATE);
  await client.create(ro);
  await advance(clock, 60_000);
  stop = async () => {
    manager.stop();
    await cluster.close();
  };
  return {
    client,
    advance: (ms) => advance(clock, ms),
    async deploy(next) {
      image = next;
      const cur = await client.get<Rollout>(REF);
      const tpl = structuredClone(cur.spec.template!);
      (tpl.spec as { containers: Array<{ image: string }> }).containers[0]!.image = next;
      await client.patch(REF, { spec: { template: tpl } }, "merge");
      await advance(clock, 5 * 60_000);
    },
  };
}

async function runsByPhase(client: KubeClient): Promise<Record<string, string[]>> {
  const items = (
    await client.list<AnalysisRun>("argoproj.io/v1alpha1", "AnalysisRun", { namespace: "default" })
  ).items;
  const out: Record<string, string[]> = {};
  for (const r of items) {
    const phase = r.status?.phase ?? "Pending";
    out[phase] = [...(out[phase] ?? []), r.metadata.name ?? ""];
  }
  return out;
}

describe("history limits on a Rollout updated many times", () => {
  const steps = [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "check" }] } }];

  it("keeps the current and 5 past successful AnalysisRuns by default", async () => {
    const w = await start(rollout("web:v0", {}, steps));
    for (let i = 1; i <= 9; i++) await w.deploy(`web:v${i}`);
    const ro = await w.client.get<Rollout>(REF);
    expect(ro.status?.phase).toBe("Healthy");
    const phases = await runsByPhase(w.client);
    expect(Object.keys(phases)).toEqual(["Successful"]);
    const current = ro.status?.canary?.currentStepAnalysisRunStatus?.name;
    expect(current).toBeDefined();
    // the newest six: v4..v9 (run names carry the revision)
    expect(phases.Successful!.map((n) => n.split("-").at(-2)).sort()).toEqual([
      "10",
      "5",
      "6",
      "7",
      "8",
      "9",
    ]);
    expect(phases.Successful).toContain(current);
  });

  it("keeps 5 past unsuccessful AnalysisRuns by default", async () => {
    const w = await start(rollout("web:v0", {}, steps));
    for (let i = 1; i <= 7; i++) await w.deploy(`web:bad-${i}`);
    const ro = await w.client.get<Rollout>(REF);
    expect(ro.status?.abort).toBe(true);
    await w.deploy("web:v1");
    const phases = await runsByPhase(w.client);
    expect(phases.Failed).toHaveLength(5);
    expect(phases.Successful).toHaveLength(1);
  });

  it("honours spec.analysis.successfulRunHistoryLimit and unsuccessfulRunHistoryLimit", async () => {
    const w = await start(
      rollout(
        "web:v0",
        { analysis: { successfulRunHistoryLimit: 1, unsuccessfulRunHistoryLimit: 0 } },
        steps,
      ),
    );
    for (let i = 1; i <= 3; i++) await w.deploy(`web:v${i}`);
    await w.deploy("web:bad-4");
    await w.deploy("web:v5");
    const phases = await runsByPhase(w.client);
    expect(phases.Successful).toHaveLength(2); // the current one and one past
    expect(phases.Failed).toBeUndefined();
  });

  it("deletes ReplicaSets beyond revisionHistoryLimit and the AnalysisRuns of deleted ReplicaSets", async () => {
    const w = await start(rollout("web:v0", { revisionHistoryLimit: 2 }, steps));
    for (let i = 1; i <= 5; i++) await w.deploy(`web:v${i}`);
    const rss = (await w.client.list<ReplicaSet>("apps/v1", "ReplicaSet", { namespace: "default" })).items;
    expect(rss).toHaveLength(3);
    const hashes = new Set(rss.map((r) => r.metadata.labels?.[POD_HASH_LABEL]));
    const runs = (
      await w.client.list<AnalysisRun>("argoproj.io/v1alpha1", "AnalysisRun", { namespace: "default" })
    ).items;
    expect(runs.length).toBe(3); // v3, v4, v5: v1 and v2 lost their ReplicaSets (v0 never had a run)
    for (const r of runs) expect(hashes.has(r.metadata.labels?.[POD_HASH_LABEL])).toBe(true);
  });
});
