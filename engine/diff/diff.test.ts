import { describe, expect, it } from "vitest";
import { GtbError } from "../core/errors.ts";
import type { KubeObject, ManagedFieldsEntry } from "../kube/types.ts";
import { diff, type IgnoreDifference, normalize, parseQuantity } from "./index.ts";

type Mutate = (o: KubeObject) => void;

/** Walk into a test object by keys, creating nothing (throws on a bad path: tests must fail loudly). */
function get(o: unknown, ...path: Array<string | number>): Record<string, unknown> {
  let cur = o;
  for (const k of path) cur = (cur as Record<string | number, unknown>)[k];
  return cur as Record<string, unknown>;
}

const ARGO_FIELDS = {
  "f:metadata": { "f:labels": { "f:app": {} }, "f:annotations": { "f:argocd.argoproj.io/tracking-id": {} } },
  "f:spec": {
    "f:replicas": {},
    "f:selector": {},
    "f:template": {
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:containers": {
          'k:{"name":"app"}': {
            ".": {},
            "f:name": {},
            "f:image": {},
            "f:env": { 'k:{"name":"LOG_LEVEL"}': { ".": {}, "f:name": {}, "f:value": {} } },
            "f:resources": { "f:limits": { "f:cpu": {} } },
          },
        },
      },
    },
  },
};

function desiredDeployment(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "app",
              image: "web:1.0",
              env: [{ name: "LOG_LEVEL", value: "info" }],
              resources: { limits: { cpu: "500m" } },
            },
          ],
        },
      },
    },
  };
}

function liveDeployment(
  managers: ManagedFieldsEntry[] = [entry("argocd-controller", ARGO_FIELDS)],
): KubeObject {
  const d = desiredDeployment();
  d.metadata = {
    ...d.metadata,
    uid: "u-1",
    resourceVersion: "42",
    generation: 2,
    creationTimestamp: "2026-01-05T00:00:00Z",
    annotations: {
      "argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/web",
      "deployment.kubernetes.io/revision": "2",
    },
    managedFields: managers,
  };
  const s = d.spec as Record<string, unknown>;
  s.progressDeadlineSeconds = 600;
  s.revisionHistoryLimit = 10;
  s.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
  const c = get(d, "spec", "template", "spec", "containers", 0);
  c.imagePullPolicy = "IfNotPresent";
  c.terminationMessagePath = "/dev/termination-log";
  c.resources = { limits: { cpu: "0.5" } };
  get(d, "spec", "template", "spec").restartPolicy = "Always";
  d.status = { replicas: 3, availableReplicas: 3, observedGeneration: 2 };
  return d;
}

function entry(
  manager: string,
  fieldsV1: Record<string, unknown>,
  operation: "Apply" | "Update" = "Apply",
): ManagedFieldsEntry {
  return { manager, operation, apiVersion: "apps/v1", fieldsType: "FieldsV1", fieldsV1 };
}

interface Case {
  name: string;
  desired?: Mutate;
  live?: Mutate;
  liveObj?: () => KubeObject;
  ignore?: IgnoreDifference[];
  modified: boolean;
  paths?: string[];
}

const cases: Case[] = [
  { name: "server defaults and status are not drift", modified: false },
  {
    name: "image changed in the cluster is drift",
    live: (o) => {
      get(o, "spec", "template", "spec", "containers", 0).image = "web:hotfix";
    },
    modified: true,
    paths: ["/spec/template/spec/containers/0/image"],
  },
  {
    name: "image changed in Git is drift",
    desired: (o) => {
      get(o, "spec", "template", "spec", "containers", 0).image = "web:2.0";
    },
    modified: true,
    paths: ["/spec/template/spec/containers/0/image"],
  },
  {
    name: "replicas changed by kubectl scale is drift",
    live: (o) => {
      get(o, "spec").replicas = 5;
    },
    modified: true,
    paths: ["/spec/replicas"],
  },
  {
    name: "env var changed is drift",
    live: (o) => {
      get(o, "spec", "template", "spec", "containers", 0, "env", 0).value = "debug";
    },
    modified: true,
    paths: ["/spec/template/spec/containers/0/env/0/value"],
  },
  {
    name: "env var removed from Git but owned by argocd-controller is drift",
    desired: (o) => {
      delete get(o, "spec", "template", "spec", "containers", 0).env;
    },
    modified: true,
    paths: ["/spec/template/spec/containers/0/env"],
  },
  {
    name: "field removed from Git, owned by another manager, is not drift",
    desired: (o) => {
      delete get(o, "spec", "template", "spec", "containers", 0).env;
    },
    liveObj: () => liveDeployment([entry("kubectl", ARGO_FIELDS, "Update")]),
    modified: false,
  },
  {
    name: "replicas removed from Git but still owned is drift",
    desired: (o) => {
      delete get(o, "spec").replicas;
    },
    modified: true,
    paths: ["/spec/replicas"],
  },
  {
    name: "ignoreDifferences jsonPointers /spec/replicas",
    live: (o) => {
      get(o, "spec").replicas = 7;
    },
    ignore: [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }],
    modified: false,
  },
  {
    name: "jsonPointers rule for another kind does not apply",
    live: (o) => {
      get(o, "spec").replicas = 7;
    },
    ignore: [{ group: "apps", kind: "StatefulSet", jsonPointers: ["/spec/replicas"] }],
    modified: true,
  },
  {
    name: "managedFieldsManagers: HPA's kube-controller-manager owns replicas",
    liveObj: () => {
      const o = liveDeployment([
        entry("argocd-controller", ARGO_FIELDS),
        entry("kube-controller-manager", { "f:spec": { "f:replicas": {} } }, "Update"),
      ]);
      get(o, "spec").replicas = 9;
      return o;
    },
    ignore: [{ group: "apps", kind: "Deployment", managedFieldsManagers: ["kube-controller-manager"] }],
    modified: false,
  },
  {
    name: "jqPathExpressions select a container by name",
    live: (o) => {
      get(o, "spec", "template", "spec", "containers", 0).image = "web:patched";
    },
    ignore: [
      {
        group: "apps",
        kind: "Deployment",
        jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "app") | .image'],
      },
    ],
    modified: false,
  },
  {
    name: "annotation and label noise added by others is not drift",
    live: (o) => {
      o.metadata.annotations = {
        ...o.metadata.annotations,
        "kubectl.kubernetes.io/restartedAt": "x",
        "other/note": "y",
      };
      o.metadata.labels = { ...o.metadata.labels, "pod-template-hash": "abc" };
    },
    modified: false,
  },
  {
    name: "an owned label edited in the cluster is drift",
    live: (o) => {
      o.metadata.labels = { app: "other" };
    },
    modified: true,
    paths: ["/metadata/labels/app"],
  },
  {
    name: "a sidecar injected by a webhook is not drift",
    live: (o) => {
      (get(o, "spec", "template", "spec").containers as unknown[]).push({
        name: "istio-proxy",
        image: "proxy:1",
      });
    },
    modified: false,
  },
  {
    name: "quantity 500m equals 0.5",
    modified: false,
  },
];

describe("diff (Deployment, server-side apply)", () => {
  it.each(cases)("$name", (c) => {
    const desired = desiredDeployment();
    c.desired?.(desired);
    const live = c.liveObj?.() ?? liveDeployment();
    c.live?.(live);
    const r = diff(desired, live, { ignoreDifferences: c.ignore ?? [] });
    expect(r.modified).toBe(c.modified);
    if (c.paths !== undefined) expect(r.changes.map((x) => x.path)).toEqual(c.paths);
    if (c.modified) expect(r.text).toContain("===== apps/Deployment shop/web ======");
    else expect(r.text).toBe("");
  });

  it("reports old and new values and a readable text diff", () => {
    const live = liveDeployment();
    get(live, "spec").replicas = 5;
    const r = diff(desiredDeployment(), live);
    expect(r.changes).toEqual([{ path: "/spec/replicas", old: 5, new: 3 }]);
    expect(r.patch).toEqual([{ op: "replace", path: "/spec/replicas", value: 3 }]);
    expect(r.text).toContain("-  replicas: 5\n+  replicas: 3");
    expect(r.normalizedLive?.status).toBeUndefined();
    expect(r.normalizedLive?.metadata.managedFields).toBeUndefined();
  });

  it("missing live object is modified; extra live object (prune) is modified", () => {
    expect(diff(desiredDeployment(), undefined).modified).toBe(true);
    const pruned = diff(undefined, liveDeployment());
    expect(pruned.modified).toBe(true);
    expect(pruned.predictedLive).toBeUndefined();
  });
});

describe("diff (ConfigMap)", () => {
  const cm = (data: Record<string, string>, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg", namespace: "shop", ...extra },
    data,
  });
  const owned = (keys: string[]): ManagedFieldsEntry[] => [
    {
      manager: "argocd-controller",
      operation: "Apply",
      apiVersion: "v1",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": Object.fromEntries(keys.map((k) => [`f:${k}`, {}])) },
    },
  ];
  it.each([
    ["unchanged", { a: "1" }, cm({ a: "1" }, { managedFields: owned(["a"]) }), false],
    ["data edited by hand", { a: "1" }, cm({ a: "2" }, { managedFields: owned(["a"]) }), true],
    [
      "key removed from Git, still owned",
      { a: "1" },
      cm({ a: "1", b: "2" }, { managedFields: owned(["a", "b"]) }),
      true,
    ],
    [
      "key added by hand, not owned",
      { a: "1" },
      cm({ a: "1", b: "2" }, { managedFields: owned(["a"]) }),
      false,
    ],
    [
      "client-side apply: key removed from Git, in last-applied",
      { a: "1" },
      cm(
        { a: "1", b: "2" },
        {
          annotations: {
            "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(cm({ a: "1", b: "2" })),
          },
        },
      ),
      true,
    ],
    [
      "client-side apply: key added by hand, not in last-applied",
      { a: "1" },
      cm(
        { a: "1", b: "2" },
        {
          annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(cm({ a: "1" })) },
        },
      ),
      false,
    ],
  ] as const)("%s", (_n, desiredData, live, modified) => {
    expect(diff(cm({ ...desiredData }), live).modified).toBe(modified);
  });

  it("the same objects diffed again, one side changed or other options, give that diff's answer", () => {
    const tracking = { "argocd.argoproj.io/tracking-id": "shop:/ConfigMap:shop/cfg" };
    const live = cm({ a: "1" }, { managedFields: owned(["a"]), annotations: tracking });
    const same = cm({ a: "1" });
    expect(diff(same, live).modified).toBe(false);
    // the tracking annotation compared only when asked for
    const moved = cm(
      { a: "1" },
      { annotations: { "argocd.argoproj.io/tracking-id": "other:/ConfigMap:shop/cfg" } },
    );
    expect(diff(moved, live).modified).toBe(false);
    expect(diff(moved, live, { keepTrackingAnnotation: true }).modified).toBe(true);
    expect(diff(moved, live).modified).toBe(false);
    const edited = cm({ a: "2" });
    expect(diff(edited, live).changes).toEqual([{ path: "/data/a", old: "1", new: "2" }]);
    const live2 = cm({ a: "2" }, { managedFields: owned(["a"]) });
    expect(diff(edited, live2).modified).toBe(false);
    expect(diff(same, live2).changes).toEqual([{ path: "/data/a", old: "2", new: "1" }]);
    // with ignoreDifferences the rules apply
    expect(
      diff(same, live2, { ignoreDifferences: [{ kind: "ConfigMap", jsonPointers: ["/data/a"] }] }).modified,
    ).toBe(false);
  });
});

describe("normalize", () => {
  it("drops status, server metadata, last-applied and nulls; folds Secret stringData", () => {
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        uid: "u",
        resourceVersion: "1",
        creationTimestamp: null as unknown as string,
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
      },
      stringData: { password: "hunter2" },
      status: {},
    };
    expect(normalize(secret)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { password: Buffer.from("hunter2").toString("base64") },
    });
  });

  it("rejects jq outside the supported subset with a GtbError naming the field", () => {
    const rules: IgnoreDifference[] = [
      { kind: "Deployment", group: "apps", jqPathExpressions: [".spec | to_entries"] },
    ];
    let err: unknown;
    try {
      normalize(desiredDeployment(), { ignoreDifferences: rules });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GtbError);
    expect((err as GtbError).code).toBe("GTB_DIFF_UNSUPPORTED_JQ");
    expect((err as GtbError).path).toBe("ignoreDifferences[0].jqPathExpressions[0]");
  });

  it("jq iteration with optional [] and quoted keys", () => {
    const o = desiredDeployment();
    o.metadata.annotations = { "a/b": "x", keep: "y" };
    const out = normalize(o, {
      ignoreDifferences: [
        {
          group: "apps",
          kind: "Deployment",
          jqPathExpressions: ['.metadata.annotations."a/b"', ".spec.template.spec.containers[]?.env"],
        },
      ],
    });
    expect(out.metadata.annotations).toEqual({ keep: "y" });
    expect(get(out, "spec", "template", "spec", "containers", 0).env).toBeUndefined();
  });
});

describe("parseQuantity", () => {
  it.each([
    ["500m", 0.5],
    ["1Gi", 2 ** 30],
    ["1024Mi", 2 ** 30],
    ["2", 2],
    ["1e3", 1000],
    ["abc", undefined],
  ] as const)("%s", (q, v) => {
    expect(parseQuantity(q)).toBe(v);
  });
});
