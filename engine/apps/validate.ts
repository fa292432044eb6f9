/**
 * Application spec validation. Bad specs get an InvalidSpecError condition
 * (the app is not compared or synced); other apps keep working.
 */
import { parseDuration } from "../core/clock.ts";
import type { Application, ApplicationSource } from "./types.ts";

const SYNC_POLICY_FIELDS = new Set(["automated", "syncOptions", "retry", "managedNamespaceMetadata"]);
const AUTOMATED_FIELDS = new Set(["prune", "selfHeal", "allowEmpty", "enabled"]);
const RETRY_FIELDS = new Set(["limit", "backoff", "refresh"]);
const BACKOFF_FIELDS = new Set(["duration", "factor", "maxDuration"]);

export interface Validated {
  errors: string[];
  sources: ApplicationSource[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unknownFields(obj: unknown, allowed: Set<string>, path: string, errors: string[]): void {
  if (obj === undefined || obj === null) return;
  if (!isRecord(obj)) {
    errors.push(`${path}: must be an object`);
    return;
  }
  for (const k of Object.keys(obj)) if (!allowed.has(k)) errors.push(`${path}.${k}: unknown field "${k}"`);
}

const validated = new WeakMap<object, Validated>();

/** Validate an Application's spec (memoized per spec object: callers never mutate specs). */
export function validateApplication(app: Application): Validated {
  const spec = isRecord(app.spec) ? app.spec : undefined;
  if (spec === undefined) return { errors: ["spec: missing"], sources: [] };
  let v = validated.get(spec);
  if (v === undefined) {
    v = validateSpec(spec);
    validated.set(spec, v);
  }
  return v;
}

function validateSpec(spec: Application["spec"]): Validated {
  const errors: string[] = [];
  const sources: ApplicationSource[] = [];
  if (Array.isArray(spec.sources) && spec.sources.length > 0) sources.push(...spec.sources);
  else if (isRecord(spec.source)) sources.push(spec.source as unknown as ApplicationSource);
  else errors.push("spec.source or spec.sources is required");
  sources.forEach((s, i) => {
    const p = Array.isArray(spec.sources) && spec.sources.length > 0 ? `spec.sources[${i}]` : "spec.source";
    if (typeof s.repoURL !== "string" || s.repoURL === "") errors.push(`${p}.repoURL: required`);
    if (s.chart !== undefined)
      errors.push(`${p}.chart: Helm repository charts are not supported; use a chart in Git`);
    if (s.targetRevision !== undefined && typeof s.targetRevision !== "string")
      errors.push(`${p}.targetRevision: must be a string`);
  });
  const dest = spec.destination;
  if (!isRecord(dest)) errors.push("spec.destination: Destination server missing from app spec");
  else if (dest.server === undefined && dest.name === undefined)
    errors.push("spec.destination: Destination server missing from app spec");
  else if (dest.server !== undefined && dest.name !== undefined)
    errors.push("spec.destination: application destination can't have both name and server defined");
  const sp = spec.syncPolicy;
  unknownFields(sp, SYNC_POLICY_FIELDS, "spec.syncPolicy", errors);
  if (isRecord(sp)) {
    unknownFields(sp.automated, AUTOMATED_FIELDS, "spec.syncPolicy.automated", errors);
    unknownFields(sp.retry, RETRY_FIELDS, "spec.syncPolicy.retry", errors);
    if (isRecord(sp.retry)) {
      unknownFields(sp.retry.backoff, BACKOFF_FIELDS, "spec.syncPolicy.retry.backoff", errors);
      const b = sp.retry.backoff;
      if (isRecord(b))
        for (const k of ["duration", "maxDuration"] as const) {
          const v = b[k];
          if (v === undefined) continue;
          try {
            parseDuration(v as string);
          } catch {
            errors.push(`spec.syncPolicy.retry.backoff.${k}: invalid duration ${JSON.stringify(v)}`);
          }
        }
    }
    if (sp.syncOptions !== undefined && !Array.isArray(sp.syncOptions))
      errors.push("spec.syncPolicy.syncOptions: must be a list");
  }
  return { errors, sources };
}

/** Application source params that change rendering, as a stable cache key. */
export function sourceKey(s: ApplicationSource): string {
  return JSON.stringify([s.repoURL, s.path ?? "", s.helm ?? null, s.kustomize ?? null, s.directory ?? null]);
}

export function hasSyncOption(options: readonly string[] | undefined, option: string): boolean {
  return (options ?? []).includes(option);
}
