/**
 * Three-way diff against objects written by the embedded API server: the
 * managedFields (FieldsV1) come from its server-side apply, as they would from
 * a real cluster.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import { diff } from "./index.ts";

let engine: KubeClient;
let human: KubeClient;

const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "shop" };

function desired(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "app",
              image: "web:1",
              env: [{ name: "MODE", value: "prod" }],
              resources: { limits: { cpu: "500m", memory: "1Gi" } },
            },
          ],
        },
      },
    },
  };
}

beforeEach(async () => {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock });
  engine = cluster.client("argocd-application-controller");
  human = cluster.client("alice");
  await cluster.adminClient().create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  await engine.apply(desired(), { fieldManager: "argocd-controller", force: true });
});

describe("diff against the embedded cluster's server-side apply", () => {
  it("right after apply: in sync despite server defaults", async () => {
    const r = diff(desired(), await engine.get(ref));
    expect(r.changes).toEqual([]);
  });

  it("kubectl scale by a human is drift", async () => {
    await human.patch(ref, { spec: { replicas: 5 } }, "merge", { fieldManager: "kubectl-scale" });
    const r = diff(desired(), await engine.get(ref));
    expect(r.changes).toEqual([{ path: "/spec/replicas", old: 5, new: 2 }]);
  });

  it("an env var removed from Git is drift (argocd-controller still owns it)", async () => {
    const d = desired();
    const c = (
      (d.spec as Record<string, unknown>).template as { spec: { containers: Array<Record<string, unknown>> } }
    ).spec.containers[0]!;
    delete c.env;
    const r = diff(d, await engine.get(ref));
    expect(r.modified).toBe(true);
    expect(r.changes.map((x) => x.path)).toEqual(["/spec/template/spec/containers/0/env"]);
  });

  it("a label added by someone else is not drift; editing ours is", async () => {
    await human.patch(ref, { metadata: { labels: { team: "payments" } } }, "merge", {
      fieldManager: "kubectl-label",
    });
    expect(diff(desired(), await engine.get(ref)).modified).toBe(false);
    await human.patch(ref, { metadata: { labels: { app: "oops" } } }, "merge", {
      fieldManager: "kubectl-label",
    });
    expect(diff(desired(), await engine.get(ref)).changes.map((c) => c.path)).toEqual([
      "/metadata/labels/app",
    ]);
  });

  it("after re-applying, in sync again", async () => {
    await human.patch(ref, { spec: { replicas: 5 } }, "merge", { fieldManager: "kubectl-scale" });
    await engine.apply(desired(), { fieldManager: "argocd-controller", force: true });
    expect(diff(desired(), await engine.get(ref)).modified).toBe(false);
  });
});
