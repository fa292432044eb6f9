import { describe, expect, it } from "vitest";
import type { KubeObject, ManagedFieldsEntry } from "../../../engine/kube/types.ts";
import {
  applyConflictStatus,
  fieldsV1Paths,
  ownedFieldsOf,
  recordUpdate,
  serverSideApply,
  strategicMergePatch,
} from "./index.ts";

const T0 = "2026-01-05T00:00:00Z";
const T1 = "2026-01-05T00:01:00Z";
const T2 = "2026-01-05T00:02:00Z";

type Spec = Record<string, unknown>;

function config(
  opts: { replicas?: number; image?: string; labels?: Record<string, string> } = {},
): KubeObject {
  const spec: Spec = {
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "app", image: opts.image ?? "web:v1" }] },
    },
  };
  if (opts.replicas !== undefined) spec.replicas = opts.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", ...(opts.labels ? { labels: opts.labels } : {}) },
    spec,
  };
}

/** Server-side apply that must succeed. */
function apply(live: KubeObject | undefined, cfg: KubeObject, manager: string, time = T0, force = false) {
  const r = serverSideApply(live, cfg, { manager, force, time });
  expect(r.conflicts).toEqual([]);
  return r.object;
}

/** `kubectl edit` at T1: a patch, and the Update ownership the server records for it. */
function edit(live: KubeObject, patch: unknown): KubeObject {
  const edited = strategicMergePatch(live, patch);
  edited.metadata.managedFields = recordUpdate(live, edited, {
    manager: "kubectl-edit",
    time: T1,
    operation: "Update",
  });
  return edited;
}

const entry = (obj: KubeObject, manager: string): ManagedFieldsEntry | undefined =>
  obj.metadata.managedFields?.find((e) => e.manager === manager);
const podContainers = (o: KubeObject) =>
  (((o.spec as Spec).template as Spec).spec as Spec).containers as Spec[];

describe("serverSideApply", () => {
  it("records the applied fields in FieldsV1 format on create", () => {
    const obj = apply(undefined, config({ replicas: 2, labels: { team: "a" } }), "argocd-controller");
    expect(obj.metadata.managedFields).toEqual([
      {
        manager: "argocd-controller",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: T0,
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:team": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": { "f:containers": { 'k:{"name":"app"}': { ".": {}, "f:image": {}, "f:name": {} } } },
            },
          },
        },
      },
    ]);
  });

  it("keys ports by containerPort and the defaulted protocol", () => {
    const cfg = config();
    podContainers(cfg)[0]!.ports = [{ containerPort: 8080 }];
    const obj = apply(undefined, cfg, "m");
    const paths = fieldsV1Paths(entry(obj, "m")!.fieldsV1).map((p) => p.join(" "));
    expect(paths).toContain(
      'f:spec f:template f:spec f:containers k:{"name":"app"} f:ports k:{"containerPort":8080,"protocol":"TCP"}',
    );
  });

  it("reports a conflict with an Update manager that set the field to another value", () => {
    const live = apply(undefined, config({ replicas: 2 }), "argocd-controller");
    const edited = edit(live, { spec: { replicas: 5 } });
    const r = serverSideApply(edited, config({ replicas: 2 }), {
      manager: "argocd-controller",
      force: false,
      time: T2,
    });
    expect(r.conflicts).toEqual([
      {
        manager: "kubectl-edit",
        field: ".spec.replicas",
        operation: "Update",
        apiVersion: "apps/v1",
        time: T1,
      },
    ]);
    expect(r.object).toBe(edited);
    const status = applyConflictStatus(r.conflicts);
    expect(status.code).toBe(409);
    expect(status.reason).toBe("Conflict");
    expect(status.message).toBe(
      `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1 at ${T1}: .spec.replicas`,
    );
    expect(status.details?.causes).toEqual([
      {
        type: "FieldManagerConflict",
        message: `conflict with "kubectl-edit" using apps/v1 at ${T1}`,
        field: ".spec.replicas",
      },
    ]);
  });

  it("force transfers ownership of the conflicting field", () => {
    const live = apply(undefined, config({ replicas: 2 }), "argocd-controller");
    const edited = edit(live, { spec: { replicas: 5, paused: true } });
    const r = serverSideApply(edited, config({ replicas: 2 }), {
      manager: "argocd-controller",
      force: true,
      time: T2,
    });
    expect(r.conflicts.map((c) => c.field)).toEqual([".spec.replicas"]);
    expect((r.object.spec as Spec).replicas).toBe(2);
    expect((r.object.spec as Spec).paused).toBe(true);
    expect(entry(r.object, "kubectl-edit")?.fieldsV1).toEqual({ "f:spec": { "f:paused": {} } });
    expect(entry(r.object, "argocd-controller")?.time).toBe(T2);
    expect(fieldsV1Paths(ownedFieldsOf(r.object, "argocd-controller"))).toContainEqual([
      "f:spec",
      "f:replicas",
    ]);
  });

  it("reports a conflict on a container image inside an associative list", () => {
    const live = apply(undefined, config(), "helm");
    const r = serverSideApply(live, config({ image: "web:v2" }), {
      manager: "argocd-controller",
      force: false,
      time: T1,
    });
    expect(r.conflicts.map((c) => [c.manager, c.field])).toEqual([
      ["helm", '.spec.template.spec.containers[name="app"].image'],
    ]);
    expect(applyConflictStatus(r.conflicts).message).toBe(
      'Apply failed with 1 conflict: conflict with "helm": .spec.template.spec.containers[name="app"].image',
    );
  });

  it("removes fields the manager applied before and applies no more", () => {
    const v1 = apply(
      undefined,
      config({ replicas: 2, labels: { team: "a", tier: "web" } }),
      "argocd-controller",
    );
    const v2 = apply(v1, config({ labels: { team: "a" } }), "argocd-controller", T1);
    expect(v2.metadata.labels).toEqual({ team: "a" });
    expect((v2.spec as Spec).replicas).toBeUndefined();
    expect(fieldsV1Paths(entry(v2, "argocd-controller")!.fieldsV1)).not.toContainEqual([
      "f:spec",
      "f:replicas",
    ]);
  });

  it("drops an emptied map when nobody owns it", () => {
    const v1 = apply(undefined, config({ labels: { team: "a" } }), "m");
    const v2 = apply(v1, config(), "m", T1);
    expect(v2.metadata.labels).toBeUndefined();
  });

  it("keeps a field two managers share when one stops applying it", () => {
    const a = apply(undefined, config({ replicas: 3 }), "team-a");
    const ab = apply(a, config({ replicas: 3 }), "team-b", T1);
    expect(fieldsV1Paths(entry(ab, "team-a")!.fieldsV1)).toContainEqual(["f:spec", "f:replicas"]);
    expect(fieldsV1Paths(entry(ab, "team-b")!.fieldsV1)).toContainEqual(["f:spec", "f:replicas"]);
    const after = apply(ab, config(), "team-a", T2);
    expect((after.spec as Spec).replicas).toBe(3);
    expect(fieldsV1Paths(entry(after, "team-a")!.fieldsV1)).not.toContainEqual(["f:spec", "f:replicas"]);
  });

  it("merges associative lists: another manager's container stays", () => {
    const live = apply(undefined, config(), "app-team");
    const sidecar: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: { template: { spec: { containers: [{ name: "proxy", image: "envoy:1" }] } } },
    };
    const both = apply(live, sidecar, "mesh-injector", T1);
    expect(podContainers(both).map((c) => c.name)).toEqual(["app", "proxy"]);
    const again = apply(both, config({ image: "web:v1" }), "app-team", T2);
    expect(podContainers(again).map((c) => c.name)).toEqual(["app", "proxy"]);
  });

  it("applying the same configuration again changes nothing, not even the manager's time", () => {
    const v1 = apply(undefined, config({ replicas: 2, labels: { team: "a" } }), "argocd-controller");
    const again = apply(v1, config({ replicas: 2, labels: { team: "a" } }), "argocd-controller", T1);
    expect(again).toEqual(v1);
    expect(entry(again, "argocd-controller")!.time).toBe(T0);
    const changed = apply(v1, config({ replicas: 3, labels: { team: "a" } }), "argocd-controller", T2);
    expect((changed.spec as Spec).replicas).toBe(3);
    expect(entry(changed, "argocd-controller")!.time).toBe(T2);
  });

  it("an apply keeps the live object's own values where it leaves them as they were", () => {
    const v1 = apply(undefined, config({ replicas: 2, labels: { team: "a" } }), "argocd-controller");
    const again = apply(v1, config({ replicas: 2, labels: { team: "a" } }), "argocd-controller", T1);
    expect(again.spec).toBe(v1.spec);
    expect(again.metadata.labels).toBe(v1.metadata.labels);
    expect(again.metadata.managedFields).toBe(v1.metadata.managedFields);
    const scaled = apply(v1, config({ replicas: 3, labels: { team: "a" } }), "argocd-controller", T2);
    expect((scaled.spec as Spec).replicas).toBe(3);
    expect((scaled.spec as Spec).template).toBe((v1.spec as Spec).template);
    expect((scaled.spec as Spec).selector).toBe((v1.spec as Spec).selector);
    expect(scaled.metadata.labels).toBe(v1.metadata.labels);
    expect(scaled.metadata.managedFields).not.toBe(v1.metadata.managedFields);
  });

  it("an apply that changes nothing has no conflicts, even on fields another manager owns", () => {
    const live = edit(apply(undefined, config({ replicas: 2 }), "argocd-controller"), {
      spec: { replicas: 5 },
    });
    const r = serverSideApply(live, config({ replicas: 5 }), { manager: "other", force: false, time: T2 });
    expect(r.conflicts).toEqual([]);
    const changing = serverSideApply(live, config({ replicas: 4 }), {
      manager: "other",
      force: false,
      time: T2,
    });
    expect(changing.conflicts.map((c) => [c.manager, c.field])).toEqual([["kubectl-edit", ".spec.replicas"]]);
  });

  it("groups several conflicts by manager in the message", () => {
    const live = apply(undefined, config({ replicas: 1, image: "a" }), "x");
    const r = serverSideApply(live, config({ replicas: 2, image: "b" }), {
      manager: "y",
      force: false,
      time: T1,
    });
    expect(applyConflictStatus(r.conflicts).message).toBe(
      'Apply failed with 2 conflicts: conflicts with "x":\n- .spec.replicas\n- .spec.template.spec.containers[name="app"].image',
    );
  });
});

describe("recordUpdate", () => {
  it("stores the managedFields a client sends in the server's order, edited or not", () => {
    const live = apply(undefined, config({ replicas: 2 }), "argocd-controller");
    const sent: ManagedFieldsEntry = {
      manager: "someone",
      operation: "Update",
      apiVersion: "apps/v1",
      time: T0,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { "f:template": {}, "f:minReadySeconds": {} }, "f:metadata": { "f:labels": {} } },
    };
    const edited = structuredClone(live);
    edited.metadata.managedFields = [...(live.metadata.managedFields ?? []), sent];
    const mf = recordUpdate(live, edited, { manager: "kubectl", time: T1, operation: "Update" });
    const got = mf.find((e) => e.manager === "someone")!;
    expect(JSON.stringify(got.fieldsV1)).toBe(
      JSON.stringify({
        "f:metadata": { "f:labels": {} },
        "f:spec": { "f:minReadySeconds": {}, "f:template": {} },
      }),
    );
    (edited.spec as Spec).replicas = 3;
    const mf2 = recordUpdate(live, edited, { manager: "kubectl", time: T1, operation: "Update" });
    expect(JSON.stringify(mf2.find((e) => e.manager === "someone")!.fieldsV1)).toBe(
      JSON.stringify(got.fieldsV1),
    );
  });

  it("kubectl scale: an Update on /scale owns .spec.replicas", () => {
    const live = apply(undefined, config({ replicas: 2 }), "argocd-controller");
    const scaled = structuredClone(live);
    (scaled.spec as Spec).replicas = 5;
    const mf = recordUpdate(live, scaled, {
      manager: "kubectl",
      time: T1,
      operation: "Update",
      subresource: "scale",
    });
    const scale = mf.find((e) => e.manager === "kubectl");
    expect(scale).toEqual({
      manager: "kubectl",
      operation: "Update",
      apiVersion: "apps/v1",
      time: T1,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { "f:replicas": {} } },
      subresource: "scale",
    });
    const argo = mf.find((e) => e.manager === "argocd-controller")!;
    expect(fieldsV1Paths(argo.fieldsV1)).not.toContainEqual(["f:spec", "f:replicas"]);
    expect(fieldsV1Paths(argo.fieldsV1)).toContainEqual(["f:spec", "f:selector"]);
  });

  it("kubectl edit: the changed image and the new env var become kubectl-edit's", () => {
    const live = apply(undefined, config(), "argocd-controller");
    const edited = strategicMergePatch(live, {
      spec: {
        template: {
          spec: { containers: [{ name: "app", image: "web:hotfix", env: [{ name: "DEBUG", value: "1" }] }] },
        },
      },
    });
    const mf = recordUpdate(live, edited, { manager: "kubectl-edit", time: T1, operation: "Update" });
    expect(mf.find((e) => e.manager === "kubectl-edit")?.fieldsV1).toEqual({
      "f:spec": {
        "f:template": {
          "f:spec": {
            "f:containers": {
              'k:{"name":"app"}': {
                "f:env": { ".": {}, 'k:{"name":"DEBUG"}': { ".": {}, "f:name": {}, "f:value": {} } },
                "f:image": {},
              },
            },
          },
        },
      },
    });
    const argo = fieldsV1Paths(mf.find((e) => e.manager === "argocd-controller")!.fieldsV1);
    expect(argo).not.toContainEqual([
      "f:spec",
      "f:template",
      "f:spec",
      "f:containers",
      'k:{"name":"app"}',
      "f:image",
    ]);
  });

  it("create: the creating manager owns every field but status and server metadata", () => {
    const obj: KubeObject = {
      ...config({ replicas: 1 }),
      status: { replicas: 1 },
      metadata: { name: "web", namespace: "shop", uid: "u", resourceVersion: "7", generation: 1 },
    };
    const mf = recordUpdate(undefined, obj, { manager: "kubectl-create", time: T0, operation: "Update" });
    expect(mf).toHaveLength(1);
    const paths = fieldsV1Paths(mf[0]!.fieldsV1);
    expect(paths).toContainEqual(["f:spec", "f:replicas"]);
    expect(paths.some((p) => p[0] === "f:status" || p[0] === "f:metadata")).toBe(false);
  });

  it("marks maps and lists a write created with '.' (not Go's always-present structs)", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "shop", labels: { app: "c" } },
      data: { a: "1" },
    };
    const mf = recordUpdate(undefined, cm, { manager: "kubectl-create", time: T0, operation: "Update" });
    expect(mf[0]!.fieldsV1).toEqual({
      "f:data": { ".": {}, "f:a": {} },
      "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
    });
  });

  it("a /status write owns only status fields, in its own entry", () => {
    const live = apply(undefined, config({ replicas: 1 }), "argocd-controller");
    const withStatus = { ...structuredClone(live), status: { replicas: 1, readyReplicas: 1 } };
    const mf = recordUpdate(live, withStatus, {
      manager: "kube-controller-manager",
      time: T1,
      operation: "Update",
      subresource: "status",
    });
    expect(mf.find((e) => e.manager === "kube-controller-manager")).toMatchObject({
      subresource: "status",
      fieldsV1: { "f:status": { "f:readyReplicas": {}, "f:replicas": {} } },
    });
    expect(mf.find((e) => e.manager === "argocd-controller")).toEqual(live.metadata.managedFields![0]);
  });

  it("a write that changes nothing adds no entry", () => {
    const live = apply(undefined, config(), "argocd-controller");
    const mf = recordUpdate(live, structuredClone(live), {
      manager: "kubectl-edit",
      time: T1,
      operation: "Update",
    });
    expect(mf).toEqual(live.metadata.managedFields);
  });
});
