/**
 * Git's object formats, written as loose objects (zlib of "<type> <size>\0<body>" under
 * .git/objects/xx/yyyy...). Synchronous and in-process: a commit touching one file writes five
 * small files and is readable at once by `git` and by `git cat-file --batch` readers.
 *
 * The zlib streams are stored, not compressed (what git writes with core.looseCompression=0):
 * setting up a deflate stream cost ~65 us per object, more than the rest of the write, while the
 * objects are a few hundred bytes (a file takes a page however small) or tree entries whose
 * 20-byte SHA-1s do not compress.
 */
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { zlibStored } from "../../engine/source/zlib-stored.ts";

export type ObjectType = "blob" | "tree" | "commit";

export interface TreeEntry {
  name: string;
  mode: "100644" | "100755" | "40000";
  sha: string;
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  seconds: number;
}

/** One tree entry as a tree object stores it: "<mode> <name>\0" and the 20-byte SHA-1. */
export function treeRow(e: TreeEntry): Buffer {
  const head = `${e.mode} ${e.name}\0`;
  const n = Buffer.byteLength(head, "utf8");
  const row = Buffer.allocUnsafe(n + 20);
  row.write(head, 0, "utf8");
  row.write(e.sha, n, "hex");
  return row;
}

/** Git's tree order: by name bytes, a directory compared as if its name ended with "/". */
export function gitOrder(a: TreeEntry, b: TreeEntry): number {
  return Buffer.compare(sortKey(a), sortKey(b));
}

function sortKey(e: TreeEntry): Buffer {
  return Buffer.from(e.mode === "40000" ? `${e.name}/` : e.name, "utf8");
}

export class LooseObjectWriter {
  private readonly made = new Set<string>();
  /** Objects written (or found) by this writer. */
  private readonly known = new Set<string>();
  /** Ref files this writer created. */
  private readonly refs = new Set<string>();

  constructor(private readonly gitDir: string) {}

  write(type: ObjectType, body: Buffer): string {
    const header = Buffer.from(`${type} ${body.length}\0`, "utf8");
    const raw = Buffer.concat([header, body]);
    const sha = createHash("sha1").update(raw).digest("hex");
    const dir = join(this.gitDir, "objects", sha.slice(0, 2));
    if (!this.made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.made.add(dir);
    }
    if (this.known.has(sha)) return sha;
    try {
      // "wx": one syscall path; an object that already exists is the same object
      writeFileSync(join(dir, sha.slice(2)), zlibStored(raw), { flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    this.known.add(sha);
    return sha;
  }

  blob(content: string): string {
    return this.write("blob", Buffer.from(content, "utf8"));
  }

  commit(c: {
    tree: string;
    parents: readonly string[];
    author: Signature;
    committer: Signature;
    message: string;
  }): string {
    const sig = (s: Signature) => `${s.name} <${s.email}> ${s.seconds} +0000`;
    let text = `tree ${c.tree}\n`;
    for (const p of c.parents) text += `parent ${p}\n`;
    text += `author ${sig(c.author)}\ncommitter ${sig(c.committer)}\n\n${c.message}`;
    return this.write("commit", Buffer.from(text, "utf8"));
  }

  /**
   * Point a ref at a commit. A ref this writer created is overwritten in place (a SHA-1 line is
   * always 41 bytes): no truncation, which on a journalling file system costs ~40x the write.
   */
  setRef(ref: string, sha: string): void {
    const file = join(this.gitDir, ref);
    const line = `${sha}\n`;
    if (this.refs.has(file)) {
      const fd = openSync(file, "r+");
      try {
        writeSync(fd, line, 0);
      } finally {
        closeSync(fd);
      }
      return;
    }
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, line);
    if (line.length === 41) this.refs.add(file);
  }
}
