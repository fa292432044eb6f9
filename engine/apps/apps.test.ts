import { describe, expect, it } from "vitest";
import { retryDelayMs, retryLimit, selfHealDelayMs } from "./backoff.ts";
import { auditTrail } from "./audit-trail.ts";
import { CompareMemo, compareApp, defaultScope, prepareDesired } from "./compare.ts";
import { HealthRegistry } from "../health/registry.ts";
import type { KubeObject } from "../kube/types.ts";
import type { AppEvent } from "./events.ts";
import type { Application } from "./types.ts";
import { validateApplication } from "./validate.ts";
import { WorkQueue } from "./queue.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";

const base = (spec: Record<string, unknown>): Application =>
  ({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: "a", namespace: "argocd" },
    spec,
  }) as Application;
const source = { repoURL: "file:///r", path: "p" };
const destination = { server: "https://kubernetes.default.svc", namespace: "ns" };

describe("self-heal and retry backoff", () => {
  it("self-heal waits 0, 2, 6, 18, 54, 162, 300, 300 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => selfHealDelayMs(n) / 1000)).toEqual([
      0, 2, 6, 18, 54, 162, 300, 300,
    ]);
  });
  it("automated retry defaults to 5 attempts waiting 5, 10, 20, 40, 80 s", () => {
    expect(retryLimit(undefined, true)).toBe(5);
    expect(retryLimit(undefined, false)).toBe(0);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(undefined, n) / 1000)).toEqual([5, 10, 20, 40, 80]);
    expect(retryDelayMs({ backoff: { duration: "10s", factor: 3, maxDuration: "1m" } }, 3)).toBe(60_000);
    expect(retryLimit({ limit: -1 }, true)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("Application validation", () => {
  it.each([
    ["valid", { source, destination }, []],
    ["sources wins", { sources: [source, { repoURL: "file:///s" }], destination }, []],
    ["no source", { destination }, ["spec.source or spec.sources is required"]],
    ["no destination", { source }, ["spec.destination: Destination server missing from app spec"]],
    [
      "both name and server",
      { source, destination: { ...destination, name: "in-cluster" } },
      ["spec.destination: application destination can't have both name and server defined"],
    ],
    [
      "unknown syncPolicy field",
      { source, destination, syncPolicy: { automatic: {} } },
      ['spec.syncPolicy.automatic: unknown field "automatic"'],
    ],
    [
      "unknown automated field",
      { source, destination, syncPolicy: { automated: { selfheal: true } } },
      ['spec.syncPolicy.automated.selfheal: unknown field "selfheal"'],
    ],
    [
      "bad backoff",
      { source, destination, syncPolicy: { retry: { backoff: { duration: "5 sec" } } } },
      ['spec.syncPolicy.retry.backoff.duration: invalid duration "5 sec"'],
    ],
    [
      "helm repo chart",
      { source: { repoURL: "https://charts.example.com", chart: "x" }, destination },
      ["spec.source.chart: Helm repository charts are not supported; use a chart in Git"],
    ],
  ])("%s", (_n, spec, errors) => {
    expect(validateApplication(base(spec)).errors).toEqual(errors);
  });
});

describe("desired objects", () => {
  it("fills destination namespace only on namespaced objects without one and adds the tracking id", () => {
    const out = prepareDesired(
      "web",
      [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "other" } },
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "r" } },
      ],
      "dest",
      defaultScope,
    );
    expect(
      out.map((o) => [o.metadata.namespace, o.metadata.annotations?.["argocd.argoproj.io/tracking-id"]]),
    ).toEqual([
      ["dest", "web:/ConfigMap:dest/a"],
      ["other", "web:/ConfigMap:other/b"],
      [undefined, "web:/Namespace:/n"],
      [undefined, "web:rbac.authorization.k8s.io/ClusterRole:/r"],
    ]);
  });
});

describe("comparison memo", () => {
  const health = new HealthRegistry();
  const desired: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "a", namespace: "n" },
    data: { k: "v" },
  };
  const owned = (manager: string) => [
    {
      manager,
      operation: "Apply" as const,
      apiVersion: "v1",
      fieldsType: "FieldsV1" as const,
      fieldsV1: { "f:data": { "f:k": {}, "f:x": {} } },
    },
  ];
  const live = (rv: string, manager: string, data: Record<string, string>, status?: unknown): KubeObject => ({
    ...desired,
    metadata: { ...desired.metadata, resourceVersion: rv, managedFields: owned(manager) },
    data,
    ...(status !== undefined ? { status } : {}),
  });
  // each step compares with one shared memo; the result must equal a fresh comparison's
  const steps: Array<[string, KubeObject, string]> = [
    ["extra field the engine owns", live("1", "argocd-controller", { k: "v", x: "y" }), "OutOfSync data.x"],
    [
      "status-only change (memo reused)",
      live("2", "argocd-controller", { k: "v", x: "y" }, { a: 1 }),
      "OutOfSync data.x",
    ],
    ["ownership moved to another manager", live("3", "someone", { k: "v", x: "y" }), "Synced "],
    ["spec change after a memoized diff", live("4", "someone", { k: "edited", x: "y" }), "OutOfSync data.k"],
    ["back to Git", live("5", "someone", { k: "v" }), "Synced "],
  ];
  it("gives what a fresh comparison gives at every step", () => {
    const memo = new CompareMemo(health);
    for (const [name, l, want] of steps) {
      const opts = { health, manager: "argocd-controller" };
      const got = compareApp([desired], [l], { ...opts, memo }).resources[0]!;
      const fresh = compareApp([desired], [l], opts).resources[0]!;
      expect({ name, got: `${got.status} ${got.changes.map((c) => c.path).join(",")}` }).toEqual({
        name,
        got: want,
      });
      expect(got.changes).toEqual(fresh.changes);
    }
  });
});

describe("audit trail", () => {
  it("renders deploys, drifts and heals and filters by app", () => {
    const appEvents: AppEvent[] = [
      {
        type: "drift.detected",
        time: 0,
        app: "a",
        revision: "r",
        resource: { group: "apps", kind: "Deployment", namespace: "ns", name: "d" },
        changes: [{ path: "spec.replicas", old: 2, new: 5 }],
        identity: "alice",
        fieldManager: "kubectl-scale",
        writtenAt: 0,
      },
      {
        type: "drift.healed",
        time: 2000,
        app: "a",
        revision: "r",
        resource: { group: "apps", kind: "Deployment", namespace: "ns", name: "d" },
        detectedAt: 0,
        by: "selfHeal",
      },
      {
        type: "drift.healed",
        time: 2000,
        app: "b",
        revision: "r",
        resource: { group: "", kind: "ConfigMap", namespace: "ns", name: "c" },
        detectedAt: 0,
        by: "external",
      },
    ];
    const lines = auditTrail([...appEvents, { type: "notification.sent", time: 0 }], { app: "a" });
    expect(lines).toEqual([
      "1970-01-01T00:00:00Z  a  drift Deployment/ns/d  spec.replicas 2 -> 5  by alice (kubectl-scale) written 1970-01-01T00:00:00Z",
      "1970-01-01T00:00:02Z  a  healed Deployment/ns/d by selfHeal after 2s",
    ]);
  });
});

describe("WorkQueue.done", () => {
  it("resolves once the key is neither queued nor processed, a re-run of a key added meanwhile included", async () => {
    const gates: Array<() => void> = [];
    const runs: string[] = [];
    const q = new WorkQueue(
      new VirtualClock(),
      1,
      async (k) => {
        runs.push(k);
        await new Promise<void>((r) => gates.push(r));
      },
      () => {},
    );
    let resolved = false;
    await q.done("idle");
    q.add("a");
    q.add("b");
    const done = q.done("b").then(() => {
      resolved = true;
    });
    await Promise.resolve();
    expect(runs).toEqual(["a"]);
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(runs).toEqual(["a", "b"]);
    q.add("b"); // while b runs: it runs again afterwards, and done waits for that run
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    expect(runs).toEqual(["a", "b", "b"]);
    gates.shift()!();
    await done;
    expect(resolved).toBe(true);
    q.add("c");
    const stopped = q.done("c");
    q.stop();
    await stopped;
  });
});
