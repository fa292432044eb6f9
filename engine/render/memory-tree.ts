/** A FileTree over an in-memory map of path -> content (tests, generated sources). */
import type { FileTree } from "./types.ts";

export class MemoryFileTree implements FileTree {
  private readonly files: Map<string, string>;

  constructor(files: Record<string, string>) {
    this.files = new Map(Object.entries(files).map(([k, v]) => [k.replace(/^\.?\//, ""), v]));
  }

  async read(path: string): Promise<string | undefined> {
    return this.files.get(path.replace(/^\.?\//, ""));
  }

  async readBytes(path: string): Promise<Uint8Array | undefined> {
    const s = await this.read(path);
    return s === undefined ? undefined : new TextEncoder().encode(s);
  }

  async list(dir: string): Promise<string[]> {
    const d = dir.replace(/^\.?\/?/, "").replace(/\/$/, "");
    return [...this.files.keys()].filter((p) => d === "" || p.startsWith(`${d}/`)).sort();
  }
}
