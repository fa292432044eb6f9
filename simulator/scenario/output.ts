/**
 * Output directories are written atomically: every file goes into a sibling
 * temporary directory, which replaces DIR only when all files are written.
 * A failed run leaves DIR as it was (or absent) and no temporary directory behind.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { GtbError } from "../../engine/core/errors.ts";

export type OutputFiles = Record<string, string | Uint8Array>;

export async function writeOutputDir(dir: string, files: OutputFiles): Promise<void> {
  const parent = dirname(dir);
  const stamp = `${process.pid}-${Object.keys(files).length}`;
  const tmp = join(parent, `.${basename(dir)}.tmp-${stamp}`);
  const old = join(parent, `.${basename(dir)}.old-${stamp}`);
  try {
    await mkdir(parent, { recursive: true });
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      const p = join(tmp, name);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, content);
    }
    let hadOld = false;
    try {
      await rename(dir, old);
      hadOld = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    await rename(tmp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof GtbError) throw e;
    throw new GtbError("GTB_OUTPUT_WRITE", `cannot write output directory ${dir}: ${(e as Error).message}`, {
      file: dir,
      hint: "check that the parent directory exists and is writable, or pass --out DIR",
      cause: e,
    });
  }
}
