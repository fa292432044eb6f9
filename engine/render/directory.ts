/**
 * Directory renderer (Argo CD `spec.source.directory`): YAML/YML/JSON files
 * in the source path, recurse (default false), include/exclude globs matched
 * against the path relative to the source path, multi-doc YAML, Lists flattened.
 */
import { deepFreeze } from "../kube/json.ts";
import { globMatch } from "./glob.ts";
import { parseManifests } from "./manifests.ts";
import { cleanPath } from "./materialize.ts";
import type { RenderedManifest, Renderer, RenderRequest } from "./types.ts";

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** Renders remembered by content (bounded: the oldest goes first). */
const MEMO_ENTRIES = 256;

/**
 * A directory render is a function of the files under the source path and the directory options
 * alone: when the tree can identify that content (a Git tree's object ID), a render of content seen
 * before is the earlier render, itself (frozen array; treat the objects as immutable), so a push
 * that leaves an app's directory alone costs neither a parse nor a new diff of its objects.
 */
export function createDirectoryRenderer(): Renderer {
  const memo = new Map<string, Promise<RenderedManifest[]>>();
  return {
    name: "directory",
    async render(req: RenderRequest): Promise<RenderedManifest[]> {
      const base = cleanPath(req.path);
      const id = await req.tree.contentId?.(base);
      if (id === undefined) return renderDirectory(req, base);
      const o = req.directory ?? {};
      const key = `${id}|${base}|${o.recurse === true}|${o.include ?? ""}|${o.exclude ?? ""}`;
      let out = memo.get(key);
      if (out === undefined) {
        // deep-frozen: every later render of the same content shares these documents
        out = renderDirectory(req, base).then((r) => deepFreeze(r) as RenderedManifest[]);
        memo.set(key, out);
        const cached = out;
        out.catch(() => {
          if (memo.get(key) === cached) memo.delete(key);
        });
        if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
      }
      return out;
    },
  };
}

async function renderDirectory(req: RenderRequest, base: string): Promise<RenderedManifest[]> {
  const opts = req.directory ?? {};
  const files = await req.tree.list(base);
  const out: RenderedManifest[] = [];
  for (const file of files) {
    const rel = base === "" ? file : file.slice(base.length + 1);
    if (!MANIFEST_FILE.test(rel)) continue;
    if (opts.recurse !== true && rel.includes("/")) continue;
    if (rel.split("/").some((seg) => seg.startsWith("."))) continue;
    if (opts.exclude !== undefined && opts.exclude !== "" && globMatch(opts.exclude, rel)) continue;
    if (opts.include !== undefined && opts.include !== "" && !globMatch(opts.include, rel)) continue;
    const content = await req.tree.read(file);
    if (content === undefined) continue;
    out.push(...parseManifests(content, file));
  }
  return out;
}
