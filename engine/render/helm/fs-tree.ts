/** FileTree adapters for charts outside Git: a local directory, or files held in memory. */
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { FileTree } from "../types.ts";

function clean(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return "\0outside";
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}

/** A FileTree over a local directory (paths '/'-separated, relative to `dir`). */
export function localFileTree(dir: string): FileTree {
  const root = resolve(dir);
  const abs = (p: string): string | undefined => {
    const c = clean(p);
    return c.startsWith("\0") ? undefined : join(root, c);
  };
  const readOr = async <T>(p: string, fn: (file: string) => Promise<T>): Promise<T | undefined> => {
    const a = abs(p);
    if (a === undefined) return undefined;
    try {
      return await fn(a);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
      throw e;
    }
  };
  return {
    read: (p) => readOr(p, (f) => readFile(f, "utf8")),
    readBytes: (p) => readOr(p, async (f) => new Uint8Array(await readFile(f))),
    async list(d) {
      const a = abs(d);
      if (a === undefined) return [];
      let entries: string[];
      try {
        entries = (await readdir(a, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile())
          .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"));
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return [];
        throw e;
      }
      return entries.sort();
    },
  };
}

/** A FileTree over in-memory files (tests, benchmarks, generated repositories). */
export function memoryFileTree(files: Readonly<Record<string, string | Uint8Array>>): FileTree {
  const map = new Map<string, string | Uint8Array>();
  for (const [k, v] of Object.entries(files)) map.set(clean(k), v);
  const sorted = [...map.keys()].sort();
  return {
    async read(p) {
      const v = map.get(clean(p));
      return v === undefined ? undefined : typeof v === "string" ? v : Buffer.from(v).toString("utf8");
    },
    async readBytes(p) {
      const v = map.get(clean(p));
      return v === undefined ? undefined : typeof v === "string" ? new Uint8Array(Buffer.from(v)) : v;
    },
    async list(d) {
      const c = clean(d);
      const prefix = c === "" ? "" : `${c}/`;
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]! < prefix) lo = mid + 1;
        else hi = mid;
      }
      const out: string[] = [];
      for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) out.push(sorted[i]!);
      return out;
    },
  };
}
