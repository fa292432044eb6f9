/**
 * Building AnalysisRuns for a Rollout from AnalysisTemplates and
 * ClusterAnalysisTemplates (upstream analysisutil.NewAnalysisRunFromTemplates):
 * metrics concatenated, args merged and resolved (value, podTemplateHashValue
 * Stable|Latest, fieldRef.fieldPath), dry-run and retention rules merged.
 */
import { mergeArgs } from "../analysis/args.ts";
import {
  ARGO_API_VERSION,
  type AnalysisRun,
  type AnalysisTemplate,
  type Argument,
} from "../analysis/types.ts";
import { type KubeClient, isNotFound } from "../kube/types.ts";
import {
  POD_HASH_LABEL,
  REVISION_ANNOTATION,
  ROLLOUT_TYPE_LABEL,
  type Rollout,
  type RolloutAnalysis,
  STEP_INDEX_LABEL,
} from "./types.ts";

export class TemplateNotFoundError extends Error {
  override name = "TemplateNotFoundError";
}

/** Read `metadata.labels['app']`, `metadata.name`, `spec.replicas`... from an object (fieldRef.fieldPath). */
export function fieldPathValue(obj: unknown, fieldPath: string): string | undefined {
  const parts: string[] = [];
  const re = /([^.[\]]+)|\[['"]?([^'"\]]+)['"]?\]/g;
  for (let m = re.exec(fieldPath); m !== null; m = re.exec(fieldPath)) parts.push((m[1] ?? m[2])!);
  let cur: unknown = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === "string" ? cur : JSON.stringify(cur);
}

/** Resolve valueFrom args against the rollout (upstream: stable/latest pod hash, fieldRef). */
export function resolveArgs(
  args: readonly Argument[],
  ro: Rollout,
  stableHash: string | undefined,
  latestHash: string,
): Argument[] {
  return args.map((a) => {
    if (a.value !== undefined || a.valueFrom === undefined) return a;
    const vf = a.valueFrom;
    let value: string | undefined;
    if (vf.podTemplateHashValue === "Stable") value = stableHash;
    else if (vf.podTemplateHashValue === "Latest") value = latestHash;
    else if (vf.fieldRef !== undefined) value = fieldPathValue(ro, vf.fieldRef.fieldPath);
    if (value === undefined) throw new Error(`failed to resolve args.${a.name} from ${JSON.stringify(vf)}`);
    return { name: a.name, value };
  });
}

/** Fetch the templates an analysis names (namespaced or clusterScope). */
export async function fetchTemplates(
  client: KubeClient,
  namespace: string,
  analysis: RolloutAnalysis,
): Promise<AnalysisTemplate[]> {
  const out: AnalysisTemplate[] = [];
  for (const ref of analysis.templates ?? []) {
    const kind = ref.clusterScope === true ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
    try {
      out.push(
        await client.get<AnalysisTemplate>(
          ref.clusterScope === true
            ? { apiVersion: ARGO_API_VERSION, kind, name: ref.templateName }
            : { apiVersion: ARGO_API_VERSION, kind, name: ref.templateName, namespace },
        ),
      );
    } catch (e) {
      if (isNotFound(e)) throw new TemplateNotFoundError(`${kind} '${ref.templateName}' not found`);
      throw e;
    }
  }
  return out;
}

export interface NewRunParams {
  ro: Rollout;
  analysis: RolloutAnalysis;
  templates: readonly AnalysisTemplate[];
  name: string;
  stableHash: string | undefined;
  latestHash: string;
  revision: number;
  /** Step index for inline step analysis; undefined for background analysis. */
  stepIndex: number | undefined;
}

/** A new AnalysisRun object (not yet created) for a rollout. */
export function newAnalysisRun(p: NewRunParams): AnalysisRun {
  const templateArgs: Argument[] = [];
  for (const t of p.templates) {
    for (const a of t.spec.args ?? []) if (!templateArgs.some((x) => x.name === a.name)) templateArgs.push(a);
  }
  const args = resolveArgs(mergeArgs(p.analysis.args ?? [], templateArgs), p.ro, p.stableHash, p.latestHash);
  const labels: Record<string, string> = {
    [POD_HASH_LABEL]: p.latestHash,
    [ROLLOUT_TYPE_LABEL]: p.stepIndex === undefined ? "Background" : "Step",
  };
  if (p.stepIndex !== undefined) labels[STEP_INDEX_LABEL] = String(p.stepIndex);
  const dryRun = [...p.templates.flatMap((t) => t.spec.dryRun ?? []), ...(p.analysis.dryRun ?? [])];
  const retention = [
    ...p.templates.flatMap((t) => t.spec.measurementRetention ?? []),
    ...(p.analysis.measurementRetention ?? []),
  ];
  return {
    apiVersion: ARGO_API_VERSION,
    kind: "AnalysisRun",
    metadata: {
      name: p.name,
      namespace: p.ro.metadata.namespace ?? "default",
      labels,
      annotations: { [REVISION_ANNOTATION]: String(p.revision) },
      ownerReferences: [
        {
          apiVersion: p.ro.apiVersion,
          kind: "Rollout",
          name: p.ro.metadata.name ?? "",
          uid: p.ro.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      metrics: p.templates.flatMap((t) => t.spec.metrics),
      args,
      ...(dryRun.length > 0 ? { dryRun } : {}),
      ...(retention.length > 0 ? { measurementRetention: retention } : {}),
    },
  };
}
