/**
 * Per-kind patch metadata of the built-in kinds, as the Go struct tags of
 * k8s.io/api declare it: `patchStrategy`/`patchMergeKey` (strategic merge
 * patch) and `+listType`/`+listMapKey` (server-side apply, structured-merge-diff).
 * Only the fields whose behaviour differs from the default are listed: maps
 * merge key by key, lists are atomic (SMP: replaced; SSA: owned as a whole).
 */

/** How server-side apply treats a list. */
export type SsaListType = { type: "map"; keys: string[] } | { type: "set" } | { type: "atomic" };

export interface ListSchema {
  /** SMP `patchMergeKey` when `patchStrategy` includes merge; primitives lists merge without a key. */
  smpMerge?: { key?: string };
  /** SMP `patchStrategy:"merge,retainKeys"`: `$retainKeys` applies to the items. */
  itemRetainKeys?: boolean;
  ssa: SsaListType;
  /** Server defaults of key fields (Service/container ports default protocol to TCP). */
  keyDefaults?: Record<string, unknown>;
  item?: StructSchema;
  /** The Go field has no omitempty (PodSpec.containers): an empty object already has it. */
  zeroValue?: boolean;
}

export interface FieldSchema {
  list?: ListSchema;
  struct?: StructSchema;
  /** SMP `patchStrategy:"retainKeys"` on a struct field (Deployment .spec.strategy). */
  retainKeys?: boolean;
  /** SSA `+structType=atomic` / `+mapType=atomic`: owned as a whole (label selectors, node selectors). */
  atomic?: boolean;
}

export type StructSchema = { readonly [field: string]: FieldSchema };

const mapList = (
  keys: string[],
  item?: StructSchema,
  extra: Partial<ListSchema> = {},
): { list: ListSchema } => ({
  list: { smpMerge: { key: keys[0] }, ssa: { type: "map", keys }, ...(item ? { item } : {}), ...extra },
});

const conditions = mapList(["type"]);

export const OBJECT_META: StructSchema = {
  finalizers: { list: { smpMerge: {}, ssa: { type: "set" } } },
  ownerReferences: mapList(["uid"]),
};

const TCP = { keyDefaults: { protocol: "TCP" } };

const CONTAINER: StructSchema = {
  ports: { list: { ...mapList(["containerPort", "protocol"]).list, ...TCP } },
  env: mapList(["name"]),
  volumeMounts: mapList(["mountPath"]),
  volumeDevices: mapList(["devicePath"]),
};

const ATOMIC: FieldSchema = { atomic: true };

const POD_SPEC: StructSchema = {
  nodeSelector: ATOMIC,
  containers: mapList(["name"], CONTAINER, { zeroValue: true }),
  initContainers: mapList(["name"], CONTAINER),
  ephemeralContainers: mapList(["name"], CONTAINER),
  volumes: mapList(["name"], undefined, { itemRetainKeys: true }),
  imagePullSecrets: mapList(["name"]),
  hostAliases: mapList(["ip"]),
  schedulingGates: mapList(["name"]),
  resourceClaims: mapList(["name"], undefined, { itemRetainKeys: true }),
  topologySpreadConstraints: mapList(["topologyKey", "whenUnsatisfiable"]),
};

const POD_TEMPLATE: StructSchema = { metadata: { struct: OBJECT_META }, spec: { struct: POD_SPEC } };

const STATUS_WITH_CONDITIONS: FieldSchema = { struct: { conditions } };

const workload = (specExtra: StructSchema = {}): StructSchema => ({
  spec: { struct: { selector: ATOMIC, template: { struct: POD_TEMPLATE }, ...specExtra } },
  status: STATUS_WITH_CONDITIONS,
});

const KINDS: Record<string, StructSchema> = {
  "v1/Pod": { spec: { struct: POD_SPEC }, status: STATUS_WITH_CONDITIONS },
  "v1/PodTemplate": { template: { struct: POD_TEMPLATE } },
  "v1/Service": {
    spec: {
      struct: { selector: ATOMIC, ports: { list: { ...mapList(["port", "protocol"]).list, ...TCP } } },
    },
    status: STATUS_WITH_CONDITIONS,
  },
  "v1/ServiceAccount": { secrets: mapList(["name"]) },
  "v1/ConfigMap": {},
  "v1/Secret": {},
  "v1/Namespace": { status: STATUS_WITH_CONDITIONS },
  "apps/v1/Deployment": workload({ strategy: { retainKeys: true } }),
  "apps/v1/ReplicaSet": workload(),
  "apps/v1/StatefulSet": workload(),
  "apps/v1/DaemonSet": workload({ updateStrategy: { retainKeys: true } }),
  "batch/v1/Job": workload(),
  "batch/v1/CronJob": {
    spec: { struct: { jobTemplate: { struct: { spec: { struct: workload().spec!.struct! } } } } },
  },
  "autoscaling/v2/HorizontalPodAutoscaler": { status: STATUS_WITH_CONDITIONS },
  "policy/v1/PodDisruptionBudget": { status: STATUS_WITH_CONDITIONS },
};

const GENERIC: StructSchema = {};

/** True for the kinds strategic merge patch knows (a real server answers 415 for others). */
export function isBuiltinKind(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in KINDS;
}

const withMeta = (s: StructSchema): StructSchema => ({ ...s, metadata: { struct: OBJECT_META } });
const SCHEMAS = new Map(Object.entries(KINDS).map(([k, s]) => [k, withMeta(s)]));
const GENERIC_SCHEMA = withMeta(GENERIC);

/** The schema of a kind; unknown kinds (custom resources) get metadata only: all lists atomic. */
export function schemaOf(apiVersion: string, kind: string): StructSchema {
  return SCHEMAS.get(`${apiVersion}/${kind}`) ?? GENERIC_SCHEMA;
}
