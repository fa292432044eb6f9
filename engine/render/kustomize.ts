/**
 * Kustomize renderer: materializes the source path (plus the bases and
 * components it references outside that path) into a temp dir and runs
 * `kubectl kustomize <dir>`, as Argo CD runs `kustomize build`. Source
 * options (namePrefix, images, ...) are applied to the kustomization as
 * `kustomize edit set ...` would.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { Clock } from "../core/clock.ts";
import { GtbError } from "../core/errors.ts";
import { parseManifests } from "./manifests.ts";
import { cleanPath, joinPath, runProcess, withTempTree } from "./materialize.ts";
import type { FileTree, KustomizeSourceOptions, RenderedManifest, Renderer, RenderRequest } from "./types.ts";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

async function findKustomization(tree: FileTree, dir: string): Promise<string | undefined> {
  for (const f of KUSTOMIZATION_FILES) {
    const p = joinPath(dir, f);
    if ((await tree.read(p)) !== undefined) return p;
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every tree path a kustomization (transitively) needs: its dir and referenced bases outside it. */
async function referencedDirs(tree: FileTree, dir: string, seen: Set<string>): Promise<void> {
  if (seen.has(dir)) return;
  seen.add(dir);
  const kfile = await findKustomization(tree, dir);
  if (kfile === undefined) return;
  let doc: unknown;
  try {
    doc = parse((await tree.read(kfile)) ?? "");
  } catch (e) {
    throw new GtbError("GTB_RENDER_PARSE", `${kfile}: ${(e as Error).message.split("\n")[0]}`, {
      file: kfile,
    });
  }
  if (!isRecord(doc)) return;
  for (const key of ["resources", "bases", "components"]) {
    const list = doc[key];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      if (typeof entry !== "string" || /^[a-z]+:\/\//.test(entry) || entry.includes("github.com/")) continue;
      const target = joinPath(dir, entry);
      if (target === dir || target.startsWith(`${dir}/`)) {
        if ((await tree.list(target)).length > 0) await referencedDirs(tree, target, seen);
        continue;
      }
      if ((await tree.list(target)).length > 0) await referencedDirs(tree, target, seen);
      else seen.add(target);
    }
  }
}

/** Apply source options to the kustomization file on disk (what `kustomize edit set` does). */
async function applyOptions(file: string, opts: KustomizeSourceOptions): Promise<void> {
  const doc = parse(await readFile(file, "utf8")) as Record<string, unknown>;
  if (opts.namePrefix !== undefined) doc.namePrefix = opts.namePrefix;
  if (opts.nameSuffix !== undefined) doc.nameSuffix = opts.nameSuffix;
  if (opts.namespace !== undefined) doc.namespace = opts.namespace;
  if (opts.commonLabels !== undefined)
    doc.commonLabels = { ...((doc.commonLabels as object) ?? {}), ...opts.commonLabels };
  if (opts.commonAnnotations !== undefined)
    doc.commonAnnotations = { ...((doc.commonAnnotations as object) ?? {}), ...opts.commonAnnotations };
  if (opts.images !== undefined) {
    const images = Array.isArray(doc.images) ? [...(doc.images as Array<Record<string, unknown>>)] : [];
    for (const spec of opts.images) {
      const [name, target] = spec.includes("=")
        ? (spec.split("=", 2) as [string, string])
        : [undefined, spec];
      const at = target.lastIndexOf("@");
      const colon = target.lastIndexOf(":");
      const image: Record<string, unknown> = {};
      let ref = target;
      if (at > 0) {
        image.digest = target.slice(at + 1);
        ref = target.slice(0, at);
      } else if (colon > target.lastIndexOf("/")) {
        image.newTag = target.slice(colon + 1);
        ref = target.slice(0, colon);
      }
      image.name = name ?? ref;
      if (name !== undefined) image.newName = ref;
      const i = images.findIndex((x) => x.name === image.name);
      if (i >= 0) images[i] = image;
      else images.push(image);
    }
    doc.images = images;
  }
  await writeFile(file, stringify(doc));
}

export function createKustomizeRenderer(opts: { clock: Clock; binary?: string }): Renderer {
  const binary = opts.binary ?? "kubectl";
  return {
    name: "kustomize",
    async render(req: RenderRequest): Promise<RenderedManifest[]> {
      const dir = cleanPath(req.path);
      const kfile = await findKustomization(req.tree, dir);
      if (kfile === undefined) {
        throw new GtbError("GTB_RENDER_KUSTOMIZE", `no kustomization.yaml in ${dir || "."}`, {
          file: dir,
          hint: "add a kustomization.yaml or use a directory source",
        });
      }
      const dirs = new Set<string>();
      await referencedDirs(req.tree, dir, dirs);
      return withTempTree(opts.clock, req.tree, [...dirs], async (tmp) => {
        if (req.kustomize !== undefined && Object.keys(req.kustomize).length > 0) {
          await opts.clock.io(applyOptions(join(tmp.root, kfile), req.kustomize));
        }
        const args = binary.endsWith("kustomize")
          ? ["build", join(tmp.root, dir)]
          : ["kustomize", join(tmp.root, dir)];
        const r = await opts.clock.io(runProcess(binary, args));
        if (r.code !== 0) {
          const msg = r.stderr.trim().replaceAll(tmp.root, "").split("\n").slice(-3).join(" ");
          throw new GtbError("GTB_RENDER_KUSTOMIZE", `kustomize build ${dir || "."} failed: ${msg}`, {
            file: kfile,
            hint: "run `kubectl kustomize` on the directory to see the full error",
          });
        }
        return parseManifests(r.stdout, kfile).map((m) => ({ ...m, source: kfile }));
      });
    },
  };
}
