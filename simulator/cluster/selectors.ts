/**
 * Label selectors (=, ==, !=, in, notin, exists, !key) and field selectors
 * (metadata.name, metadata.namespace, status.phase for pods), parsed once
 * into predicates. Parse errors are 400 BadRequest as upstream.
 */
import type { KubeObject } from "../../engine/kube/types.ts";
import { badRequest } from "./status.ts";

export type Predicate = (obj: KubeObject) => boolean;

const KEY = /^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE = /^(([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?)$/;

/** Split on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== "");
}

type Requirement = (labels: Record<string, string>) => boolean;

function checkKey(key: string, selector: string): void {
  if (!KEY.test(key))
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
}
function checkValue(v: string, selector: string): void {
  if (!VALUE.test(v) || v.length > 63)
    throw badRequest(`unable to parse requirement: invalid label value: "${v}" in "${selector}"`);
}

function parseRequirement(term: string, selector: string): Requirement {
  let m = /^!\s*(\S+)$/.exec(term);
  if (m !== null) {
    const key = m[1]!;
    checkKey(key, selector);
    return (l) => !(key in l);
  }
  m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (m !== null) {
    const key = m[1]!;
    checkKey(key, selector);
    const values = new Set(
      m[3]!
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== ""),
    );
    for (const v of values) checkValue(v, selector);
    if (m[2] === "in") return (l) => key in l && values.has(l[key]!);
    return (l) => !(key in l) || !values.has(l[key]!);
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (m !== null) {
    const key = m[1]!;
    const v = m[3]!;
    checkKey(key, selector);
    checkValue(v, selector);
    if (m[2] === "!=") return (l) => l[key] !== v;
    return (l) => l[key] === v;
  }
  checkKey(term, selector);
  return (l) => term in l;
}

export function parseLabelSelector(selector: string | undefined): Predicate | undefined {
  if (selector === undefined || selector.trim() === "") return undefined;
  const reqs = splitTerms(selector).map((t) => parseRequirement(t, selector));
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    for (const r of reqs) if (!r(labels)) return false;
    return true;
  };
}

/** Label selector from a LabelSelector object ({matchLabels, matchExpressions}). */
export function labelSelectorString(sel: unknown): string {
  if (sel === null || typeof sel !== "object") return "";
  const s = sel as {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${vals})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

function fieldValue(obj: KubeObject, field: string): string | undefined {
  switch (field) {
    case "metadata.name":
      return obj.metadata.name ?? "";
    case "metadata.namespace":
      return obj.metadata.namespace ?? "";
    case "status.phase":
      return obj.kind === "Pod"
        ? String((obj.status as { phase?: string } | undefined)?.phase ?? "")
        : undefined;
    case "spec.nodeName":
      return obj.kind === "Pod"
        ? String((obj.spec as { nodeName?: string } | undefined)?.nodeName ?? "")
        : undefined;
    case "type":
      return obj.kind === "Secret" || obj.kind === "Event" ? String(obj.type ?? "") : undefined;
    default:
      return undefined;
  }
}

export function parseFieldSelector(selector: string | undefined, kind: string): Predicate | undefined {
  if (selector === undefined || selector.trim() === "") return undefined;
  const reqs: Predicate[] = [];
  for (const term of splitTerms(selector)) {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m === null) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!;
    const op = m[2]!;
    const value = m[3]!;
    const probe: KubeObject = { apiVersion: "", kind, metadata: {} };
    if (fieldValue(probe, field) === undefined) throw badRequest(`field label not supported: ${field}`);
    reqs.push(op === "!=" ? (o) => fieldValue(o, field) !== value : (o) => fieldValue(o, field) === value);
  }
  return (obj) => {
    for (const r of reqs) if (!r(obj)) return false;
    return true;
  };
}
