import { podTemplateHash } from "../../../engine/rollouts/replicas.ts";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "../../../engine/core/events.ts";
import { type KubeClient, KubeApiError, type KubeObject } from "../../../engine/kube/types.ts";
import { SeededRng } from "../../clock/rng.ts";
import { VirtualClock } from "../../clock/virtual.ts";
import { EmbeddedCluster } from "../cluster.ts";
import {
  type BuiltinControllers,
  crashLoopRestarts,
  type PodBehaviour,
  REVISION,
  startBuiltinControllers,
} from "./index.ts";

type Json = Record<string, unknown>;
const NS = "default";

interface Env {
  clock: VirtualClock;
  kube: KubeClient;
  ctl: BuiltinControllers;
  log: MemoryEventLog;
  cluster: EmbeddedCluster;
}

/**
 * Advance virtual time by `ms`, running every timer due on the way, including
 * timers scheduled by async work that settles after the last due timer
 * (VirtualClock.runFor skips those: it moves time to the end first).
 */
async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  await clock.runAll(ms);
  await clock.runUntil(end);
}

let running: BuiltinControllers | undefined;
afterEach(() => {
  running?.stop();
  running = undefined;
});

async function env(
  behaviour?: PodBehaviour,
  wrap: (client: KubeClient) => KubeClient = (c) => c,
  opts: Parameters<typeof startBuiltinControllers>[2] = { rng: new SeededRng("ctl") },
): Promise<Env> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock });
  const log = new MemoryEventLog();
  opts.events = log;
  if (behaviour !== undefined) opts.behaviour = behaviour;
  const ctl = startBuiltinControllers(
    wrap(cluster.adminClient("system:kube-controller-manager")),
    clock,
    opts,
  );
  running = ctl;
  await ctl.ready;
  return { clock, kube: cluster.adminClient("tester"), ctl, log, cluster };
}

/** The controllers' writes audited since `from`, as "verb Kind[/subresource] name". */
function writesSince(cluster: EmbeddedCluster, from: number): string[] {
  return cluster
    .audit()
    .slice(from)
    .filter((e) => e.identity === "system:kube-controller-manager")
    .map((e) => `${e.verb} ${e.kind}${e.subresource === undefined ? "" : `/${e.subresource}`} ${e.name}`);
}

function deployment(name: string, image: string, replicas: number, spec: Json = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image }] },
      },
      ...spec,
    },
  };
}

const ref = (kind: string, name: string) => ({
  apiVersion: kind === "Pod" ? "v1" : kind === "Job" ? "batch/v1" : "apps/v1",
  kind,
  name,
  namespace: NS,
});
const statusOf = (o: KubeObject) => (o.status ?? {}) as Json;
const cond = (o: KubeObject, type: string) =>
  ((statusOf(o).conditions ?? []) as Json[]).find((c) => c.type === type);
const imageOf = (pod: KubeObject) => (((pod.spec as Json).containers as Json[])[0] as Json).image;

async function list(kube: KubeClient, kind: string): Promise<KubeObject[]> {
  return (await kube.list(ref(kind, "").apiVersion, kind, { namespace: NS })).items;
}

async function setImage(kube: KubeClient, name: string, image: string): Promise<void> {
  await kube.patch(
    ref("Deployment", name),
    { spec: { template: { spec: { containers: [{ name: "app", image }] } } } },
    "strategic",
  );
}

describe("built-in controllers", () => {
  it("a Deployment converges to Available with upstream-shaped status", async () => {
    const { clock, kube } = await env();
    await kube.create(deployment("web", "web:v1", 3));
    await advance(clock, 60_000);
    const d = await kube.get(ref("Deployment", "web"));
    expect(statusOf(d)).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(statusOf(d).unavailableReplicas).toBeUndefined();
    expect(cond(d, "Available")).toMatchObject({ status: "True", reason: "MinimumReplicasAvailable" });
    expect(cond(d, "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
    expect(d.metadata.annotations?.[REVISION]).toBe("1");

    const [rs, ...more] = await list(kube, "ReplicaSet");
    expect(more).toEqual([]);
    const hash = rs!.metadata.labels?.["pod-template-hash"];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.metadata.ownerReferences).toEqual([
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "web",
        uid: d.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(statusOf(rs!)).toMatchObject({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });

    const pods = await list(kube, "Pod");
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({
        kind: "ReplicaSet",
        name: rs!.metadata.name,
        controller: true,
      });
      expect((p.spec as Json).nodeName).toBe("embedded-node-1");
      expect(statusOf(p).phase).toBe("Running");
      expect(cond(p, "Ready")?.status).toBe("True");
      expect((statusOf(p).containerStatuses as Json[])[0]).toMatchObject({ ready: true, restartCount: 0 });
    }
  });

  it("pod-template-hash is stable and changes with the template", () => {
    const t = (deployment("a", "x:1", 1).spec as Json).template;
    expect(podTemplateHash(t)).toBe(podTemplateHash(structuredClone(t)));
    expect(podTemplateHash(t)).not.toBe(podTemplateHash((deployment("a", "x:2", 1).spec as Json).template));
    expect(podTemplateHash(t, 1)).not.toBe(podTemplateHash(t));
  });

  it("an image change rolls out within maxSurge and maxUnavailable", async () => {
    const { clock, kube } = await env();
    const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    await kube.create(deployment("web", "web:v1", 4, { strategy }));
    await advance(clock, 60_000);
    let maxPods = 0;
    let minAvailable = Number.POSITIVE_INFINITY;
    const watch = await kube.watch("v1", "Pod", { namespace: NS }, () => undefined);
    await setImage(kube, "web", "web:v2");
    for (let t = 0; t < 120; t++) {
      await advance(clock, 1000);
      const pods = await list(kube, "Pod");
      maxPods = Math.max(maxPods, pods.length);
      minAvailable = Math.min(minAvailable, pods.filter((p) => cond(p, "Ready")?.status === "True").length);
    }
    watch.stop();
    expect(maxPods).toBe(5);
    expect(minAvailable).toBeGreaterThanOrEqual(4);
    const pods = await list(kube, "Pod");
    expect(pods.map(imageOf)).toEqual(["web:v2", "web:v2", "web:v2", "web:v2"]);
    const d = await kube.get(ref("Deployment", "web"));
    expect(d.metadata.annotations?.[REVISION]).toBe("2");
    expect(statusOf(d)).toMatchObject({
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 4,
      availableReplicas: 4,
    });
    expect(cond(d, "Progressing")?.reason).toBe("NewReplicaSetAvailable");
    const rss = await list(kube, "ReplicaSet");
    expect(rss.map((rs) => [rs.metadata.annotations?.[REVISION], (rs.spec as Json).replicas]).sort()).toEqual(
      [
        ["1", 0],
        ["2", 4],
      ],
    );
  });

  it("rolling back to an earlier template reuses its ReplicaSet with the next revision", async () => {
    const { clock, kube } = await env();
    await kube.create(deployment("web", "web:v1", 2));
    await advance(clock, 60_000);
    const [first] = await list(kube, "ReplicaSet");
    await setImage(kube, "web", "web:v2");
    await advance(clock, 60_000);
    await setImage(kube, "web", "web:v1");
    await advance(clock, 60_000);
    const rss = await list(kube, "ReplicaSet");
    expect(rss).toHaveLength(2);
    const again = rss.find((rs) => rs.metadata.uid === first!.metadata.uid)!;
    expect(again.metadata.annotations?.[REVISION]).toBe("3");
    expect((again.spec as Json).replicas).toBe(2);
    expect((await kube.get(ref("Deployment", "web"))).metadata.annotations?.[REVISION]).toBe("3");
  });

  it("a paused Deployment does not roll out until resumed", async () => {
    const { clock, kube } = await env();
    await kube.create(deployment("web", "web:v1", 2));
    await advance(clock, 60_000);
    await kube.patch(ref("Deployment", "web"), { spec: { paused: true } }, "merge");
    await setImage(kube, "web", "web:v2");
    await advance(clock, 60_000);
    expect((await list(kube, "Pod")).map(imageOf)).toEqual(["web:v1", "web:v1"]);
    expect(cond(await kube.get(ref("Deployment", "web")), "Progressing")).toMatchObject({
      status: "Unknown",
      reason: "DeploymentPaused",
    });
    await kube.patch(ref("Deployment", "web"), { spec: { paused: false } }, "merge");
    await advance(clock, 60_000);
    expect((await list(kube, "Pod")).map(imageOf)).toEqual(["web:v2", "web:v2"]);
  });

  it("Recreate scales the old ReplicaSet to zero before the new one starts", async () => {
    const { clock, kube } = await env();
    await kube.create(deployment("db", "db:v1", 2, { strategy: { type: "Recreate" } }));
    await advance(clock, 60_000);
    await setImage(kube, "db", "db:v2");
    let mixed = false;
    for (let t = 0; t < 60; t++) {
      await advance(clock, 1000);
      const images = new Set((await list(kube, "Pod")).map(imageOf));
      if (images.size > 1) mixed = true;
    }
    expect(mixed).toBe(false);
    expect((await list(kube, "Pod")).map(imageOf)).toEqual(["db:v2", "db:v2"]);
  });

  it("a crash-looping release stalls and reports ProgressDeadlineExceeded", async () => {
    const behaviour: PodBehaviour = (pod) =>
      pod.images.includes("web:bad") ? { ready: false, crashLoop: true } : undefined;
    const { clock, kube, log } = await env(behaviour);
    await kube.create(deployment("web", "web:v1", 4, { progressDeadlineSeconds: 120 }));
    await advance(clock, 60_000);
    await setImage(kube, "web", "web:bad");
    await advance(clock, 60_000);
    let d = await kube.get(ref("Deployment", "web"));
    expect(cond(d, "Progressing")?.status).toBe("True");
    await advance(clock, 5 * 60_000);
    d = await kube.get(ref("Deployment", "web"));
    expect(cond(d, "Progressing")).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    expect(String(cond(d, "Progressing")?.message)).toMatch(
      /^ReplicaSet "web-\w+" has timed out progressing\.$/,
    );
    // maxUnavailable 25% of 4 = 1: three old pods keep serving
    expect(statusOf(d)).toMatchObject({ availableReplicas: 3, updatedReplicas: 2 });
    expect(cond(d, "Available")?.status).toBe("True");
    const bad = (await list(kube, "Pod")).filter((p) => imageOf(p) === "web:bad");
    expect(bad).toHaveLength(2);
    const cs = (statusOf(bad[0]!).containerStatuses as Json[])[0] as Json;
    expect((cs.state as Json).waiting).toMatchObject({ reason: "CrashLoopBackOff" });
    expect(cs.restartCount).toBeGreaterThanOrEqual(3);
    expect(cs.ready).toBe(false);
    expect(log.ofType("cluster.deployment.progressDeadlineExceeded")).toHaveLength(1);
  });

  it("never-ready pods run but keep the Deployment unavailable", async () => {
    const { clock, kube } = await env(() => ({ ready: false }));
    await kube.create(deployment("web", "web:v1", 2));
    await advance(clock, 60_000);
    const pods = await list(kube, "Pod");
    expect(pods.map((p) => [statusOf(p).phase, cond(p, "Ready")?.status])).toEqual([
      ["Running", "False"],
      ["Running", "False"],
    ]);
    const d = await kube.get(ref("Deployment", "web"));
    expect(cond(d, "Available")).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
    expect(statusOf(d).unavailableReplicas).toBe(2);
  });

  it("setBehaviour with running: true makes running pods crash", async () => {
    const { clock, kube, ctl } = await env();
    await kube.create(deployment("web", "web:v1", 2));
    await advance(clock, 60_000);
    ctl.setBehaviour(() => ({ ready: false, crashLoop: true }), { running: true });
    await advance(clock, 60_000);
    const d = await kube.get(ref("Deployment", "web"));
    expect(statusOf(d).availableReplicas).toBeUndefined();
    const cs = (statusOf((await list(kube, "Pod"))[0]!).containerStatuses as Json[])[0] as Json;
    expect(cs.restartCount).toBeGreaterThan(0);
  });

  it("scales up and down", async () => {
    const { clock, kube } = await env();
    await kube.create(deployment("web", "web:v1", 2));
    await advance(clock, 30_000);
    for (const n of [5, 1, 0, 3]) {
      await kube.patch(ref("Deployment", "web"), { spec: { replicas: n } }, "merge", {
        subresource: "scale",
      });
      await advance(clock, 30_000);
      expect(await list(kube, "Pod")).toHaveLength(n);
      const d = await kube.get(ref("Deployment", "web"));
      expect(statusOf(d).replicas ?? 0).toBe(n);
      expect(statusOf(d).availableReplicas ?? 0).toBe(n);
    }
    expect(await list(kube, "ReplicaSet")).toHaveLength(1);
  });

  it("deleting a Deployment garbage-collects its ReplicaSets and pods", async () => {
    const { clock, kube } = await env();
    await kube.create(deployment("web", "web:v1", 3));
    await advance(clock, 30_000);
    await setImage(kube, "web", "web:v2");
    await advance(clock, 5000);
    expect((await list(kube, "ReplicaSet")).length).toBe(2);
    await kube.delete(ref("Deployment", "web"));
    await advance(clock, 30_000);
    expect(await list(kube, "ReplicaSet")).toEqual([]);
    expect(await list(kube, "Pod")).toEqual([]);
  });

  it("manages pods of any ReplicaSet, also ones no Deployment owns", async () => {
    const { clock, kube } = await env();
    await kube.create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "canary-abc", namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "c" } },
        template: {
          metadata: { labels: { app: "c" } },
          spec: { containers: [{ name: "app", image: "c:1" }] },
        },
      },
    });
    await advance(clock, 30_000);
    const pods = await list(kube, "Pod");
    expect(pods.map((p) => p.metadata.generateName)).toEqual(["canary-abc-", "canary-abc-"]);
    expect(statusOf(await kube.get(ref("ReplicaSet", "canary-abc")))).toMatchObject({
      replicas: 2,
      availableReplicas: 2,
    });
  });

  it("StatefulSet pods start in order with stable names", async () => {
    const { clock, kube } = await env();
    await kube.create({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: NS },
      spec: {
        replicas: 3,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: {
          metadata: { labels: { app: "db" } },
          spec: { containers: [{ name: "db", image: "pg:16" }] },
        },
      },
    });
    await advance(clock, 1000);
    expect((await list(kube, "Pod")).map((p) => p.metadata.name)).toEqual(["db-0"]);
    await advance(clock, 60_000);
    expect((await list(kube, "Pod")).map((p) => p.metadata.name).sort()).toEqual(["db-0", "db-1", "db-2"]);
    expect(statusOf(await kube.get(ref("StatefulSet", "db")))).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      updatedReplicas: 3,
    });
  });

  it("a Job runs its pod to completion", async () => {
    const { clock, kube } = await env();
    await kube.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "migrate", namespace: NS },
      spec: {
        template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image: "migrate:1" }] } },
      },
    });
    await advance(clock, 60_000);
    const job = await kube.get(ref("Job", "migrate"));
    expect(statusOf(job)).toMatchObject({ succeeded: 1 });
    expect(cond(job, "Complete")?.status).toBe("True");
    expect(statusOf((await list(kube, "Pod"))[0]!).phase).toBe("Succeeded");
  });

  it("a pod stays Pending as created, then turns Running and Ready in one kubelet write", async () => {
    // no jitter: start-up takes 2,000 + 3,000 / 2 ms
    const { clock, kube, cluster } = await env(undefined, (c) => c, {});
    const created = clock.now();
    await kube.create(deployment("web", "web:v1", 1));
    await advance(clock, 3000);
    const [pending] = await list(kube, "Pod");
    expect(statusOf(pending!)).toEqual({ phase: "Pending", qosClass: "BestEffort" });
    await advance(clock, 60_000);
    const [pod] = await list(kube, "Pod");
    const podWrites = writesSince(cluster, 0).filter((w) => w.includes(" Pod"));
    expect(podWrites).toEqual([`create Pod ${pod!.metadata.name}`, `patch Pod/status ${pod!.metadata.name}`]);
    const at = (type: string) => cond(pod!, type)?.lastTransitionTime;
    expect(at("PodScheduled")).toBe(new Date(created).toISOString().replace(".000Z", "Z"));
    expect(at("Initialized")).toBe(at("PodScheduled"));
    expect(statusOf(pod!).startTime).toBe(at("PodScheduled"));
    expect(at("PodReadyToStartContainers")).toBe(
      new Date(created + 3000).toISOString().replace(".000Z", "Z"),
    );
    expect(at("Ready")).toBe(at("PodReadyToStartContainers"));
    expect(statusOf(pod!)).toMatchObject({ phase: "Running", podIP: expect.stringMatching(/^10\.244\./) });
  });

  it("pods that start together are reported in one ReplicaSet status write, and idle time writes nothing", async () => {
    const { clock, kube, cluster } = await env(undefined, (c) => c, {});
    await kube.create(deployment("web", "web:v1", 4));
    await advance(clock, 60_000);
    const from = cluster.audit().length;
    await kube.patch(ref("Deployment", "web"), { spec: { replicas: 8 } }, "merge");
    await advance(clock, 60_000);
    const writes = writesSince(cluster, from);
    const rsName = (await list(kube, "ReplicaSet"))[0]!.metadata.name;
    // one write once the new pods exist, one once they are all Ready
    expect(writes.filter((w) => w === `patch ReplicaSet/status ${rsName}`)).toHaveLength(2);
    expect(writes.filter((w) => w.startsWith("patch Pod/status"))).toHaveLength(4);
    expect(writes.filter((w) => w === "patch Deployment/status web")).toHaveLength(2);
    expect(statusOf(await kube.get(ref("Deployment", "web")))).toMatchObject({
      observedGeneration: 2,
      replicas: 8,
      readyReplicas: 8,
      availableReplicas: 8,
    });
    const idle = cluster.audit().length;
    await advance(clock, 86_400_000);
    expect(cluster.audit().length).toBe(idle);
  });

  it("a ReplicaSet that cannot create pods reports ReplicaFailure, and clears it once it can", async () => {
    let failing = true;
    const quota = (c: KubeClient): KubeClient =>
      new Proxy(c, {
        get(target, prop, receiver) {
          if (prop === "create")
            return async (obj: KubeObject, o?: Parameters<KubeClient["create"]>[1]) => {
              if (failing && obj.kind === "Pod")
                throw new KubeApiError({
                  kind: "Status",
                  apiVersion: "v1",
                  metadata: {},
                  status: "Failure",
                  message: 'pods "web-x" is forbidden: exceeded quota: pods',
                  reason: "Forbidden",
                  code: 403,
                });
              return target.create(obj, o);
            };
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    const { clock, kube, log } = await env(undefined, quota);
    await kube.create(deployment("web", "web:v1", 2));
    await advance(clock, 5000);
    const [rs] = await list(kube, "ReplicaSet");
    expect(statusOf(rs!)).toMatchObject({ replicas: 0, observedGeneration: 1 });
    expect(cond(rs!, "ReplicaFailure")).toMatchObject({
      status: "True",
      reason: "FailedCreate",
      message: 'pods "web-x" is forbidden: exceeded quota: pods',
    });
    expect(log.ofType("cluster.controller.error").length).toBeGreaterThan(0);
    failing = false;
    await advance(clock, 60_000);
    const [healed] = await list(kube, "ReplicaSet");
    expect(cond(healed!, "ReplicaFailure")).toBeUndefined();
    expect(statusOf(healed!)).toMatchObject({ replicas: 2, availableReplicas: 2 });
  });

  it("is deterministic for a seed", async () => {
    const run = async () => {
      const { clock, kube } = await env();
      await kube.create(deployment("web", "web:v1", 3));
      await advance(clock, 60_000);
      await setImage(kube, "web", "web:v2");
      await advance(clock, 60_000);
      running?.stop();
      return (await list(kube, "Pod")).map((p) => [p.metadata.name, cond(p, "Ready")?.lastTransitionTime]);
    };
    expect(await run()).toEqual(await run());
  });
});

describe("crashLoopRestarts", () => {
  it.each([
    [0, 0, 10_000],
    [9_999, 0, 1],
    [10_000, 1, 20_000],
    [30_000, 2, 40_000],
    [310_000, 5, 300_000],
    [910_000, 7, 300_000],
  ])("after %i ms: %i restarts, next in %i ms", (elapsed, restarts, next) => {
    const r = crashLoopRestarts(elapsed);
    expect(r.restarts).toBe(restarts);
    expect(r.nextInMs).toBe(next);
  });
});
