/**
 * Three-way diff of one resource (gitops-engine pkg/diff/diff.go): returns
 * whether it is modified, both normalized sides and the predicted live state.
 *
 * - fields the server added (defaults) are not drift;
 * - fields set in Git but different in the cluster are drift;
 * - fields removed from Git but still present and owned by the engine's field
 *   manager (server-side apply managedFields), or, when the engine used
 *   client-side apply, listed in the last-applied-configuration annotation, are drift.
 * Without either ownership record the comparison is two-way (desired ⊆ live).
 */
import { stringify } from "yaml";
import { GtbError } from "../core/errors.ts";
import { type KubeObject, splitApiVersion } from "../kube/types.ts";
import { type FieldSet, fieldsOf, ownedFields } from "./fieldset.ts";
import type { IgnoreDifference } from "./ignore.ts";
import { jsonPatch, type PatchOp, valueAtPointer } from "./json.ts";
import { LAST_APPLIED_ANNOTATION, normalize } from "./normalize.ts";
import { predictLive } from "./predict.ts";
import { unifiedDiff } from "./text.ts";

export const DEFAULT_FIELD_MANAGER = "argocd-controller";

export interface DiffOptions {
  /** The engine's field manager (default "argocd-controller"). */
  manager?: string;
  ignoreDifferences?: readonly IgnoreDifference[];
  /** Compare the tracking annotation too (default false). */
  keepTrackingAnnotation?: boolean;
}

export interface DiffChange {
  /** JSON Pointer into the normalized object, e.g. /spec/replicas. */
  path: string;
  old: unknown;
  new: unknown;
}

export interface DiffResult {
  modified: boolean;
  normalizedDesired: KubeObject | undefined;
  normalizedLive: KubeObject | undefined;
  /** What live would look like after the engine applies desired (normalized). */
  predictedLive: KubeObject | undefined;
  /** Leaf changes live -> predictedLive. */
  changes: DiffChange[];
  /** JSON Patch (RFC 6902) turning normalizedLive into predictedLive. */
  patch: PatchOp[];
  /** Readable unified diff of live vs predicted live in YAML ("" when unmodified). */
  text: string;
}

/** "apps/Deployment ns/name" (the header argocd app diff prints). */
export function resourceTitle(obj: KubeObject): string {
  const { group } = splitApiVersion(obj.apiVersion);
  const ns = obj.metadata.namespace ?? "";
  return `${group}/${obj.kind} ${ns}/${obj.metadata.name ?? ""}`;
}

function lastApplied(live: KubeObject): FieldSet | undefined {
  const raw = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new GtbError(
      "GTB_DIFF_BAD_LAST_APPLIED",
      `${resourceTitle(live)}: annotation ${LAST_APPLIED_ANNOTATION} is not valid JSON`,
      {
        path: `metadata.annotations["${LAST_APPLIED_ANNOTATION}"]`,
        hint: "re-apply the object or remove the annotation",
        cause: e,
      },
    );
  }
  return fieldsOf(parsed);
}

function toYaml(obj: KubeObject | undefined): string {
  return obj === undefined ? "" : stringify(obj, { lineWidth: 0 });
}

/**
 * Normalized forms by object, made without ignoreDifferences rules (with rules, desired's form depends on
 * the live object's managedFields). Callers hand diff objects they do not change afterwards (watch-cache
 * objects, rendered manifests): a resource diffed again after only its live or only its desired side
 * changed normalizes the other side once, not again. Results share these forms: read-only.
 */
const NORMALIZED = new WeakMap<KubeObject, { keepTracking: boolean; out: KubeObject }>();

function normalizedOf(
  obj: KubeObject,
  nopts: { ignoreDifferences: readonly IgnoreDifference[]; keepTrackingAnnotation: boolean },
): KubeObject {
  if (nopts.ignoreDifferences.length > 0) return normalize(obj, nopts);
  const hit = NORMALIZED.get(obj);
  if (hit !== undefined && hit.keepTracking === nopts.keepTrackingAnnotation) return hit.out;
  const out = normalize(obj, nopts);
  NORMALIZED.set(obj, { keepTracking: nopts.keepTrackingAnnotation, out });
  return out;
}

/**
 * Diff one desired object (from Git; undefined = should not exist) against its
 * live counterpart (undefined = missing). Pure.
 */
export function diff(
  desired: KubeObject | undefined,
  live: KubeObject | undefined,
  opts: DiffOptions = {},
): DiffResult {
  const manager = opts.manager ?? DEFAULT_FIELD_MANAGER;
  const nopts = {
    ignoreDifferences: opts.ignoreDifferences ?? [],
    keepTrackingAnnotation: opts.keepTrackingAnnotation ?? false,
  };
  const normalizedLive = live === undefined ? undefined : normalizedOf(live, nopts);
  const normalizedDesired =
    desired === undefined
      ? undefined
      : nopts.ignoreDifferences.length === 0
        ? normalizedOf(desired, nopts)
        : normalize(desired, live === undefined ? nopts : { ...nopts, managedFieldsFrom: live });
  let predicted: KubeObject | undefined;
  if (normalizedDesired === undefined) predicted = undefined;
  else if (normalizedLive === undefined || live === undefined) predicted = normalizedDesired;
  else {
    const owned = ownedFields(live, [manager]) ?? lastApplied(live);
    predicted = predictLive(normalizedLive, normalizedDesired, owned) as KubeObject;
  }
  const patch = jsonPatch(normalizedLive, predicted);
  const changes = patch.map((op) => ({
    path: op.path,
    old: valueAtPointer(normalizedLive, op.path),
    new: op.op === "remove" ? undefined : op.value,
  }));
  const subject = desired ?? live;
  const title = subject === undefined ? "" : resourceTitle(subject);
  // The readable text is rendered on first read: most comparisons never print it.
  let text: string | undefined;
  const result = {
    modified: patch.length > 0,
    normalizedDesired,
    normalizedLive,
    predictedLive: predicted,
    changes,
    patch,
  } as DiffResult;
  Object.defineProperty(result, "text", {
    enumerable: true,
    get(): string {
      text ??=
        patch.length === 0
          ? ""
          : `===== ${title} ======\n${unifiedDiff(toYaml(normalizedLive), toYaml(predicted), "live", "desired")}`;
      return text;
    },
  });
  return result;
}
