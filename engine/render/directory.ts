/**
 * Directory renderer (Argo CD `spec.source.directory`): YAML/YML/JSON files
 * in the source path, recurse (default false), include/exclude globs matched
 * against the path relative to the source path, multi-doc YAML, Lists flattened.
 */
import { globMatch } from "./glob.ts";
import { parseManifests } from "./manifests.ts";
import { cleanPath } from "./materialize.ts";
import type { RenderedManifest, Renderer, RenderRequest } from "./types.ts";

const MANIFEST_FILE = /\.(ya?ml|json)$/;

export function createDirectoryRenderer(): Renderer {
  return {
    name: "directory",
    async render(req: RenderRequest): Promise<RenderedManifest[]> {
      const base = cleanPath(req.path);
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
    },
  };
}
