/**
 * Validation of AnalysisTemplate / ClusterAnalysisTemplate / AnalysisRun specs
 * with upstream's rules (utils/analysis ValidateMetrics, dry-run and retention
 * rule matching) plus compile checks of the conditions, so a malformed
 * expression is reported with its position before it reaches a cluster.
 */
import { parseDuration } from "../core/clock.ts";
import { compiled } from "./expr.ts";
import type { Argument, IntOrString, Metric } from "./types.ts";

export interface ValidationIssue {
  /** Field path, e.g. `spec.metrics[0].successCondition`. */
  path: string;
  message: string;
}

const TEMPLATED = /\{\{\s*args\./;

/** A limit/count value: number, numeric string, or undefined when templated (unknown until args are bound). */
function intField(v: IntOrString | undefined, dflt: number): number | undefined {
  if (v === undefined) return dflt;
  if (typeof v === "number") return v;
  if (TEMPLATED.test(v)) return undefined;
  return /^-?\d+$/.test(v.trim()) ? Number.parseInt(v, 10) : Number.NaN;
}

function checkDuration(v: string | undefined, path: string, what: string, out: ValidationIssue[]): void {
  if (v === undefined || v === "" || TEMPLATED.test(v)) return;
  try {
    parseDuration(v);
  } catch (e) {
    out.push({ path, message: `invalid ${what} string: ${(e as Error).message}` });
  }
}

/** Upstream ValidateMetric rules for one metric. */
export function validateMetric(metric: Metric, path: string): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const fields = [
    "count",
    "failureLimit",
    "inconclusiveLimit",
    "consecutiveErrorLimit",
    "consecutiveSuccessLimit",
  ] as const;
  for (const f of fields) {
    const v = intField(metric[f], 0);
    if (v !== undefined && Number.isNaN(v))
      out.push({ path: `${path}.${f}`, message: `${f} must be an integer` });
  }
  const count = intField(metric.count, 0);
  const failureLimit = intField(metric.failureLimit, 0);
  const inconclusiveLimit = intField(metric.inconclusiveLimit, 0);
  const csl = intField(metric.consecutiveSuccessLimit, 0);
  const cel = intField(metric.consecutiveErrorLimit, 4);
  if (count !== undefined && count > 0) {
    if (failureLimit !== undefined && csl !== undefined && failureLimit >= 0 && csl > 0) {
      if (count < failureLimit + csl) {
        out.push({
          path: `${path}.count`,
          message: "count must be >= failureLimit + consecutiveSuccessLimit",
        });
      }
    } else if (failureLimit !== undefined && failureLimit >= 0 && count < failureLimit) {
      out.push({ path: `${path}.count`, message: "count must be >= failureLimit" });
    } else if (csl !== undefined && csl > 0 && count < csl) {
      out.push({ path: `${path}.count`, message: "count must be >= consecutiveSuccessLimit" });
    }
    if (inconclusiveLimit !== undefined && count < inconclusiveLimit) {
      out.push({ path: `${path}.count`, message: "count must be >= inconclusiveLimit" });
    }
  }
  if (count !== undefined && count > 1 && (metric.interval === undefined || metric.interval === "")) {
    out.push({ path: `${path}.interval`, message: "interval must be specified when count > 1" });
  }
  checkDuration(metric.interval, `${path}.interval`, "interval", out);
  checkDuration(metric.initialDelay, `${path}.initialDelay`, "startDelay", out);
  if (failureLimit !== undefined && failureLimit < -1) {
    out.push({ path: `${path}.failureLimit`, message: "failureLimit must be >= -1 (-1 disables it)" });
  }
  if (failureLimit !== undefined && csl !== undefined && failureLimit < 0 && csl <= 0) {
    out.push({
      path: `${path}.failureLimit`,
      message: "failureLimit and consecutiveSuccessLimit cannot be both disabled",
    });
  }
  if (inconclusiveLimit !== undefined && inconclusiveLimit < 0) {
    out.push({ path: `${path}.inconclusiveLimit`, message: "inconclusiveLimit must be >= 0" });
  }
  if (cel !== undefined && cel < 0) {
    out.push({ path: `${path}.consecutiveErrorLimit`, message: "consecutiveErrorLimit must be >= 0" });
  }
  if (csl !== undefined && csl < 0) {
    out.push({ path: `${path}.consecutiveSuccessLimit`, message: "consecutiveSuccessLimit must be >= 0" });
  }
  const provider = metric.provider ?? {};
  const providers = Object.keys(provider).filter((k) => provider[k] !== undefined && provider[k] !== null);
  if (providers.length === 0) out.push({ path: `${path}.provider`, message: "no provider specified" });
  else if (providers.length > 1)
    out.push({ path: `${path}.provider`, message: "multiple providers specified" });
  else if (providers[0] !== "prometheus") {
    out.push({
      path: `${path}.provider.${providers[0]}`,
      message: `provider "${providers[0]}" is not supported by gitops-testbed yet (supported: prometheus)`,
    });
  } else {
    const prom = provider.prometheus!;
    if (typeof prom.query !== "string" || prom.query.trim() === "") {
      out.push({ path: `${path}.provider.prometheus.query`, message: "query is required" });
    }
    if (prom.timeout !== undefined && (typeof prom.timeout !== "number" || prom.timeout < 0)) {
      out.push({
        path: `${path}.provider.prometheus.timeout`,
        message: "prometheus timeout should not be negative",
      });
    }
    if (
      prom.address !== undefined &&
      !TEMPLATED.test(prom.address) &&
      !/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.test(prom.address)
    ) {
      out.push({
        path: `${path}.provider.prometheus.address`,
        message: "prometheus address is not is url format",
      });
    }
  }
  for (const f of ["successCondition", "failureCondition"] as const) {
    const src = metric[f];
    if (src === undefined || src === "" || TEMPLATED.test(src)) continue;
    try {
      compiled(src);
    } catch (e) {
      out.push({ path: `${path}.${f}`, message: `invalid expression: ${(e as Error).message}` });
    }
  }
  return out;
}

export interface TemplateSpecLike {
  metrics?: Metric[];
  args?: Argument[];
  dryRun?: Array<{ metricName: string }>;
  measurementRetention?: Array<{ metricName: string; limit: number }>;
}

function ruleMatches(pattern: string, name: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(name);
  } catch {
    return pattern === name;
  }
}

/** Upstream ValidateMetrics + dry-run / retention rule checks for a template (or run) spec. */
export function validateAnalysisSpec(spec: TemplateSpecLike, path = "spec"): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const metrics = spec.metrics ?? [];
  if (!Array.isArray(metrics) || metrics.length === 0) {
    out.push({ path: `${path}.metrics`, message: "no metrics specified" });
    return out;
  }
  const seen = new Set<string>();
  metrics.forEach((m, i) => {
    const mp = `${path}.metrics[${i}]`;
    if (typeof m.name !== "string" || m.name === "")
      out.push({ path: `${mp}.name`, message: "name is required" });
    else if (seen.has(m.name)) out.push({ path: `${mp}.name`, message: `duplicate name '${m.name}'` });
    else seen.add(m.name);
    out.push(...validateMetric(m, mp));
  });
  const names = new Set<string>();
  (spec.args ?? []).forEach((a, i) => {
    if (names.has(a.name))
      out.push({ path: `${path}.args[${i}].name`, message: `duplicate arg name '${a.name}'` });
    names.add(a.name);
  });
  for (const [field, rules] of [
    ["dryRun", spec.dryRun ?? []],
    ["measurementRetention", spec.measurementRetention ?? []],
  ] as const) {
    const ruleNames = new Set<string>();
    rules.forEach((r, i) => {
      const rp = `${path}.${field}[${i}]`;
      if (ruleNames.has(r.metricName)) {
        out.push({
          path: `${rp}.metricName`,
          message: `two ${field === "dryRun" ? "Dry-Run" : "Measurement Retention"} metric rules have the same name '${r.metricName}'`,
        });
      }
      ruleNames.add(r.metricName);
      if (!metrics.some((m) => ruleMatches(r.metricName, m.name))) {
        out.push({
          path: `${rp}.metricName`,
          message: `${field === "dryRun" ? "dryRun" : "measurementRetention"}[${i}]: Rule didn't match any metric name(s)`,
        });
      }
      if (field === "measurementRetention" && "limit" in r && (typeof r.limit !== "number" || r.limit < 0)) {
        out.push({ path: `${rp}.limit`, message: "limit must be >= 0" });
      }
    });
  }
  return out;
}

/** Names of metrics matched by rules (`.*` and regexes allowed, as upstream). */
export function matchRules<R extends { metricName: string }>(
  rules: readonly R[] | undefined,
  metricName: string,
): R | undefined {
  return (rules ?? []).find((r) => ruleMatches(r.metricName, metricName));
}
