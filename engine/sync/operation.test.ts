/**
 * SyncOperation against the embedded API server (in-process client) in
 * virtual time. A tiny test "controller" completes Jobs and makes Deployments
 * available a few virtual seconds after they change, recording when.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "../core/events.ts";
import { isNotFound, type KubeClient, type KubeObject } from "../kube/types.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import {
  type PlanOptions,
  planSync,
  type SyncEvent,
  SyncOperation,
  type SyncOperationState,
} from "./index.ts";

let clock: VirtualClock;
let cluster: EmbeddedCluster;
let client: KubeClient;
let log: string[];
let stopController: () => void;

function fakeControllers(admin: KubeClient, everyMs = 1000): () => void {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    for (const d of (await admin.list("apps/v1", "Deployment")).items) {
      const st = (d.status ?? {}) as { observedGeneration?: number };
      if ((st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)) continue;
      const replicas = ((d.spec as { replicas?: number }).replicas ?? 1) as number;
      // objects read from the cluster are shared and frozen: write a copy
      await admin.replaceStatus({
        ...d,
        status: {
          observedGeneration: d.metadata.generation,
          replicas,
          updatedReplicas: replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
        },
      });
      log.push(`healthy ${d.metadata.name}`);
    }
    for (const j of (await admin.list("batch/v1", "Job")).items) {
      if (typeof j.status === "object" && j.status !== null && Object.keys(j.status).length > 0) continue;
      const fail = j.metadata.annotations?.["test/fail"] === "true";
      await admin.replaceStatus({
        ...j,
        status: {
          conditions: [
            fail
              ? {
                  type: "Failed",
                  status: "True",
                  reason: "BackoffLimitExceeded",
                  message: "Job has reached the specified backoff limit",
                }
              : { type: "Complete", status: "True" },
          ],
        },
      });
      log.push(`${fail ? "failed" : "completed"} ${j.metadata.name}`);
    }
    clock.setTimeout(() => void clock.track(tick()), everyMs);
  };
  clock.setTimeout(() => void clock.track(tick()), everyMs);
  return () => {
    stopped = true;
  };
}

beforeEach(async () => {
  clock = new VirtualClock();
  cluster = new EmbeddedCluster({ clock });
  client = cluster.client("argocd-application-controller");
  const admin = cluster.adminClient();
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  log = [];
  stopController = fakeControllers(admin);
});
afterEach(async () => {
  stopController();
  await cluster.close();
});

const ann = (a: Record<string, string>) => a;
function cm(name: string, annotations: Record<string, string> = {}, ns = "shop"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns, annotations },
    data: { k: name },
  };
}
function deploy(name: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop", annotations },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: `${name}:1` }] },
      },
    },
  };
}
function job(name: string, annotations: Record<string, string>): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "shop", annotations },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "run", image: "tool:1" }] } } },
  };
}

async function exists(o: {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}): Promise<boolean> {
  try {
    await client.get(o);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

async function sync(desired: KubeObject[], live: KubeObject[], opts: Partial<PlanOptions> = {}) {
  const events = new MemoryEventLog<SyncEvent>();
  events.subscribe((e) => {
    if (e.type === "syncop.resource" && (e.hookPhase === undefined || e.hookPhase === "Running")) {
      log.push(`${e.status} ${e.name}`);
    }
  });
  const plan = planSync(desired, live, { appName: "shop", ...opts });
  const op = new SyncOperation({ client, clock, plan, events });
  const state = await drive(op.run(1000, 600_000));
  return { state, events, op };
}

/** Advance virtual time until `p` settles. */
async function drive<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < 10_000 && !done; i++) await clock.runFor(1000);
  return watched;
}

const result = (s: SyncOperationState, name: string) => s.resources.find((r) => r.name === name);

describe("SyncOperation", () => {
  it("runs hooks and waves in order, each wave waiting for the previous one to be healthy", async () => {
    const desired = [
      job("migrate", ann({ "argocd.argoproj.io/hook": "PreSync" })),
      deploy("db", ann({ "argocd.argoproj.io/sync-wave": "-1" })),
      cm("config"),
      deploy("web"),
      job(
        "smoke",
        ann({
          "argocd.argoproj.io/hook": "PostSync",
          "argocd.argoproj.io/hook-delete-policy": "HookSucceeded",
        }),
      ),
    ];
    const { state, events } = await sync(desired, []);
    expect(state.phase).toBe("Succeeded");
    expect(state.message).toBe("successfully synced (all tasks run)");
    expect(log).toEqual([
      "Synced migrate",
      "completed migrate",
      "Synced db",
      "healthy db",
      "Synced config",
      "Synced web",
      "healthy web",
      "Synced smoke",
      "completed smoke",
    ]);
    expect(result(state, "migrate")).toMatchObject({
      syncPhase: "PreSync",
      hookPhase: "Succeeded",
      status: "Synced",
    });
    expect(result(state, "web")).toMatchObject({
      syncPhase: "Sync",
      status: "Synced",
      message: "deployment.apps/web created",
    });
    // HookSucceeded: the PostSync job is gone, the PreSync one (BeforeHookCreation) stays.
    expect(await exists({ apiVersion: "batch/v1", kind: "Job", name: "smoke", namespace: "shop" })).toBe(
      false,
    );
    expect(await exists({ apiVersion: "batch/v1", kind: "Job", name: "migrate", namespace: "shop" })).toBe(
      true,
    );
    const live = await client.get({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "web",
      namespace: "shop",
    });
    expect(live.metadata.annotations?.["argocd.argoproj.io/tracking-id"]).toBe(
      "shop:apps/Deployment:shop/web",
    );
    expect(
      live.metadata.managedFields?.some((m) => m.manager === "argocd-controller" && m.operation === "Apply"),
    ).toBe(true);
    expect(events.ofType("syncop.completed")).toHaveLength(1);
  });

  it("a dry-run failure fails the whole sync and applies nothing", async () => {
    const desired = [cm("good"), cm("bad", {}, "no-such-namespace"), deploy("web")];
    const { state } = await sync(desired, []);
    expect(state.phase).toBe("Failed");
    expect(state.message).toBe("one or more objects failed to apply (dry run)");
    expect(result(state, "bad")).toMatchObject({
      status: "SyncFailed",
      message: 'namespaces "no-such-namespace" not found',
    });
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "good", namespace: "shop" })).toBe(
      false,
    );
    expect(await exists({ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "shop" })).toBe(
      false,
    );
  });

  it("a failed hook fails the sync and runs SyncFail hooks", async () => {
    const desired = [
      job("migrate", ann({ "argocd.argoproj.io/hook": "PreSync", "test/fail": "true" })),
      cm("config"),
      job("notify-failure", ann({ "argocd.argoproj.io/hook": "SyncFail" })),
    ];
    const { state } = await sync(desired, []);
    expect(state.phase).toBe("Failed");
    expect(state.message).toBe(
      "one or more synchronization tasks completed unsuccessfully, reason: Job has reached the specified backoff limit",
    );
    expect(result(state, "migrate")?.hookPhase).toBe("Failed");
    expect(result(state, "notify-failure")).toMatchObject({ syncPhase: "SyncFail", hookPhase: "Succeeded" });
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "config", namespace: "shop" })).toBe(
      false,
    );
  });

  it("prunes only when enabled", async () => {
    const first = await sync([cm("keep"), cm("gone")], []);
    expect(first.state.phase).toBe("Succeeded");
    const live = [
      await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "keep", namespace: "shop" }),
      await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "gone", namespace: "shop" }),
    ];
    const skipped = await sync([cm("keep")], live);
    expect(result(skipped.state, "gone")).toMatchObject({
      status: "PruneSkipped",
      message: "ignored (requires pruning)",
    });
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "gone", namespace: "shop" })).toBe(true);
    const pruned = await sync([cm("keep")], live, { prune: true });
    expect(pruned.state.phase).toBe("Succeeded");
    expect(result(pruned.state, "gone")).toMatchObject({ status: "Pruned", message: "pruned" });
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "gone", namespace: "shop" })).toBe(
      false,
    );
  });

  it("PruneLast prunes after the last wave is applied and healthy", async () => {
    await sync([cm("old")], []);
    const live = [await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "old", namespace: "shop" })];
    log = [];
    const desired = [deploy("web", ann({ "argocd.argoproj.io/sync-wave": "2" }))];
    const plain = planSync(desired, live, { appName: "shop", prune: true });
    expect(plain.tasks.map((t) => t.name)).toEqual(["old", "web"]);
    const { state } = await sync(desired, live, { prune: true, syncOptions: ["PruneLast=true"] });
    expect(state.phase).toBe("Succeeded");
    expect(log).toEqual(["Synced web", "healthy web", "Pruned old"]);
  });

  it("CreateNamespace=true creates the destination namespace first", async () => {
    const desired = [cm("a", {}, "fresh")];
    const without = await sync(desired, []);
    expect(without.state.phase).toBe("Failed");
    const { state } = await sync(desired, [], { namespace: "fresh", syncOptions: ["CreateNamespace=true"] });
    expect(state.phase).toBe("Succeeded");
    expect(state.resources.map((r) => `${r.kind}/${r.name}:${r.status}`)).toEqual([
      "Namespace/fresh:Synced",
      "ConfigMap/a:Synced",
    ]);
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "fresh" })).toBe(true);
  });

  it("CreateNamespace=true: another app creating the namespace between our look and our dry run is no failure", async () => {
    // the other app's create lands between this operation's read of the namespace and its dry run
    const admin = cluster.adminClient();
    const racing: KubeClient = Object.create(client) as KubeClient;
    racing.create = async (obj, o) => {
      if (obj.kind === "Namespace" && o?.dryRun === true) await admin.create({ ...obj });
      return client.create(obj, o);
    };
    const plan = planSync([cm("a", {}, "shared")], [], {
      appName: "shop",
      namespace: "shared",
      syncOptions: ["CreateNamespace=true"],
    });
    const op = new SyncOperation({ client: racing, clock, plan, events: new MemoryEventLog<SyncEvent>() });
    const state = await drive(op.run(1000, 600_000));
    expect(state.phase).toBe("Succeeded");
    expect(result(state, "shared")?.status).toBe("Synced");
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "shared" })).toBe(true);
  });

  it("Replace=true updates with PUT", async () => {
    await sync([cm("a")], []);
    const live = [await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "shop" })];
    const changed = { ...cm("a", { "argocd.argoproj.io/sync-options": "Replace=true" }), data: { k: "new" } };
    const { state } = await sync([changed], live);
    expect(result(state, "a")?.message).toBe("configmap/a replaced");
    const got = await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "shop" });
    expect(got.data).toEqual({ k: "new" });
  });

  it("ServerSideApply=false applies like kubectl (last-applied, three-way merge patch)", async () => {
    const opts = { syncOptions: ["ServerSideApply=false"] };
    const first = await sync([{ ...cm("a"), data: { x: "1", y: "2" } }], [], opts);
    expect(result(first.state, "a")?.message).toBe("configmap/a created");
    const a = { apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "shop" };
    const created = await client.get(a);
    expect(created.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain(
      '"y":"2"',
    );
    // by hand: change x, add z
    await cluster
      .adminClient()
      .patch(a, { data: { x: "hand", z: "mine" } }, "merge", { fieldManager: "kubectl-edit" });
    const live = [await client.get(a)];
    const second = await sync([{ ...cm("a"), data: { x: "1" } }], live, opts);
    expect(result(second.state, "a")?.message).toBe("configmap/a configured");
    // x restored, y (removed from Git, previously applied) deleted, z (never applied) kept
    expect((await client.get(a)).data).toEqual({ x: "1", z: "mine" });
  });

  it("terminate() deletes the running hook and fails the operation", async () => {
    stopController(); // nothing completes the hook
    const plan = planSync([job("slow", ann({ "argocd.argoproj.io/hook": "PreSync" })), cm("a")], [], {
      appName: "shop",
    });
    const op = new SyncOperation({ client, clock, plan });
    await op.step(); // dry run
    const s = await op.step(); // hook created, running
    expect(s.message).toBe("waiting for completion of hook batch/v1/Job/slow");
    op.terminate();
    expect(op.state().phase).toBe("Terminating");
    const done = await op.step();
    expect(done.phase).toBe("Failed");
    expect(done.message).toBe("Operation terminated");
    expect(await exists({ apiVersion: "batch/v1", kind: "Job", name: "slow", namespace: "shop" })).toBe(
      false,
    );
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "shop" })).toBe(false);
  });

  it("dryRun option validates without applying", async () => {
    const plan = planSync([cm("a")], [], { appName: "shop" });
    const state = await drive(new SyncOperation({ client, clock, plan, dryRun: true }).run());
    expect(state.phase).toBe("Succeeded");
    expect(state.message).toBe("successfully synced (dry run)");
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "shop" })).toBe(false);
  });
});
