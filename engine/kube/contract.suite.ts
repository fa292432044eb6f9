/**
 * The KubeClient contract: one suite, run against every adapter (in-process
 * and HTTP to a served EmbeddedCluster; see contract.test.ts). It asserts
 * behaviour a real API server has, through the port only.
 */
import { describe, expect, it } from "vitest";
import {
  isConflict,
  isNotFound,
  type KubeClient,
  KubeApiError,
  type KubeObject,
  type WatchEvent,
} from "./types.ts";

/** Adapters under test are set up with a watch history of this many events. */
export const CONTRACT_HISTORY_SIZE = 50;

export interface ContractEnv {
  /** A client allowed to write everywhere. */
  client: KubeClient;
  /** Let pending watch deliveries and I/O happen. */
  settle(): Promise<void>;
  /** Wait (without sleeping) until `pred` holds, letting I/O and watches run. */
  until(pred: () => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

const cm = (name: string, data: Record<string, string> = { a: "1" }, ns = "default"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels: { app: name } },
  data,
});

const deploy = (name: string, replicas = 2): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "default", labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "app", image: "nginx:1.0" }] },
    },
  },
});

async function rejects(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  throw new Error("expected a KubeApiError");
}

export function kubeClientContract(name: string, setup: () => Promise<ContractEnv>): void {
  describe(`KubeClient contract: ${name}`, () => {
    const withEnv = (fn: (env: ContractEnv) => Promise<void>) => async () => {
      const env = await setup();
      try {
        await fn(env);
      } finally {
        await env.close();
      }
    };

    it(
      "creates, gets, lists, replaces and deletes with server-set metadata",
      withEnv(async ({ client }) => {
        const created = await client.create(cm("one"));
        expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(typeof created.metadata.resourceVersion).toBe("string");
        const got = await client.get({
          apiVersion: "v1",
          kind: "ConfigMap",
          name: "one",
          namespace: "default",
        });
        expect(got.data).toEqual({ a: "1" });
        const list = await client.list("v1", "ConfigMap", { namespace: "default" });
        expect(list.kind).toBe("ConfigMapList");
        expect(list.items.map((i) => i.metadata.name)).toContain("one");
        const replaced = await client.replace({ ...got, data: { a: "2" } });
        expect(Number(replaced.metadata.resourceVersion)).toBeGreaterThan(
          Number(got.metadata.resourceVersion),
        );
        const stale = await rejects(client.replace({ ...got, data: { a: "3" } }));
        expect(stale.code).toBe(409);
        expect(stale.reason).toBe("Conflict");
        expect(stale.message).toBe(
          'Operation cannot be fulfilled on configmaps "one": the object has been modified; please apply your changes to the latest version and try again',
        );
        expect(
          await client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "one", namespace: "default" }),
        ).toBe(undefined);
        const gone = await rejects(
          client.get({ apiVersion: "v1", kind: "ConfigMap", name: "one", namespace: "default" }),
        );
        expect(isNotFound(gone)).toBe(true);
        expect(gone.message).toBe('configmaps "one" not found');
      }),
    );

    it(
      "answers AlreadyExists, NotFound with upstream messages and Status details",
      withEnv(async ({ client }) => {
        await client.create(deploy("web"));
        const dup = await rejects(client.create(deploy("web")));
        expect(dup.status).toMatchObject({
          kind: "Status",
          status: "Failure",
          reason: "AlreadyExists",
          code: 409,
          message: 'deployments.apps "web" already exists',
          details: { name: "web", group: "apps", kind: "deployments" },
        });
        const nf = await rejects(
          client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "nope", namespace: "default" }),
        );
        expect(nf.message).toBe('deployments.apps "nope" not found');
        const badNs = await rejects(client.create(cm("x", {}, "missing")));
        expect(badNs.message).toBe('namespaces "missing" not found');
        const invalid = await rejects(
          client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "default" } }),
        );
        expect(invalid.code).toBe(422);
        expect(invalid.reason).toBe("Invalid");
      }),
    );

    it(
      "tracks generation for spec changes only and keeps status out of main-resource writes",
      withEnv(async ({ client }) => {
        const d = await client.create(deploy("gen"));
        expect(d.metadata.generation).toBe(1);
        const labelled = await client.patch(
          { apiVersion: "apps/v1", kind: "Deployment", name: "gen", namespace: "default" },
          { metadata: { labels: { extra: "x" } } },
          "merge",
        );
        expect(labelled.metadata.generation).toBe(1);
        const scaled = await client.patch(
          { apiVersion: "apps/v1", kind: "Deployment", name: "gen", namespace: "default" },
          { spec: { replicas: 5 }, status: { replicas: 99 } },
          "merge",
        );
        expect(scaled.metadata.generation).toBe(2);
        expect((scaled.status as { replicas?: number } | undefined)?.replicas).toBeUndefined();
        const st = await client.replaceStatus({ ...scaled, status: { replicas: 5, readyReplicas: 5 } });
        expect(st.status).toEqual({ replicas: 5, readyReplicas: 5 });
        expect(st.metadata.generation).toBe(2);
        const noop = await client.replace({ ...st });
        expect(noop.metadata.resourceVersion).toBe(st.metadata.resourceVersion);
      }),
    );

    it(
      "applies JSON, merge and strategic merge patches and the scale subresource",
      withEnv(async ({ client }) => {
        await client.create(deploy("p"));
        const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "p", namespace: "default" };
        const j = await client.patch(ref, [{ op: "replace", path: "/spec/replicas", value: 3 }], "json");
        expect((j.spec as { replicas: number }).replicas).toBe(3);
        const m = await client.patch(ref, { metadata: { annotations: { a: "b" } } }, "merge");
        expect(m.metadata.annotations).toEqual({ a: "b" });
        const s = await client.patch(
          ref,
          { spec: { template: { spec: { containers: [{ name: "app", image: "nginx:2.0" }] } } } },
          "strategic",
        );
        const containers = (
          s.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } }
        ).template.spec.containers;
        expect(containers).toEqual([{ name: "app", image: "nginx:2.0" }]);
        const scale = await client.patch(ref, { spec: { replicas: 7 } }, "merge", { subresource: "scale" });
        expect(scale.kind).toBe("Scale");
        expect((scale.spec as { replicas: number }).replicas).toBe(7);
        const after = await client.get(ref);
        expect((after.spec as { replicas: number }).replicas).toBe(7);
        const bad = await rejects(
          client.patch(ref, [{ op: "test", path: "/spec/replicas", value: 1 }], "json"),
        );
        expect(bad.code).toBe(422);
      }),
    );

    it(
      "refuses strategic merge patch on a custom resource with 415",
      withEnv(async ({ client }) => {
        await client.create({
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Rollout",
          metadata: { name: "ro", namespace: "default" },
          spec: { replicas: 1 },
        });
        const e = await rejects(
          client.patch(
            { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "ro", namespace: "default" },
            { spec: { replicas: 2 } },
            "strategic",
          ),
        );
        expect(e.code).toBe(415);
        expect(e.reason).toBe("UnsupportedMediaType");
      }),
    );

    it(
      "server-side apply creates, records managedFields, conflicts and forces",
      withEnv(async ({ client }) => {
        const applied = await client.apply(deploy("ssa", 2), { fieldManager: "argocd-controller" });
        expect(applied.metadata.managedFields?.[0]).toMatchObject({
          manager: "argocd-controller",
          operation: "Apply",
        });
        const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "ssa", namespace: "default" };
        await client.patch(ref, { spec: { replicas: 4 } }, "merge", { fieldManager: "kubectl-edit" });
        const conflict = await rejects(client.apply(deploy("ssa", 3), { fieldManager: "argocd-controller" }));
        expect(isConflict(conflict)).toBe(true);
        expect(conflict.status.details?.causes?.[0]).toMatchObject({
          type: "FieldManagerConflict",
          field: ".spec.replicas",
        });
        expect(conflict.message).toMatch(
          /^Apply failed with 1 conflict: conflict with "kubectl-edit" using apps\/v1 at \S+: \.spec\.replicas$/,
        );
        const forced = await client.apply(deploy("ssa", 3), {
          fieldManager: "argocd-controller",
          force: true,
        });
        expect((forced.spec as { replicas: number }).replicas).toBe(3);
        const owners = (forced.metadata.managedFields ?? []).map((f) => f.manager);
        expect(owners).toContain("argocd-controller");
      }),
    );

    it(
      "lists with label selectors, field selectors and limit/continue paging",
      withEnv(async ({ client }) => {
        for (const n of ["a", "b", "c", "d", "e"]) await client.create(cm(n));
        const sel = await client.list("v1", "ConfigMap", {
          namespace: "default",
          labelSelector: "app in (a,c)",
        });
        expect(sel.items.map((i) => i.metadata.name)).toEqual(["a", "c"]);
        const neq = await client.list("v1", "ConfigMap", {
          namespace: "default",
          labelSelector: "app!=a,app",
        });
        expect(neq.items.map((i) => i.metadata.name)).toEqual(["b", "c", "d", "e"]);
        const f = await client.list("v1", "ConfigMap", { fieldSelector: "metadata.name=d" });
        expect(f.items.map((i) => i.metadata.name)).toEqual(["d"]);
        const p1 = await client.list("v1", "ConfigMap", { namespace: "default", limit: 2 });
        expect(p1.items.map((i) => i.metadata.name)).toEqual(["a", "b"]);
        expect(p1.metadata.remainingItemCount).toBe(3);
        const p2 = await client.list("v1", "ConfigMap", {
          namespace: "default",
          limit: 2,
          continue: p1.metadata.continue!,
        });
        expect(p2.items.map((i) => i.metadata.name)).toEqual(["c", "d"]);
        const bad = await rejects(client.list("v1", "ConfigMap", { labelSelector: "app in (" }));
        expect(bad.code).toBe(400);
      }),
    );

    it(
      "watches add, update and delete, and resumes from a resourceVersion",
      withEnv(async ({ client, until }) => {
        const seen: Array<WatchEvent> = [];
        const start = await client.list("v1", "ConfigMap", { namespace: "default" });
        const w = await client.watch(
          "v1",
          "ConfigMap",
          { namespace: "default", resourceVersion: start.metadata.resourceVersion },
          (e) => seen.push(e),
        );
        const c = await client.create(cm("w"));
        await client.replace({ ...c, data: { a: "2" } });
        await client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "w", namespace: "default" });
        await until(() => seen.length >= 3, "three watch events");
        w.stop();
        expect(seen.map((e) => [e.type, e.object.metadata.name])).toEqual([
          ["ADDED", "w"],
          ["MODIFIED", "w"],
          ["DELETED", "w"],
        ]);
        const resumed: WatchEvent[] = [];
        const w2 = await client.watch(
          "v1",
          "ConfigMap",
          { namespace: "default", resourceVersion: c.metadata.resourceVersion! },
          (e) => resumed.push(e),
        );
        await until(() => resumed.length >= 2, "replayed events");
        w2.stop();
        expect(resumed.map((e) => e.type)).toEqual(["MODIFIED", "DELETED"]);
      }),
    );

    it(
      "watch with a label selector sees objects enter and leave the selection",
      withEnv(async ({ client, until }) => {
        const seen: WatchEvent[] = [];
        const rv = (await client.list("v1", "ConfigMap")).metadata.resourceVersion;
        const w = await client.watch(
          "v1",
          "ConfigMap",
          { labelSelector: "tier=web", resourceVersion: rv },
          (e) => seen.push(e),
        );
        const c = await client.create(cm("sel"));
        const ref = { apiVersion: "v1", kind: "ConfigMap", name: "sel", namespace: "default" };
        await client.patch(ref, { metadata: { labels: { tier: "web" } } }, "merge");
        await client.patch(ref, { metadata: { labels: { tier: "db" } } }, "merge");
        await until(() => seen.length >= 2, "enter and leave");
        w.stop();
        expect(c.metadata.name).toBe("sel");
        expect(seen.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);
      }),
    );

    it(
      "keeps objects with finalizers until the last finalizer is removed",
      withEnv(async ({ client }) => {
        const obj = cm("fin");
        obj.metadata.finalizers = ["example.com/hold"];
        await client.create(obj);
        const ref = { apiVersion: "v1", kind: "ConfigMap", name: "fin", namespace: "default" };
        const pending = await client.delete(ref);
        expect(pending?.metadata.deletionTimestamp).toBeDefined();
        const live = await client.get(ref);
        expect(live.metadata.deletionTimestamp).toBeDefined();
        await client.patch(ref, { metadata: { finalizers: null } }, "merge");
        expect(isNotFound(await rejects(client.get(ref)))).toBe(true);
      }),
    );

    it(
      "garbage-collects dependents by ownerReferences (background) and orphans on request",
      withEnv(async ({ client }) => {
        const owner = await client.create(cm("owner"));
        const ownerRef = {
          apiVersion: "v1",
          kind: "ConfigMap",
          name: "owner",
          uid: owner.metadata.uid!,
          controller: true,
        };
        for (const n of ["dep1", "dep2"]) {
          const d = cm(n);
          d.metadata.ownerReferences = [ownerRef];
          await client.create(d);
        }
        await client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "owner", namespace: "default" });
        const left = await client.list("v1", "ConfigMap", { namespace: "default" });
        expect(left.items.map((i) => i.metadata.name)).not.toContain("dep1");
        expect(left.items.map((i) => i.metadata.name)).not.toContain("dep2");

        const o2 = await client.create(cm("owner2"));
        const d3 = cm("dep3");
        d3.metadata.ownerReferences = [{ ...ownerRef, name: "owner2", uid: o2.metadata.uid! }];
        await client.create(d3);
        await client.delete(
          { apiVersion: "v1", kind: "ConfigMap", name: "owner2", namespace: "default" },
          { propagationPolicy: "Orphan" },
        );
        const orphan = await client.get({
          apiVersion: "v1",
          kind: "ConfigMap",
          name: "dep3",
          namespace: "default",
        });
        expect(orphan.metadata.ownerReferences).toBeUndefined();
      }),
    );

    it(
      "serves a CRD created through the API at once",
      withEnv(async ({ client }) => {
        await client.create({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: { name: "widgets.example.com" },
          spec: {
            group: "example.com",
            scope: "Namespaced",
            names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
            versions: [
              { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
            ],
          },
        });
        const w = await client.create<KubeObject>({
          apiVersion: "example.com/v1",
          kind: "Widget",
          metadata: { name: "w1", namespace: "default" },
          spec: { size: 1 },
        });
        expect(w.metadata.generation).toBe(1);
        const res = await client.resources();
        expect(res.find((r) => r.kind === "Widget")).toMatchObject({ plural: "widgets", namespaced: true });
        const list = await client.list("example.com/v1", "Widget");
        expect(list.items).toHaveLength(1);
      }),
    );

    it(
      "ends a watch from an expired resourceVersion with an in-band ERROR 410 Expired",
      withEnv(async ({ client, until }) => {
        const first = await client.create(cm("old"));
        for (let i = 0; i < 60; i++)
          await client.patch(
            { apiVersion: "v1", kind: "ConfigMap", name: "old", namespace: "default" },
            { data: { i: String(i) } },
            "merge",
          );
        const seen: WatchEvent[] = [];
        let closed: unknown = "open";
        await client.watch(
          "v1",
          "ConfigMap",
          { resourceVersion: first.metadata.resourceVersion! },
          (e) => seen.push(e),
          (err) => {
            closed = err;
          },
        );
        await until(() => closed !== "open", "the watch to end");
        expect(seen).toHaveLength(1);
        expect(seen[0]!.type).toBe("ERROR");
        expect(seen[0]!.object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
        expect(closed).toBeInstanceOf(KubeApiError);
        expect((closed as KubeApiError).code).toBe(410);
      }),
    );

    it(
      "generateName gives a fresh name",
      withEnv(async ({ client }) => {
        const a = await client.create<KubeObject>({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { generateName: "job-", namespace: "default" },
        });
        const b = await client.create<KubeObject>({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { generateName: "job-", namespace: "default" },
        });
        expect(a.metadata.name).toMatch(/^job-[a-z0-9]{5}$/);
        expect(a.metadata.name).not.toBe(b.metadata.name);
      }),
    );
  });
}
