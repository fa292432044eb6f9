/**
 * Resource registry: every kind the embedded API server serves, with what
 * discovery, tables and the store need to know about it. Built-ins are
 * listed here; custom resources come from CustomResourceDefinitions (the
 * Argo CRDs are pre-registered, others are added when a CRD is created).
 */
import type { ApiResourceInfo, KubeObject } from "../../engine/kube/types.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface ResourceType {
  group: string;
  version: string;
  /** Every version served (CRDs may serve several; objects are stored once). */
  versions: string[];
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Has a /status subresource: main-resource writes ignore status, /status writes touch only status. */
  status: boolean;
  scale?: ScaleSpec;
  /** Custom resource: strategic merge patch is refused with 415 as upstream. */
  custom: boolean;
  /** CRD additionalPrinterColumns (custom resources only). */
  columns?: PrinterColumn[];
  /** Storage key: group/plural. */
  key: string;
}

export const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function rt(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<Omit<ResourceType, "group" | "version" | "kind" | "plural" | "namespaced">> = {},
): ResourceType {
  return {
    group,
    version,
    versions: [version],
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    categories: [],
    status: false,
    custom: false,
    key: `${group}/${plural}`,
    ...extra,
  };
}

const REPLICAS_SCALE: ScaleSpec = {
  specReplicasPath: ".spec.replicas",
  statusReplicasPath: ".status.replicas",
  labelSelectorPath: ".status.selector",
};

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export function builtinTypes(): ResourceType[] {
  const all = ["all"];
  return [
    rt("", "v1", "Namespace", "namespaces", false, { shortNames: ["ns"], status: true }),
    rt("", "v1", "ConfigMap", "configmaps", true, { shortNames: ["cm"] }),
    rt("", "v1", "Secret", "secrets", true),
    rt("", "v1", "Service", "services", true, { shortNames: ["svc"], categories: all, status: true }),
    rt("", "v1", "ServiceAccount", "serviceaccounts", true, { shortNames: ["sa"] }),
    rt("", "v1", "Pod", "pods", true, { shortNames: ["po"], categories: all, status: true }),
    rt("", "v1", "Event", "events", true, { shortNames: ["ev"] }),
    rt("apps", "v1", "Deployment", "deployments", true, {
      shortNames: ["deploy"],
      categories: all,
      status: true,
      scale: REPLICAS_SCALE,
    }),
    rt("apps", "v1", "ReplicaSet", "replicasets", true, {
      shortNames: ["rs"],
      categories: all,
      status: true,
      scale: REPLICAS_SCALE,
    }),
    rt("apps", "v1", "StatefulSet", "statefulsets", true, {
      shortNames: ["sts"],
      categories: all,
      status: true,
      scale: REPLICAS_SCALE,
    }),
    rt("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, {
      shortNames: ["hpa"],
      categories: all,
      status: true,
    }),
    rt("batch", "v1", "Job", "jobs", true, { categories: all, status: true }),
    rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, {
      shortNames: ["crd", "crds"],
      categories: ["api-extensions"],
      status: true,
    }),
  ];
}

/** The Argo CRDs, as their upstream manifests declare them (names, scope, columns, subresources). */
export function argoCrds(): KubeObject[] {
  const crd = (
    kind: string,
    plural: string,
    scope: "Namespaced" | "Cluster",
    shortNames: string[],
    columns: PrinterColumn[],
    subresources: Record<string, unknown>,
  ): KubeObject => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.argoproj.io`, labels: { "app.kubernetes.io/part-of": "argo" } },
    spec: {
      group: "argoproj.io",
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames },
      scope,
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          ...(columns.length > 0 ? { additionalPrinterColumns: columns } : {}),
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          ...(Object.keys(subresources).length > 0 ? { subresources } : {}),
        },
      ],
    },
  });
  return [
    crd(
      "Application",
      "applications",
      "Namespaced",
      ["app", "apps"],
      [
        { name: "Sync Status", type: "string", jsonPath: ".status.sync.status" },
        { name: "Health Status", type: "string", jsonPath: ".status.health.status" },
        { name: "Revision", type: "string", jsonPath: ".status.sync.revision", priority: 10 },
        { name: "Project", type: "string", jsonPath: ".spec.project", priority: 10 },
      ],
      {},
    ),
    crd("AppProject", "appprojects", "Namespaced", ["appproj", "appprojs"], [], {}),
    crd(
      "Rollout",
      "rollouts",
      "Namespaced",
      ["ro"],
      [
        {
          name: "Desired",
          type: "integer",
          jsonPath: ".spec.replicas",
          description: "Number of desired pods",
        },
        {
          name: "Current",
          type: "integer",
          jsonPath: ".status.replicas",
          description: "Total number of non-terminated pods targeted by this rollout",
        },
        {
          name: "Up-to-date",
          type: "integer",
          jsonPath: ".status.updatedReplicas",
          description:
            "Total number of non-terminated pods targeted by this rollout that have the desired template spec",
        },
        {
          name: "Available",
          type: "integer",
          jsonPath: ".status.availableReplicas",
          description:
            "Total number of available pods (ready for at least minReadySeconds) targeted by this rollout",
        },
        { ...AGE, description: "Time since resource was created" },
      ],
      {
        scale: {
          labelSelectorPath: ".status.selector",
          specReplicasPath: ".spec.replicas",
          statusReplicasPath: ".status.HPAReplicas",
        },
        status: {},
      },
    ),
    crd("AnalysisTemplate", "analysistemplates", "Namespaced", ["at"], [AGE], {}),
    crd("ClusterAnalysisTemplate", "clusteranalysistemplates", "Cluster", ["cat"], [AGE], {}),
    crd(
      "AnalysisRun",
      "analysisruns",
      "Namespaced",
      ["ar"],
      [{ name: "Status", type: "string", jsonPath: ".status.phase", description: "AnalysisRun status" }, AGE],
      { status: {} },
    ),
  ];
}

interface CrdVersion {
  name?: unknown;
  served?: unknown;
  storage?: unknown;
  additionalPrinterColumns?: unknown;
  subresources?: { status?: unknown; scale?: ScaleSpec };
}

/** The resource types a CustomResourceDefinition object declares (one per served version). */
export function typeFromCrd(crd: KubeObject): ResourceType | undefined {
  const spec = crd.spec as
    | {
        group?: string;
        scope?: string;
        names?: {
          kind?: string;
          listKind?: string;
          plural?: string;
          singular?: string;
          shortNames?: string[];
          categories?: string[];
        };
        versions?: CrdVersion[];
      }
    | undefined;
  if (spec?.group === undefined || spec.names?.kind === undefined || spec.names.plural === undefined)
    return undefined;
  const versions = (spec.versions ?? []).filter((v) => v.served !== false && typeof v.name === "string");
  const storage = versions.find((v) => v.storage === true) ?? versions[0];
  if (storage === undefined) return undefined;
  const kind = spec.names.kind;
  const t: ResourceType = {
    group: spec.group,
    version: storage.name as string,
    versions: versions.map((v) => v.name as string),
    kind,
    listKind: spec.names.listKind ?? `${kind}List`,
    plural: spec.names.plural,
    singular: spec.names.singular ?? kind.toLowerCase(),
    namespaced: spec.scope !== "Cluster",
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    status: storage.subresources?.status !== undefined,
    custom: true,
    columns: Array.isArray(storage.additionalPrinterColumns)
      ? (storage.additionalPrinterColumns as PrinterColumn[])
      : [],
    key: `${spec.group}/${spec.names.plural}`,
  };
  if (storage.subresources?.scale !== undefined) t.scale = storage.subresources.scale;
  return t;
}

/** Lookup tables over the served types; mutated when CRDs come and go. */
export class Registry {
  private readonly byKey = new Map<string, ResourceType>();
  /** apiVersion -> kind -> type (two lookups of the caller's own strings: no key built per call). */
  private readonly byGvk = new Map<string, Map<string, ResourceType>>();
  private readonly byGvr = new Map<string, ResourceType>();
  private readonly byKind = new Map<string, ResourceType>();

  constructor(types: ResourceType[]) {
    for (const t of types) this.add(t);
  }

  add(t: ResourceType): void {
    const old = this.byKey.get(t.key);
    if (old !== undefined) this.remove(old.key);
    this.byKey.set(t.key, t);
    for (const v of t.versions) {
      const gv = t.group === "" ? v : `${t.group}/${v}`;
      let kinds = this.byGvk.get(gv);
      if (kinds === undefined) {
        kinds = new Map();
        this.byGvk.set(gv, kinds);
      }
      kinds.set(t.kind, t);
      this.byGvr.set(`${t.group}|${v}|${t.plural}`, t);
    }
    if (!this.byKind.has(t.kind)) this.byKind.set(t.kind, t);
  }

  remove(key: string): ResourceType | undefined {
    const t = this.byKey.get(key);
    if (t === undefined) return undefined;
    this.byKey.delete(key);
    for (const v of t.versions) {
      const gv = t.group === "" ? v : `${t.group}/${v}`;
      const kinds = this.byGvk.get(gv);
      kinds?.delete(t.kind);
      if (kinds?.size === 0) this.byGvk.delete(gv);
      this.byGvr.delete(`${t.group}|${v}|${t.plural}`);
    }
    if (this.byKind.get(t.kind) === t) this.byKind.delete(t.kind);
    return t;
  }

  byApiVersionKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.byGvk.get(apiVersion)?.get(kind);
  }

  byResource(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byGvr.get(`${group}|${version}|${plural}`);
  }

  get(key: string): ResourceType | undefined {
    return this.byKey.get(key);
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  /** Group versions in discovery order (core first, then groups by name). */
  groups(): Array<{ group: string; versions: string[]; preferred: string }> {
    const m = new Map<string, { versions: string[]; preferred: string }>();
    for (const t of this.byKey.values()) {
      if (t.group === "") continue;
      const g = m.get(t.group) ?? { versions: [], preferred: t.version };
      for (const v of t.versions) if (!g.versions.includes(v)) g.versions.push(v);
      m.set(t.group, g);
    }
    return [...m.entries()].map(([group, g]) => ({ group, ...g }));
  }

  info(): ApiResourceInfo[] {
    const out: ApiResourceInfo[] = [];
    for (const t of this.byKey.values()) {
      for (const v of t.versions) {
        const subresources: string[] = [];
        if (t.status) subresources.push("status");
        if (t.scale !== undefined) subresources.push("scale");
        const info: ApiResourceInfo = {
          group: t.group,
          version: v,
          kind: t.kind,
          plural: t.plural,
          singular: t.singular,
          namespaced: t.namespaced,
          subresources,
        };
        if (t.shortNames.length > 0) info.shortNames = t.shortNames;
        out.push(info);
      }
    }
    return out;
  }
}

/** apiVersion string of a group/version. */
export function gvString(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}
