import { describe, expect, it } from "vitest";
import { GtbError } from "../core/errors.ts";
import type { KubeObject } from "../kube/types.ts";
import { planSync, retryDelay, type SyncTask } from "./index.ts";

function obj(
  apiVersion: string,
  kind: string,
  name: string,
  annotations: Record<string, string> = {},
  ns = "shop",
): KubeObject {
  const metadata: KubeObject["metadata"] = { name, annotations };
  if (kind !== "Namespace" && kind !== "ClusterRole") metadata.namespace = ns;
  return { apiVersion, kind, metadata, data: { k: "v" } };
}
const cm = (name: string, a: Record<string, string> = {}) => obj("v1", "ConfigMap", name, a);
const tracked = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: {
    ...o.metadata,
    annotations: {
      ...o.metadata.annotations,
      "argocd.argoproj.io/tracking-id": `app:/${o.kind}:${o.metadata.namespace ?? ""}/${o.metadata.name}`,
    },
  },
});
const summary = (ts: SyncTask[]) => ts.map((t) => `${t.phase}:${t.wave}:${t.action}:${t.kind}/${t.name}`);

describe("planSync ordering", () => {
  it("orders by phase, wave, kind order, then name; unknown kinds last", () => {
    const desired = [
      obj("apps/v1", "Deployment", "web"),
      obj("example.com/v1", "Widget", "w"),
      obj("v1", "Service", "web"),
      cm("b"),
      cm("a"),
      obj("v1", "Secret", "s"),
      obj("v1", "Namespace", "shop"),
      obj("batch/v1", "Job", "migrate", { "argocd.argoproj.io/hook": "PreSync" }),
      obj("batch/v1", "Job", "smoke", { "argocd.argoproj.io/hook": "PostSync" }),
      obj("apps/v1", "Deployment", "early", { "argocd.argoproj.io/sync-wave": "-1" }),
      obj("batch/v1", "Job", "cleanup", { "argocd.argoproj.io/hook": "SyncFail" }),
    ];
    expect(summary(planSync(desired, [], { appName: "app" }).tasks)).toEqual([
      "PreSync:0:hook:Job/migrate",
      "Sync:-1:create:Deployment/early",
      "Sync:0:create:Namespace/shop",
      "Sync:0:create:Secret/s",
      "Sync:0:create:ConfigMap/a",
      "Sync:0:create:ConfigMap/b",
      "Sync:0:create:Service/web",
      "Sync:0:create:Deployment/web",
      "Sync:0:create:Widget/w",
      "PostSync:0:hook:Job/smoke",
      "SyncFail:0:hook:Job/cleanup",
    ]);
  });

  it("adds the tracking annotation to every applied object", () => {
    const [t] = planSync([cm("a")], [], { appName: "shop-app" }).tasks;
    expect(t?.target?.metadata.annotations?.["argocd.argoproj.io/tracking-id"]).toBe(
      "shop-app:/ConfigMap:shop/a",
    );
  });

  it("skips Skip hooks and, with hooks off (self-heal) or a partial sync, all hooks", () => {
    const desired = [
      cm("a"),
      cm("h", { "argocd.argoproj.io/hook": "Skip" }),
      cm("p", { "argocd.argoproj.io/hook": "PreSync" }),
    ];
    expect(summary(planSync(desired, [], { appName: "app" }).tasks)).toEqual([
      "PreSync:0:hook:ConfigMap/p",
      "Sync:0:create:ConfigMap/a",
    ]);
    expect(summary(planSync(desired, [], { appName: "app", hooks: false }).tasks)).toEqual([
      "Sync:0:create:ConfigMap/a",
    ]);
  });

  it("defaults hook delete policy to BeforeHookCreation and maps Helm hooks", () => {
    const tasks = planSync(
      [
        obj("batch/v1", "Job", "a", { "argocd.argoproj.io/hook": "PreSync" }),
        obj("batch/v1", "Job", "b", {
          "helm.sh/hook": "post-install",
          "helm.sh/hook-delete-policy": "hook-succeeded",
        }),
      ],
      [],
      { appName: "app" },
    ).tasks;
    expect(tasks.map((t) => [t.name, t.phase, t.hookDeletePolicies])).toEqual([
      ["a", "PreSync", ["BeforeHookCreation"]],
      ["b", "PostSync", ["HookSucceeded"]],
    ]);
  });

  it("rejects a non-integer wave with a GtbError naming the annotation", () => {
    expect(() =>
      planSync([cm("a", { "argocd.argoproj.io/sync-wave": "soon" })], [], { appName: "app" }),
    ).toThrow(GtbError);
  });
});

describe("planSync decisions", () => {
  const live = [
    tracked(cm("a")),
    tracked(cm("gone")),
    tracked(cm("old", { "argocd.argoproj.io/sync-wave": "3" })),
  ];

  it("update existing, create missing, prune-skip extra without prune", () => {
    expect(summary(planSync([cm("a"), cm("new")], live, { appName: "app" }).tasks)).toEqual([
      "Sync:0:update:ConfigMap/a",
      "Sync:0:create:ConfigMap/new",
      "Sync:0:pruneSkip:ConfigMap/gone",
      "Sync:3:pruneSkip:ConfigMap/old",
    ]);
  });

  it("prunes in reverse wave order after applies", () => {
    const desired = [cm("a"), cm("w5", { "argocd.argoproj.io/sync-wave": "5" })];
    expect(summary(planSync(desired, live, { appName: "app", prune: true }).tasks)).toEqual([
      "Sync:0:update:ConfigMap/a",
      // waves 0 and 3 reversed: "old" (wave 3) is pruned first
      "Sync:0:prune:ConfigMap/old",
      "Sync:3:prune:ConfigMap/gone",
      "Sync:5:create:ConfigMap/w5",
    ]);
  });

  it("PruneLast prunes after every other Sync-phase task", () => {
    const desired = [cm("a"), cm("w5", { "argocd.argoproj.io/sync-wave": "5" })];
    const tasks = planSync(desired, live, {
      appName: "app",
      prune: true,
      syncOptions: ["PruneLast=true"],
    }).tasks;
    expect(summary(tasks).slice(-2)).toEqual(["Sync:6:prune:ConfigMap/gone", "Sync:6:prune:ConfigMap/old"]);
  });

  it("Prune=false on the live object keeps it", () => {
    const l = [tracked(cm("keep", { "argocd.argoproj.io/sync-options": "Prune=false" }))];
    const [t] = planSync([], l, { appName: "app", prune: true }).tasks;
    expect([t?.action, t?.message]).toEqual(["pruneSkip", "ignored (no prune)"]);
  });

  it("ApplyOutOfSyncOnly skips unchanged resources", () => {
    const l = [
      { ...tracked(cm("a")), metadata: { ...tracked(cm("a")).metadata, uid: "1", resourceVersion: "9" } },
    ];
    const tasks = planSync([cm("a"), cm("b")], l, {
      appName: "app",
      syncOptions: ["ApplyOutOfSyncOnly=true"],
    }).tasks;
    expect(summary(tasks)).toEqual(["Sync:0:skip:ConfigMap/a", "Sync:0:create:ConfigMap/b"]);
  });

  it("Replace=true marks tasks for PUT", () => {
    const [t] = planSync([cm("a", { "argocd.argoproj.io/sync-options": "Replace=true" })], [], {
      appName: "app",
    }).tasks;
    expect(t?.replace).toBe(true);
  });

  it("CreateNamespace=true adds a PreSync Namespace task unless Git declares it", () => {
    const tasks = planSync(
      [
        cm("a"),
        obj("batch/v1", "Job", "j", {
          "argocd.argoproj.io/hook": "PreSync",
          "argocd.argoproj.io/sync-wave": "-2",
        }),
      ],
      [],
      {
        appName: "app",
        namespace: "shop",
        syncOptions: ["CreateNamespace=true"],
      },
    ).tasks;
    expect(summary(tasks)).toEqual([
      "PreSync:-2:create:Namespace/shop",
      "PreSync:-2:hook:Job/j",
      "Sync:0:create:ConfigMap/a",
    ]);
    expect(tasks[0]?.target?.metadata.annotations).toBeUndefined();
    const declared = planSync([obj("v1", "Namespace", "shop")], [], {
      appName: "app",
      namespace: "shop",
      syncOptions: ["CreateNamespace=true"],
    }).tasks;
    expect(summary(declared)).toEqual(["Sync:0:create:Namespace/shop"]);
  });

  it("refuses an automated sync that would prune everything unless allowEmpty", () => {
    expect(() => planSync([], live, { appName: "app", automated: true, prune: true })).toThrow(
      /wipe out all resources/,
    );
    expect(
      planSync([], live, { appName: "app", automated: true, prune: true, allowEmpty: true }).tasks,
    ).toHaveLength(3);
  });

  it("partial sync only touches the named resources", () => {
    const tasks = planSync([cm("a"), cm("b")], live, {
      appName: "app",
      prune: true,
      resources: [{ group: "", kind: "ConfigMap", namespace: "shop", name: "b" }],
    }).tasks;
    expect(summary(tasks)).toEqual(["Sync:0:create:ConfigMap/b"]);
  });

  it("does not prune live hooks or controller-owned objects", () => {
    const hook = tracked(cm("h", { "argocd.argoproj.io/hook": "PostSync" }));
    const owned = tracked(cm("o"));
    owned.metadata.ownerReferences = [
      { apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: "u", controller: true },
    ];
    expect(planSync([], [hook, owned], { appName: "app", prune: true }).tasks).toEqual([]);
  });
});

describe("retryDelay", () => {
  it.each([
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [5, 80_000],
    [7, 180_000],
  ])("attempt %i -> %i ms", (attempt, ms) => {
    expect(retryDelay(attempt)).toBe(ms);
  });
});
