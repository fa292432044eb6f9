/**
 * Helpers for renderers that run a tool on disk (kustomize, helm): write a
 * FileTree subtree into a temp directory, run a process; each file operation
 * and process goes through clock.io() so a virtual clock waits for it.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type { Clock } from "../core/clock.ts";
import type { FileTree } from "./types.ts";

/** Normalize a tree-relative path: no leading "./" or "/", no trailing "/", "" for the root. */
export function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

export function joinPath(dir: string, rel: string): string {
  return cleanPath(dir === "" ? rel : `${dir}/${rel}`);
}

export interface TempTree {
  root: string;
  remove(): Promise<void>;
}

/**
 * Write the files under each of `dirs` (tree-relative) into a new temp dir mirroring the tree layout.
 * Each file operation is one clock.io(); the whole is not, because reading the tree is I/O of its own
 * (clock.io() answers come back in request order, so wrapping both would wait on itself).
 */
async function materialize(clock: Clock, tree: FileTree, dirs: string[]): Promise<TempTree> {
  const root = await clock.io(mkdtemp(join(tmpdir(), "gtb-render-")));
  const seen = new Set<string>();
  for (const dir of dirs) {
    const files = await tree.list(dir);
    const single = files.length === 0 ? await tree.readBytes(dir) : undefined;
    const entries = single !== undefined ? [dir] : files;
    for (const f of entries) {
      if (seen.has(f)) continue;
      seen.add(f);
      const bytes = await tree.readBytes(f);
      if (bytes === undefined) continue;
      const target = join(root, f);
      await clock.io(mkdir(dirname(target), { recursive: true }));
      await clock.io(writeFile(target, bytes));
    }
  }
  return { root, remove: () => clock.io(rm(root, { recursive: true, force: true })) };
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runProcess(cmd: string, args: string[], cwd?: string): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 127;
      resolve({ code, stdout, stderr: stderr || (err !== null && code === 127 ? err.message : "") });
    });
  });
}

/** Is `name` an executable on PATH? */
export async function onPath(name: string): Promise<boolean> {
  // what `command -v` finds for a program, without starting a shell for it
  if (name === "" || name.includes("/")) return false;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      const file = join(dir === "" ? "." : dir, name);
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return true;
    } catch {
      // not in this directory (or not executable): look in the next one
    }
  }
  return false;
}

export async function withTempTree<T>(
  clock: Clock,
  tree: FileTree,
  dirs: string[],
  fn: (t: TempTree) => Promise<T>,
): Promise<T> {
  const t = await clock.track(materialize(clock, tree, dirs));
  try {
    return await fn(t);
  } finally {
    await t.remove();
  }
}
