/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`):
 * upstream's columns for the built-in kinds (pkg/printers/internalversion)
 * and additionalPrinterColumns (JSONPath) for custom resources.
 */
import type { KubeObject } from "../../../engine/kube/types.ts";
import { getPath, isPlainObject } from "../objutil.ts";
import type { PrinterColumn, ResourceType } from "../registry.ts";

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: ColumnDefinition[];
  rows: TableRow[];
}

/** Upstream duration.HumanDuration: "5s", "3m20s", "2d3h", "400d". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

type Cell = (o: KubeObject, age: (ts: string | undefined) => string) => unknown;
interface Col {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
  description?: string;
  cell: Cell;
}

const rec = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const spec = (o: KubeObject) => rec(o.spec);
const status = (o: KubeObject) => rec(o.status);

const NAME: Col = {
  name: "Name",
  format: "name",
  description:
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
  cell: (o) => o.metadata.name ?? "",
};
const AGE: Col = {
  name: "Age",
  description:
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
  cell: (o, age) => age(o.metadata.creationTimestamp),
};

function containerImages(o: KubeObject): { names: string; images: string } {
  const cs = arr(rec(rec(spec(o).template).spec).containers).map(rec);
  return {
    names: cs.map((c) => String(c.name ?? "")).join(","),
    images: cs.map((c) => String(c.image ?? "")).join(","),
  };
}

/** Wide columns of every kind with a pod template. */
const TEMPLATE_COLUMNS: Col[] = [
  {
    name: "Containers",
    priority: 1,
    description: "Names of each container in the template.",
    cell: (o) => containerImages(o).names,
  },
  {
    name: "Images",
    priority: 1,
    description: "Images referenced by each container in the template.",
    cell: (o) => containerImages(o).images,
  },
];

function selectorText(sel: unknown): string {
  const s = rec(sel);
  const parts = Object.entries(rec(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of arr(s.matchExpressions).map(rec)) {
    const vals = arr(e.values).join(",");
    const op = String(e.operator ?? "");
    if (op === "In") parts.push(`${String(e.key)} in (${vals})`);
    else if (op === "NotIn") parts.push(`${String(e.key)} notin (${vals})`);
    else if (op === "Exists") parts.push(String(e.key));
    else if (op === "DoesNotExist") parts.push(`!${String(e.key)}`);
  }
  return parts.length === 0 ? "<none>" : parts.join(",");
}

function podStatus(o: KubeObject): { ready: string; reason: string; restarts: string } {
  const st = status(o);
  const containers = arr(spec(o).containers);
  const cstats = arr(st.containerStatuses).map(rec);
  let reason = String(st.reason ?? st.phase ?? "Pending");
  let ready = 0;
  let restarts = 0;
  for (const c of cstats) {
    restarts += num(c.restartCount);
    const state = rec(c.state);
    if (
      isPlainObject(state.waiting) &&
      typeof state.waiting.reason === "string" &&
      state.waiting.reason !== ""
    )
      reason = state.waiting.reason;
    else if (isPlainObject(state.terminated)) {
      const t = state.terminated;
      reason =
        typeof t.reason === "string" && t.reason !== ""
          ? t.reason
          : typeof t.signal === "number" && t.signal !== 0
            ? `Signal:${t.signal}`
            : `ExitCode:${num(t.exitCode)}`;
    } else if (c.ready === true && isPlainObject(state.running)) ready++;
  }
  if (o.metadata.deletionTimestamp !== undefined) reason = "Terminating";
  return { ready: `${ready}/${containers.length}`, reason, restarts: String(restarts) };
}

function servicePorts(o: KubeObject): string {
  const ports = arr(spec(o).ports).map(rec);
  if (ports.length === 0) return "<none>";
  return ports
    .map((p) => {
      const base = `${num(p.port)}${p.nodePort === undefined ? "" : `:${num(p.nodePort)}`}/${String(p.protocol ?? "TCP")}`;
      return base;
    })
    .join(",");
}

function hpaTargets(o: KubeObject): string {
  const metrics = arr(spec(o).metrics).map(rec);
  const current = arr(status(o).currentMetrics).map(rec);
  if (metrics.length === 0) return "<none>";
  return metrics
    .map((m, i) => {
      const r = rec(m.resource);
      const target = rec(r.target);
      const cur = rec(rec(current[i]).resource);
      const curVal = rec(cur.current).averageUtilization;
      const want = target.averageUtilization ?? target.averageValue ?? target.value;
      const suffix = target.averageUtilization !== undefined ? "%" : "";
      return `${r.name === undefined ? "" : `${String(r.name)}: `}${curVal === undefined ? "<unknown>" : `${String(curVal)}${suffix}`}/${String(want ?? "<unknown>")}${suffix}`;
    })
    .join(", ");
}

function jobStatus(o: KubeObject): string {
  const conds = arr(status(o).conditions).map(rec);
  const has = (t: string) => conds.some((c) => c.type === t && c.status === "True");
  if (has("Failed")) return "Failed";
  if (has("Complete")) return "Complete";
  if (has("Suspended")) return "Suspended";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

const BUILTIN: Record<string, Col[]> = {
  "/pods": [
    NAME,
    {
      name: "Ready",
      description: "The aggregate readiness state of this pod for accepting traffic.",
      cell: (o) => podStatus(o).ready,
    },
    {
      name: "Status",
      description: "The aggregate status of the containers in this pod.",
      cell: (o) => podStatus(o).reason,
    },
    {
      name: "Restarts",
      description:
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      cell: (o) => podStatus(o).restarts,
    },
    AGE,
    {
      name: "IP",
      priority: 1,
      description: "The IP address assigned to the pod",
      cell: (o) => String(status(o).podIP ?? "<none>"),
    },
    {
      name: "Node",
      priority: 1,
      description: "The node that the pod is assigned to",
      cell: (o) => String(spec(o).nodeName ?? "<none>"),
    },
    {
      name: "Nominated Node",
      priority: 1,
      description: "The node that the pod is nominated to",
      cell: (o) => String(status(o).nominatedNodeName ?? "<none>"),
    },
    {
      name: "Readiness Gates",
      priority: 1,
      description: "The readiness gates of the pod",
      cell: (o) =>
        arr(spec(o).readinessGates).length === 0 ? "<none>" : String(arr(spec(o).readinessGates).length),
    },
  ],
  "apps/deployments": [
    NAME,
    {
      name: "Ready",
      description: "Number of the pod with ready state",
      cell: (o) => `${num(status(o).readyReplicas)}/${num(spec(o).replicas)}`,
    },
    {
      name: "Up-to-date",
      type: "string",
      description:
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
      cell: (o) => num(status(o).updatedReplicas),
    },
    {
      name: "Available",
      type: "string",
      description:
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
      cell: (o) => num(status(o).availableReplicas),
    },
    AGE,
    ...TEMPLATE_COLUMNS,
    {
      name: "Selector",
      priority: 1,
      description:
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
      cell: (o) => selectorText(spec(o).selector),
    },
  ],
  "apps/replicasets": [
    NAME,
    {
      name: "Desired",
      type: "integer",
      description: "Replicas is the number of desired replicas.",
      cell: (o) => num(spec(o).replicas),
    },
    {
      name: "Current",
      type: "integer",
      description: "Replicas is the most recently observed number of replicas.",
      cell: (o) => num(status(o).replicas),
    },
    {
      name: "Ready",
      type: "integer",
      description: "The number of ready replicas for this replica set.",
      cell: (o) => num(status(o).readyReplicas),
    },
    AGE,
    ...TEMPLATE_COLUMNS,
    {
      name: "Selector",
      priority: 1,
      description: "Selector is a label query over pods that should match the replica count.",
      cell: (o) => selectorText(spec(o).selector),
    },
  ],
  "apps/statefulsets": [
    NAME,
    {
      name: "Ready",
      description: "Number of the pod with ready state",
      cell: (o) => `${num(status(o).readyReplicas)}/${num(spec(o).replicas)}`,
    },
    AGE,
    ...TEMPLATE_COLUMNS,
  ],
  "/services": [
    NAME,
    {
      name: "Type",
      description: "The type of the service.",
      cell: (o) => String(spec(o).type ?? "ClusterIP"),
    },
    {
      name: "Cluster-IP",
      description: "The cluster IP of the service.",
      cell: (o) => String(spec(o).clusterIP ?? "<none>"),
    },
    {
      name: "External-IP",
      description: "The external IP of the service.",
      cell: (o) => {
        const ing = arr(rec(status(o).loadBalancer).ingress).map(rec);
        if (ing.length > 0) return ing.map((i) => String(i.ip ?? i.hostname ?? "")).join(",");
        if (spec(o).type === "LoadBalancer") return "<pending>";
        if (spec(o).type === "ExternalName") return String(spec(o).externalName ?? "<none>");
        const ext = arr(spec(o).externalIPs);
        return ext.length > 0 ? ext.join(",") : "<none>";
      },
    },
    { name: "Port(s)", description: "The port(s) of service.", cell: servicePorts },
    AGE,
    {
      name: "Selector",
      priority: 1,
      description: "The label selector of the service.",
      cell: (o) => {
        const s = Object.entries(rec(spec(o).selector)).map(([k, v]) => `${k}=${String(v)}`);
        return s.length === 0 ? "<none>" : s.join(",");
      },
    },
  ],
  "/configmaps": [
    NAME,
    {
      name: "Data",
      type: "integer",
      description: "Data contains the configuration data.",
      cell: (o) => Object.keys(rec(o.data)).length + Object.keys(rec(o.binaryData)).length,
    },
    AGE,
  ],
  "/secrets": [
    NAME,
    { name: "Type", description: "The type of the secret", cell: (o) => String(o.type ?? "Opaque") },
    {
      name: "Data",
      type: "integer",
      description: "The number of data items in the secret.",
      cell: (o) => Object.keys(rec(o.data)).length,
    },
    AGE,
  ],
  "/namespaces": [
    NAME,
    {
      name: "Status",
      description: "The status of the namespace",
      cell: (o) => String(status(o).phase ?? "Active"),
    },
    AGE,
  ],
  "/serviceaccounts": [
    NAME,
    {
      name: "Secrets",
      type: "integer",
      description:
        "Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount.",
      cell: (o) => arr(o.secrets).length,
    },
    AGE,
  ],
  "/events": [
    {
      name: "Last Seen",
      description: "Time when last occurrence of this event was recorded.",
      cell: (o, age) => age(String(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp ?? "")),
    },
    { name: "Type", description: "Type of this event (Normal, Warning).", cell: (o) => String(o.type ?? "") },
    {
      name: "Reason",
      description: "Reason why this event was generated.",
      cell: (o) => String(o.reason ?? ""),
    },
    {
      name: "Object",
      description: "The object that this event is about.",
      cell: (o) => {
        const io = rec(o.involvedObject);
        return `${String(io.kind ?? "").toLowerCase()}/${String(io.name ?? "")}`;
      },
    },
    {
      name: "Message",
      description: "A human-readable description of the status of this operation.",
      cell: (o) => String(o.message ?? ""),
    },
  ],
  "autoscaling/horizontalpodautoscalers": [
    NAME,
    {
      name: "Reference",
      description: "Reference to target resource",
      cell: (o) => {
        const r = rec(spec(o).scaleTargetRef);
        return `${String(r.kind ?? "")}/${String(r.name ?? "")}`;
      },
    },
    { name: "Targets", description: "Current and target metrics", cell: hpaTargets },
    {
      name: "MinPods",
      description: "Minimum number of replicas",
      cell: (o) => String(spec(o).minReplicas ?? 1),
    },
    {
      name: "MaxPods",
      type: "integer",
      description: "Maximum number of replicas",
      cell: (o) => num(spec(o).maxReplicas),
    },
    {
      name: "Replicas",
      type: "integer",
      description: "Current number of replicas",
      cell: (o) => num(status(o).currentReplicas),
    },
    AGE,
  ],
  "batch/jobs": [
    NAME,
    { name: "Status", description: "Status of the job.", cell: jobStatus },
    {
      name: "Completions",
      description: "The desired number of successfully finished pods the job should be run with.",
      cell: (o) => `${num(status(o).succeeded)}/${String(spec(o).completions ?? 1)}`,
    },
    {
      name: "Duration",
      description: "Time required to complete the job.",
      cell: (o, age) => {
        const s = status(o).startTime;
        if (typeof s !== "string") return "";
        const c = status(o).completionTime;
        return typeof c === "string" ? humanDuration(Date.parse(c) - Date.parse(s)) : age(s);
      },
    },
    AGE,
  ],
  "apiextensions.k8s.io/customresourcedefinitions": [
    NAME,
    {
      name: "Created At",
      type: "date",
      description: "CreationTimestamp of the CRD",
      cell: (o) => o.metadata.creationTimestamp ?? "",
    },
  ],
};

function crdColumns(cols: PrinterColumn[]): Col[] {
  return [
    NAME,
    ...cols.map((c): Col => {
      const col: Col = {
        name: c.name,
        type: c.type,
        priority: c.priority ?? 0,
        description: c.description ?? "",
        cell: (o, age) => {
          const v = getPath(o, c.jsonPath);
          if (c.type === "date") return typeof v === "string" ? age(v) : "<unknown>";
          if (v === undefined || v === null) return null;
          return typeof v === "object" ? JSON.stringify(v) : v;
        },
      };
      if (c.format !== undefined) col.format = c.format;
      return col;
    }),
  ];
}

function columnsOf(t: ResourceType): Col[] {
  if (t.custom) {
    const cols = t.columns ?? [];
    return cols.length === 0 ? [NAME, AGE] : crdColumns(cols);
  }
  return BUILTIN[t.key] ?? [NAME, AGE];
}

export type IncludeObject = "None" | "Metadata" | "Object";

/** A Table of `objects` (its rows in order). `withColumns: false` omits columnDefinitions (later watch events). */
export function toTable(
  t: ResourceType,
  objects: KubeObject[],
  nowMs: number,
  opts: { include?: IncludeObject; withColumns?: boolean; metadata?: Table["metadata"] } = {},
): Table {
  const cols = columnsOf(t);
  const age = (ts: string | undefined) => {
    if (ts === undefined || ts === "") return "<unknown>";
    const at = Date.parse(ts);
    return Number.isNaN(at) ? "<unknown>" : humanDuration(nowMs - at);
  };
  const include = opts.include ?? "Metadata";
  const rows = objects.map((o): TableRow => {
    const row: TableRow = { cells: cols.map((c) => c.cell(o, age)) };
    if (include === "Object") row.object = o;
    else if (include === "Metadata")
      row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
    return row;
  });
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: opts.metadata ?? {},
    columnDefinitions:
      opts.withColumns === false
        ? []
        : cols.map((c) => ({
            name: c.name,
            type: c.type ?? "string",
            format: c.format ?? "",
            description: c.description ?? "",
            priority: c.priority ?? 0,
          })),
    rows,
  };
}
