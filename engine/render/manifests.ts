/**
 * Parse rendered or stored manifests: multi-document YAML or JSON, `List`
 * kinds flattened, each problem a GtbError with file and line.
 */
import { LineCounter, parseAllDocuments } from "yaml";
import { GtbError } from "../core/errors.ts";
import type { KubeObject } from "../kube/types.ts";
import type { RenderedManifest } from "./types.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toObjects(value: unknown, file: string, line: number | undefined, out: RenderedManifest[]): void {
  if (value === null || value === undefined) return;
  if (!isRecord(value)) {
    throw new GtbError("GTB_RENDER_INVALID_MANIFEST", `${file}: document is not a Kubernetes object`, {
      file,
      ...(line !== undefined ? { line } : {}),
      hint: "each YAML document must be a mapping with apiVersion, kind and metadata",
    });
  }
  const kind = value.kind;
  const apiVersion = value.apiVersion;
  if (typeof kind !== "string" || kind === "" || typeof apiVersion !== "string" || apiVersion === "") {
    throw new GtbError(
      "GTB_RENDER_INVALID_MANIFEST",
      `${file}: Object '${typeof kind === "string" && kind !== "" ? "apiVersion" : "Kind"}' is missing`,
      {
        file,
        ...(line !== undefined ? { line } : {}),
        path: typeof kind === "string" ? "apiVersion" : "kind",
      },
    );
  }
  if (kind.endsWith("List") && Array.isArray(value.items)) {
    for (const item of value.items) toObjects(item, file, line, out);
    return;
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  out.push({ object: { ...value, apiVersion, kind, metadata } as KubeObject, source: file });
}

/** Parse one file's content (YAML, possibly multi-document, or JSON). */
export function parseManifests(content: string, file: string): RenderedManifest[] {
  const out: RenderedManifest[] = [];
  if (file.endsWith(".json")) {
    let v: unknown;
    try {
      v = JSON.parse(content);
    } catch (e) {
      throw new GtbError("GTB_RENDER_PARSE", `${file}: ${(e as Error).message}`, { file, cause: e });
    }
    if (Array.isArray(v)) for (const item of v) toObjects(item, file, undefined, out);
    else toObjects(v, file, undefined, out);
    return out;
  }
  const lc = new LineCounter();
  const docs = parseAllDocuments(content, { lineCounter: lc });
  if (!Array.isArray(docs)) return out; // an empty stream
  for (const doc of docs) {
    const start = doc.contents?.range?.[0];
    const line = start !== undefined ? lc.linePos(start).line : undefined;
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0];
      throw new GtbError("GTB_RENDER_PARSE", `${file}: ${err.message.split("\n")[0]}`, {
        file,
        ...(pos !== undefined ? { line: pos.line, column: pos.col } : {}),
        hint: "fix the YAML syntax in Git",
      });
    }
    toObjects(doc.toJS({ maxAliasCount: 1000 }), file, line, out);
  }
  return out;
}
