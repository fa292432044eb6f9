/**
 * Validate multi-document YAML holding Rollouts, AnalysisTemplates,
 * ClusterAnalysisTemplates, AnalysisRuns and Applications against upstream's
 * rules; every problem carries the document index, the field path and the
 * line/column of that field (from the yaml package's source ranges).
 */
import { LineCounter, parseAllDocuments, isMap, isSeq, type Document, type Node as YamlNode } from "yaml";
import { validateApplication } from "../apps/validate.ts";
import type { Application } from "../apps/types.ts";
import { validateAnalysisSpec } from "../analysis/validate.ts";
import type { KubeObject } from "../kube/types.ts";
import type { Rollout } from "./types.ts";
import { validateRollout } from "./validate.ts";

export interface DocIssue {
  /** 0-based index of the document in the file. */
  doc: number;
  kind: string | undefined;
  name: string | undefined;
  path: string;
  message: string;
  line: number | undefined;
  column: number | undefined;
  severity: "error" | "warning";
}

export interface DocsResult {
  issues: DocIssue[];
  /** Documents checked per kind; documents of other kinds are skipped. */
  checked: Array<{ doc: number; kind: string; name: string | undefined }>;
  skipped: Array<{ doc: number; kind: string | undefined }>;
}

const ANALYSIS_KINDS = new Set(["AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"]);

function segments(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** Line/column of the deepest existing node on `path`. */
function locate(doc: Document, lc: LineCounter, path: string): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let found: YamlNode | undefined = doc.contents ?? undefined;
  for (const seg of segments(path)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (pair === undefined) break;
      node = pair.value;
      found = (pair.value as YamlNode | null) ?? (pair.key as YamlNode);
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg];
      if (node === undefined) break;
      found = node as YamlNode;
    } else break;
  }
  const off = found?.range?.[0];
  if (off === undefined) return undefined;
  const pos = lc.linePos(off);
  return { line: pos.line, column: pos.col };
}

export function validateDocuments(text: string): DocsResult {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  const result: DocsResult = { issues: [], checked: [], skipped: [] };
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const push = (
      path: string,
      message: string,
      kind?: string,
      name?: string,
      severity: "error" | "warning" = "error",
    ) => {
      const loc = locate(doc, lc, path);
      // point into a single-line condition at the expression error's column
      const pos = /\(1:(\d+)\)$/.exec(message);
      if (loc !== undefined && pos !== undefined && pos !== null && /Condition$/.test(path))
        loc.column += Number(pos[1]) - 1;
      result.issues.push({
        doc: i,
        kind,
        name,
        path,
        message,
        line: loc?.line,
        column: loc?.column,
        severity,
      });
    };
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      result.issues.push({
        doc: i,
        kind: undefined,
        name: undefined,
        path: "",
        message: e.message.split("\n")[0]!,
        line: pos?.line,
        column: pos?.col,
        severity: "error",
      });
    }
    if (doc.errors.length > 0) return;
    const obj = doc.toJS() as KubeObject | null;
    if (obj === null || obj === undefined) return;
    if (typeof obj !== "object" || typeof obj.kind !== "string") {
      push("kind", "Object 'Kind' is missing");
      return;
    }
    const kind = obj.kind;
    const name = obj.metadata?.name;
    const isArgo = typeof obj.apiVersion === "string" && obj.apiVersion.startsWith("argoproj.io/");
    if (!isArgo || (kind !== "Rollout" && kind !== "Application" && !ANALYSIS_KINDS.has(kind))) {
      result.skipped.push({ doc: i, kind });
      return;
    }
    result.checked.push({ doc: i, kind, name });
    if (obj.apiVersion !== "argoproj.io/v1alpha1") {
      push("apiVersion", `no matches for kind "${kind}" in version "${obj.apiVersion}"`, kind, name);
    }
    if (typeof name !== "string" || name === "")
      push("metadata.name", "name or generateName is required", kind, name);
    if (kind === "Rollout") {
      for (const is of validateRollout(obj as Rollout))
        push(is.path, is.message, kind, name, is.warning === true ? "warning" : "error");
    } else if (kind === "Application") {
      for (const e of validateApplication(obj as unknown as Application).errors) {
        const m = /^([\w.[\]]+): (.*)$/.exec(e);
        push(m?.[1] ?? "spec", m?.[2] ?? e, kind, name);
      }
    } else {
      const spec = (obj as { spec?: Parameters<typeof validateAnalysisSpec>[0] }).spec;
      if (spec === undefined || spec === null || typeof spec !== "object")
        push("spec", "spec is required", kind, name);
      else for (const is of validateAnalysisSpec(spec)) push(is.path, is.message, kind, name);
    }
  });
  return result;
}
