/**
 * Analysis arguments: `{{args.name}}` substitution in metrics (queries,
 * conditions, count and limit strings), as upstream analysisutil.ResolveArgs.
 */
import type { Argument, IntOrString, Metric } from "./types.ts";

const ARG_RE = /\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g;

export class ArgError extends Error {
  override name = "ArgError";
}

/** Replace `{{args.x}}` in `text`; an unresolved argument is an error (upstream: "failed to resolve {{args.x}}"). */
export function substitute(text: string, args: readonly Argument[]): string {
  return text.replace(ARG_RE, (whole, name: string) => {
    const arg = args.find((a) => a.name === name);
    if (arg === undefined || arg.value === undefined) throw new ArgError(`failed to resolve ${whole}`);
    return arg.value;
  });
}

/** Merge template args with the args a Rollout passes: every arg must end with a value (upstream MergeArgs). */
export function mergeArgs(incoming: readonly Argument[], templateArgs: readonly Argument[]): Argument[] {
  const out = templateArgs.map((a) => ({ ...a }));
  for (const a of incoming) {
    const i = out.findIndex((t) => t.name === a.name);
    if (i >= 0) out[i] = { ...out[i]!, ...a };
  }
  for (const a of out) {
    if (a.value === undefined && a.valueFrom === undefined)
      throw new ArgError(`args.${a.name} was not resolved`);
  }
  return out;
}

function resolveIntOrString(
  v: IntOrString | undefined,
  args: readonly Argument[],
  field: string,
): IntOrString | undefined {
  if (typeof v !== "string") return v;
  const s = substitute(v, args);
  if (!/^-?\d+$/.test(s.trim())) throw new ArgError(`${field}: "${s}" is not an integer`);
  return Number.parseInt(s, 10);
}

/** A metric with every templated field resolved (strings in count/limits become numbers). */
export function resolveMetric(metric: Metric, args: readonly Argument[]): Metric {
  const m: Metric = JSON.parse(substitute(JSON.stringify(metric), args.map(jsonEscapedArg))) as Metric;
  for (const f of [
    "count",
    "failureLimit",
    "inconclusiveLimit",
    "consecutiveErrorLimit",
    "consecutiveSuccessLimit",
  ] as const) {
    const r = resolveIntOrString(m[f], args, f);
    if (r === undefined) delete m[f];
    else m[f] = r;
  }
  return m;
}

function jsonEscapedArg(a: Argument): Argument {
  return a.value === undefined ? a : { ...a, value: JSON.stringify(a.value).slice(1, -1) };
}

/** Read an integer field that has already been resolved (number or numeric string). */
export function intValue(v: IntOrString | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v === "number") return v;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? dflt : n;
}
