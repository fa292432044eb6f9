import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../engine/kube/types.ts";
import { PatchError, strategicMergePatch } from "./index.ts";

const deployment = (): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", labels: { app: "web" }, finalizers: ["a", "b"] },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "web" } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
    template: {
      metadata: { labels: { app: "web" }, annotations: { "checksum/config": "abc" } },
      spec: {
        containers: [
          {
            name: "app",
            image: "web:v1",
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "1" },
            ],
            ports: [{ containerPort: 8080, protocol: "TCP" }],
          },
          { name: "sidecar", image: "proxy:v1" },
        ],
        tolerations: [{ key: "x", operator: "Exists" }],
        volumes: [{ name: "data", emptyDir: {} }],
      },
    },
  },
});

type Spec = Record<string, unknown>;
const specOf = (o: KubeObject) => o.spec as Spec;
const podSpec = (o: KubeObject) => ((specOf(o).template as Spec).spec as Spec) ?? {};
const containers = (o: KubeObject) => podSpec(o).containers as Spec[];

interface Case {
  name: string;
  original?: KubeObject;
  patch: unknown;
  check: (out: KubeObject) => void;
}

const cases: Case[] = [
  {
    name: "kubectl apply removes an annotation with null",
    patch: { spec: { template: { metadata: { annotations: { "checksum/config": null } } } } },
    check: (out) => expect((specOf(out).template as Spec).metadata).toEqual({ labels: { app: "web" } }),
  },
  {
    name: "kubectl apply removes a container: $setElementOrder + $patch delete",
    patch: {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "app" }],
            containers: [{ $patch: "delete", name: "sidecar" }],
          },
        },
      },
    },
    check: (out) => expect(containers(out).map((c) => c.name)).toEqual(["app"]),
  },
  {
    name: "env var change by name keeps the other vars and the order",
    patch: {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "app" }, { name: "sidecar" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "A" }, { name: "B" }],
                env: [{ name: "B", value: "2" }],
                name: "app",
              },
            ],
          },
        },
      },
    },
    check: (out) =>
      expect(containers(out)[0]!.env).toEqual([
        { name: "A", value: "1" },
        { name: "B", value: "2" },
      ]),
  },
  {
    name: "container image change merges by name",
    patch: { spec: { template: { spec: { containers: [{ name: "app", image: "web:v2" }] } } } },
    check: (out) => {
      expect(containers(out).map((c) => [c.name, c.image])).toEqual([
        ["app", "web:v2"],
        ["sidecar", "proxy:v1"],
      ]);
      expect(containers(out)[0]!.env).toHaveLength(2);
    },
  },
  {
    name: "a new container is placed where $setElementOrder says",
    patch: {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "init" }, { name: "app" }, { name: "sidecar" }],
            containers: [{ name: "init", image: "busybox" }],
          },
        },
      },
    },
    check: (out) => expect(containers(out).map((c) => c.name)).toEqual(["init", "app", "sidecar"]),
  },
  {
    name: "ports merge by containerPort",
    patch: {
      spec: {
        template: {
          spec: { containers: [{ name: "app", ports: [{ containerPort: 9090, name: "metrics" }] }] },
        },
      },
    },
    check: (out) =>
      expect(containers(out)[0]!.ports).toEqual([
        { containerPort: 9090, name: "metrics" },
        { containerPort: 8080, protocol: "TCP" },
      ]),
  },
  {
    name: "tolerations are atomic: replaced",
    patch: { spec: { template: { spec: { tolerations: [{ key: "y", operator: "Exists" }] } } } },
    check: (out) => expect(podSpec(out).tolerations).toEqual([{ key: "y", operator: "Exists" }]),
  },
  {
    name: "$retainKeys on the Deployment strategy (switch to Recreate)",
    patch: { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } } },
    check: (out) => expect(specOf(out).strategy).toEqual({ type: "Recreate" }),
  },
  {
    name: "$retainKeys on a volume item swaps its source",
    patch: {
      spec: {
        template: {
          spec: {
            volumes: [{ $retainKeys: ["configMap", "name"], configMap: { name: "cfg" }, name: "data" }],
          },
        },
      },
    },
    check: (out) => expect(podSpec(out).volumes).toEqual([{ name: "data", configMap: { name: "cfg" } }]),
  },
  {
    name: "$deleteFromPrimitiveList/finalizers and merge of a primitive list",
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"], finalizers: ["c"] } },
    check: (out) => expect(out.metadata.finalizers).toEqual(["c", "b"]),
  },
  {
    name: "$patch: replace on a map",
    patch: { spec: { template: { metadata: { labels: { $patch: "replace", tier: "front" } } } } },
    check: (out) =>
      expect((specOf(out).template as Spec).metadata).toMatchObject({ labels: { tier: "front" } }),
  },
  {
    name: "$patch: delete on a map empties it",
    patch: { spec: { strategy: { $patch: "delete" } } },
    check: (out) => expect(specOf(out).strategy).toEqual({}),
  },
  {
    name: "$patch: replace element replaces a merge list",
    patch: {
      spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } },
    },
    check: (out) => expect(containers(out)).toEqual([{ name: "only", image: "x" }]),
  },
  {
    name: "new keys lose their nulls and directives",
    patch: { spec: { paused: true, minReadySeconds: null, revisionHistoryLimit: 5 } },
    check: (out) => {
      expect(specOf(out).paused).toBe(true);
      expect("minReadySeconds" in specOf(out)).toBe(false);
      expect(specOf(out).revisionHistoryLimit).toBe(5);
    },
  },
  {
    name: "Service ports merge by port; server-only items keep their relative place",
    original: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: {
        ports: [
          { port: 80, targetPort: 8080, name: "http" },
          { port: 443, targetPort: 8443, name: "https" },
        ],
      },
    },
    patch: { spec: { ports: [{ port: 443, targetPort: 9443 }] } },
    check: (out) =>
      expect((out.spec as Spec).ports).toEqual([
        { port: 80, targetPort: 8080, name: "http" },
        { port: 443, targetPort: 9443, name: "https" },
      ]),
  },
  {
    name: "custom resources: lists replace",
    original: {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name: "r" },
      spec: { template: { spec: { containers: [{ name: "a" }, { name: "b" }] } } },
    },
    patch: { spec: { template: { spec: { containers: [{ name: "a", image: "x" }] } } } },
    check: (out) => expect(containers(out)).toEqual([{ name: "a", image: "x" }]),
  },
  {
    name: "ConfigMap data merges key by key",
    original: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "1", b: "2" } },
    patch: { data: { a: null, c: "3" } },
    check: (out) => expect(out.data).toEqual({ b: "2", c: "3" }),
  },
];

describe("strategicMergePatch", () => {
  it.each(cases)("$name", ({ original, patch, check }) => {
    const input = original ?? deployment();
    const frozen = structuredClone(input);
    const out = strategicMergePatch(input, patch);
    check(out);
    expect(input).toEqual(frozen);
  });

  const errors: Array<{ name: string; patch: unknown; message: RegExp }> = [
    { name: "not an object", patch: [1], message: /cannot unmarshal array into Go value of type map/ },
    {
      name: "unknown $patch",
      patch: { spec: { strategy: { $patch: "bogus" } } },
      message: /unknown patch type: bogus/,
    },
    {
      name: "list item without its merge key",
      patch: { spec: { template: { spec: { containers: [{ image: "x" }] } } } },
      message: /does not contain declared merge key: name/,
    },
    {
      name: "$setElementOrder not matching the patch list",
      patch: {
        spec: {
          template: {
            spec: {
              "$setElementOrder/containers": [{ name: "app" }],
              containers: [{ name: "other", image: "x" }],
            },
          },
        },
      },
      message: /doesn't match \$setElementOrder list/,
    },
    {
      name: "$retainKeys missing a patched key",
      patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", extra: 1 } } },
      message: /invalid patch format of retainKeys/,
    },
    {
      name: "$patch: merge in a list",
      patch: { spec: { template: { spec: { containers: [{ $patch: "merge" }] } } } },
      message: /merging lists cannot yet be specified/,
    },
  ];
  it.each(errors)("rejects $name", ({ patch, message }) => {
    expect(() => strategicMergePatch(deployment(), patch)).toThrow(PatchError);
    expect(() => strategicMergePatch(deployment(), patch)).toThrow(message);
  });
});
