/**
 * The files of the fleet's GitOps monorepo, as the case-study team laid it out:
 *   charts/<svc>/{Chart.yaml, values.yaml, values-staging.yaml, values-production.yaml,
 *                 templates/{_helpers.tpl, rollout.yaml, service.yaml, configmap.yaml, hpa.yaml}}
 *   apps/<svc>.yaml          one Argo CD Application per service (automated sync, prune, selfHeal)
 *   apps/analysis.yaml       the Application that delivers analysis/
 *   analysis/*.yaml          ClusterAnalysisTemplates: error rate and P99 on the canary's pods
 * Templates are ordinary Helm (Go templates): .Values, include of helpers, toYaml | nindent,
 * default, quote. Pure functions of the fleet: same fleet, same bytes.
 */
import { parseDocument, stringify } from "yaml";
import type { Fleet, FleetService } from "./generate.ts";

export interface RepoLayoutOptions {
  /** Repository URL the Applications point at (default https://git.example.com/platform/fleet.git). */
  repoURL?: string;
  /** Prometheus address used by the AnalysisTemplates. */
  prometheusAddress?: string;
  /** Namespace of Argo CD (default argocd). */
  argocdNamespace?: string;
}

const HELPERS = `{{/* Name of the chart's objects. */}}
{{- define "svc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels. */}}
{{- define "svc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{ include "svc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
team: {{ .Values.team | quote }}
tier: {{ .Values.tier | quote }}
{{- end -}}

{{/* Selector labels. */}}
{{- define "svc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "svc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
`;

const ROLLOUT = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: {{ include "svc.name" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ .Values.revisionHistoryLimit | default 10 }}
  selector:
    matchLabels:
      {{- include "svc.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "svc.selectorLabels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    spec:
      containers:
        - name: {{ include "svc.name" . }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" }}
          ports:
            - name: http
              containerPort: {{ .Values.service.targetPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "svc.name" . }}-config
          {{- with .Values.env }}
          env:
            {{- range $name, $value := . }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
          {{- end }}
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
  strategy:
    canary:
      stableService: {{ include "svc.name" . }}
      canaryService: {{ include "svc.name" . }}-canary
      {{- with .Values.canary.trafficRouting }}
      trafficRouting:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .Values.canary.analysis.templates }}
      analysis:
        startingStep: {{ .Values.canary.analysis.startingStep | default 0 }}
        templates:
          {{- range .Values.canary.analysis.templates }}
          - templateName: {{ . }}
            clusterScope: true
          {{- end }}
        args:
          - name: service-name
            value: {{ include "svc.name" . }}
          - name: namespace
            value: {{ .Release.Namespace }}
          - name: canary-hash
            valueFrom:
              podTemplateHashValue: Latest
      {{- end }}
      steps:
        {{- toYaml .Values.canary.steps | nindent 8 }}
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: {{ include "svc.name" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type | default "ClusterIP" }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "svc.selectorLabels" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "svc.name" . }}-canary
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type | default "ClusterIP" }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "svc.selectorLabels" . | nindent 4 }}
`;

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "svc.name" . }}-config
  labels:
    {{- include "svc.labels" . | nindent 4 }}
data:
  {{- range $key, $value := .Values.config }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
`;

const HPA = `{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "svc.name" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    name: {{ include "svc.name" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
`;

/** The case study's canary: 5% for 10 minutes under background analysis, then 25%, 50%, 100%. */
export const CANARY_STEPS = [
  { setWeight: 5 },
  { pause: { duration: "10m" } },
  { setWeight: 25 },
  { pause: { duration: "5m" } },
  { setWeight: 50 },
  { pause: { duration: "5m" } },
];

function doc(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** A string YAML writes as it is (a plain scalar): no indicator, not a number, bool or null. */
const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const NOT_A_STRING =
  /^(?:[-+]?(?:\.\d+|\d[\d_]*(?:\.\d*)?)(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;

/**
 * How the YAML library writes a scalar value as a plain scalar (a string as it is, a number as JSON
 * writes it), or undefined when it would quote or fold it: conservative (only [A-Za-z0-9_./-] strings
 * that do not read as a number, bool or null).
 */
export function plainScalar(v: string | number): string | undefined {
  if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0) ? JSON.stringify(v) : undefined;
  return PLAIN.test(v) && !NOT_A_STRING.test(v) ? v : undefined;
}

const SLOT = /gtbslot(\d+)x/g;
const shapes = new Map<string, string[]>();

/**
 * doc() of a document whose shape is fixed and whose varying leaves are plain scalars: the YAML
 * library writes the shape once, with a marker at each varying leaf, and each document after that
 * puts its leaves in the markers' places (a 200-service fleet's charts and Applications cost ~2 ms
 * of YAML writing each otherwise). A leaf YAML would not write plain (quoted, a number-like
 * string) makes that document go through doc() whole. Same bytes either way.
 */
function shaped(shape: string, build: (leaf: (v: string | number) => string | number) => unknown): string {
  const leaves: Array<string | number> = [];
  const value = build((v) => {
    leaves.push(v);
    return v;
  });
  const out: string[] = [];
  for (const v of leaves) {
    const p = plainScalar(v);
    if (p === undefined) return doc(value);
    out.push(p);
  }
  let parts = shapes.get(shape);
  if (parts === undefined) {
    let i = 0;
    parts = doc(build(() => `gtbslot${i++}x`)).split(SLOT);
    shapes.set(shape, parts);
  }
  // parts alternate text, slot index, text, ...
  let text = parts[0]!;
  for (let k = 1; k < parts.length; k += 2) text += out[Number(parts[k])]! + parts[k + 1]!;
  return text;
}

function selector(extra: string): string {
  return `namespace="{{args.namespace}}",service="{{args.service-name}}",rollouts_pod_template_hash="{{args.canary-hash}}"${extra}`;
}

/** values.yaml of a service's chart. */
export function valuesYaml(s: FleetService): string {
  return shaped("values", (leaf) => ({
    nameOverride: "",
    team: leaf(s.team),
    tier: leaf(s.tier),
    replicaCount: leaf(s.replicas),
    revisionHistoryLimit: 10,
    image: { repository: leaf(s.image.repository), tag: leaf(s.image.tag), pullPolicy: "IfNotPresent" },
    service: { type: "ClusterIP", port: 80, targetPort: 8080 },
    env: { LOG_LEVEL: "info", SERVICE_NAME: leaf(s.name) },
    config: { FEATURE_FLAGS: "", REQUEST_TIMEOUT: "5s", UPSTREAM_RETRIES: "2" },
    resources: {
      requests: { cpu: leaf(`${Math.min(1000, 50 + Math.round(s.rps / 4))}m`), memory: "128Mi" },
      limits: { memory: "256Mi" },
    },
    autoscaling: {
      enabled: false,
      minReplicas: leaf(s.replicas),
      maxReplicas: leaf(s.replicas * 3),
      targetCPUUtilizationPercentage: 70,
    },
    canary: {
      trafficRouting: { smi: {} },
      analysis: { startingStep: 0, templates: ["error-rate", "p99-latency"] },
      steps: CANARY_STEPS,
    },
    slo: { errorRate: leaf(s.slo.errorRate), p99Seconds: leaf(s.slo.p99Ms / 1000) },
  }));
}

export function chartFiles(s: FleetService): Record<string, string> {
  const dir = `charts/${s.name}`;
  return {
    [`${dir}/Chart.yaml`]: doc({
      apiVersion: "v2",
      name: s.name,
      description: `${s.name}: ${s.tier} service owned by team ${s.team}`,
      type: "application",
      version: "0.1.0",
      appVersion: s.image.tag,
    }),
    [`${dir}/values.yaml`]: valuesYaml(s),
    [`${dir}/values-staging.yaml`]: shaped("staging", () => ({
      replicaCount: 1,
      env: { LOG_LEVEL: "debug" },
      canary: { steps: [{ setWeight: 50 }, { pause: { duration: "1m" } }] },
    })),
    [`${dir}/values-production.yaml`]: shaped("production", (leaf) => ({
      replicaCount: leaf(s.replicas),
      env: { LOG_LEVEL: "info" },
    })),
    [`${dir}/templates/_helpers.tpl`]: HELPERS,
    [`${dir}/templates/rollout.yaml`]: ROLLOUT,
    [`${dir}/templates/service.yaml`]: SERVICE,
    [`${dir}/templates/configmap.yaml`]: CONFIGMAP,
    [`${dir}/templates/hpa.yaml`]: HPA,
  };
}

/** A service's Argo CD Application as an object (what applicationYaml writes), e.g. to add annotations to. */
export function applicationObject(s: FleetService, opts: RepoLayoutOptions = {}): Record<string, unknown> {
  return applicationShape(s, opts.repoURL ?? DEFAULT_REPO_URL, opts, (v) => v);
}

export function applicationYaml(s: FleetService, opts: RepoLayoutOptions = {}): string {
  const repoURL = opts.repoURL ?? DEFAULT_REPO_URL;
  return shaped(`application ${repoURL}`, (leaf) => applicationShape(s, repoURL, opts, leaf));
}

const DEFAULT_REPO_URL = "https://git.example.com/platform/fleet.git";

function applicationShape(
  s: FleetService,
  repoURL: string,
  opts: RepoLayoutOptions,
  leaf: (v: string | number) => string | number,
): Record<string, unknown> {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name: leaf(s.name),
      namespace: leaf(opts.argocdNamespace ?? "argocd"),
      labels: { team: leaf(s.team), tier: leaf(s.tier) },
      finalizers: ["resources-finalizer.argocd.argoproj.io"],
    },
    spec: {
      project: "default",
      source: {
        repoURL,
        targetRevision: "HEAD",
        path: leaf(`charts/${s.name}`),
        helm: { valueFiles: ["values-production.yaml"] },
      },
      destination: { server: "https://kubernetes.default.svc", namespace: leaf(s.namespace) },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  };
}

/** The two ClusterAnalysisTemplates of the case study (5-minute windows, every 60 s for 10 minutes). */
export function analysisFiles(opts: RepoLayoutOptions = {}): Record<string, string> {
  const address = opts.prometheusAddress ?? "http://prometheus.monitoring.svc:9090";
  const args = [{ name: "service-name" }, { name: "namespace" }, { name: "canary-hash" }];
  const errorQuery =
    `(sum(rate(http_requests_total{${selector(',code=~"5.."')}}[5m])) or vector(0))\n` +
    `/\nsum(rate(http_requests_total{${selector("")}}[5m]))\n`;
  const p99Query = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${selector("")}}[5m])))\n`;
  const metric = (name: string, query: string, threshold: number) => ({
    name,
    interval: "60s",
    count: 10,
    failureLimit: 0,
    // no requests in the window (NaN) or no series yet (empty) is not evidence of a bad canary
    successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] < ${threshold}`,
    provider: { prometheus: { address, query } },
  });
  const template = (name: string, m: ReturnType<typeof metric>) =>
    doc({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "ClusterAnalysisTemplate",
      metadata: { name },
      spec: { args, metrics: [m] },
    });
  return {
    "analysis/error-rate.yaml": template("error-rate", metric("error-rate", errorQuery, 0.005)),
    "analysis/p99-latency.yaml": template("p99-latency", metric("p99-latency", p99Query, 0.5)),
  };
}

/** Every file of the monorepo for a fleet. */
export function fleetFiles(fleet: Fleet, opts: RepoLayoutOptions = {}): Record<string, string> {
  const files: Record<string, string> = { ...analysisFiles(opts) };
  files["apps/analysis.yaml"] = doc({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: "analysis-templates", namespace: opts.argocdNamespace ?? "argocd" },
    spec: {
      project: "default",
      source: {
        repoURL: opts.repoURL ?? DEFAULT_REPO_URL,
        targetRevision: "HEAD",
        path: "analysis",
      },
      destination: { server: "https://kubernetes.default.svc" },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  });
  for (const s of fleet.services) {
    Object.assign(files, chartFiles(s));
    files[`apps/${s.name}.yaml`] = applicationYaml(s, opts);
  }
  files["README.md"] =
    `# Fleet monorepo (generated by gitops-testbed, seed ${fleet.seed})\n\n` +
    `${fleet.services.length} services, one Helm chart each under charts/, one Argo CD Application each under apps/,\n` +
    "canary analysis templates under analysis/.\n";
  return files;
}

/**
 * Set values in a values file, keeping its comments and order: `setValues(text, {image: {tag: "1.2.3"}})`.
 * Maps merge; anything else replaces; null deletes the key (as Helm merges values).
 */
export function setValues(text: string, patch: Readonly<Record<string, unknown>>): string {
  const doc = parseDocument(text);
  const walk = (path: string[], value: unknown) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk([...path, k], v);
    } else if (value === null) doc.deleteIn(path);
    else doc.setIn(path, value);
  };
  walk([], patch);
  return doc.toString({ lineWidth: 0 });
}

/** The file change of a release: the production values of a service pinned to a new image tag. */
export function releaseChange(
  s: FleetService,
  currentProductionValues: string,
  tag: string,
): Record<string, string> {
  return {
    [`charts/${s.name}/values-production.yaml`]: setValues(currentProductionValues, { image: { tag } }),
  };
}
