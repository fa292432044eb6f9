/**
 * GitSource adapter over real repositories (local paths and file:// URLs).
 * Reads commits, trees and blobs through one `git cat-file --batch` process
 * per repository (no checkout); trees, blobs and commits are cached by SHA
 * (immutable). Every read is wrapped in clock.io(): a virtual clock waits
 * for it and hands answers back in request order, whatever the pipe's batching.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { isAbsolute, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import type { Clock } from "../core/clock.ts";
import { GtbError } from "../core/errors.ts";
import type { FileTree } from "../render/types.ts";
import { CatFileProcess, type GitObject } from "./cat-file.ts";
import type { CommitInfo, GitIdentity, GitSource } from "./types.ts";
import { sameRepoURL } from "./webhook.ts";
import { storedContent } from "./zlib-stored.ts";

interface TreeEntry {
  mode: string;
  name: string;
  sha: string;
  isTree: boolean;
}

const MAX_CACHED_BLOB_BYTES = 64 * 1024 * 1024;

/** Map a repoURL to a local filesystem path, or throw GTB_GIT_UNSUPPORTED_URL. */
export function localPathOf(repoURL: string): string {
  if (repoURL.startsWith("file://")) return fileURLToPath(repoURL);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repoURL) || /^[^/]+@[^/]+:/.test(repoURL)) {
    throw new GtbError(
      "GTB_GIT_UNSUPPORTED_URL",
      `repository ${repoURL} is not a local path or file:// URL`,
      {
        path: "spec.source.repoURL",
        hint: "clone the repository locally and point repoURL at file:///path/to/repo",
      },
    );
  }
  return isAbsolute(repoURL) ? repoURL : resolvePath(repoURL);
}

/** The repository's git directory: `<path>/.git` or a bare repository read directly, else git's answer. */
async function gitDirOf(path: string): Promise<string> {
  for (const dir of [join(path, ".git"), path]) {
    try {
      const [head, objects] = await Promise.all([stat(join(dir, "HEAD")), stat(join(dir, "objects"))]);
      if (head.isFile() && objects.isDirectory()) return resolvePath(dir);
    } catch {
      // not a git directory: try the next, then ask git (worktrees, subdirectories, GIT_DIR files)
    }
  }
  return gitRevParseDir(path);
}

function gitRevParseDir(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", ["-C", path, "rev-parse", "--absolute-git-dir"], (err, stdout, stderr) => {
      if (err !== null) {
        reject(
          new GtbError(
            "GTB_GIT_NOT_A_REPO",
            `${path} is not a Git repository: ${stderr.trim() || err.message}`,
            {
              path: "spec.source.repoURL",
              hint: "point repoURL at a Git repository (git init / git clone)",
            },
          ),
        );
      } else resolve(stdout.trim());
    });
  });
}

function parseIdentity(text: string): GitIdentity {
  const m = /^(.*) <([^>]*)> (\d+) ([+-]\d{4})$/.exec(text);
  if (m === null) return { name: text, email: "", time: 0 };
  return { name: m[1] ?? "", email: m[2] ?? "", time: Number(m[3]) * 1000 };
}

/** Trailers (`Key: value`) of the last paragraph of a commit message, as git interpret-trailers reads them. */
export function parseTrailers(message: string): Record<string, string[]> {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  if (paragraphs.length < 2) return {};
  const last = paragraphs[paragraphs.length - 1] ?? "";
  const lines = last.split("\n").filter((l) => l.trim() !== "");
  const out: Record<string, string[]> = {};
  for (const line of lines) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (m === null) return {};
    const key = m[1] ?? "";
    const list = out[key] ?? [];
    list.push(m[2] ?? "");
    out[key] = list;
  }
  return out;
}

export function parseCommit(sha: string, data: Buffer): CommitInfo {
  const text = data.toString("utf8");
  const split = text.indexOf("\n\n");
  const head = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? "" : text.slice(split + 2);
  let tree = "";
  const parents: string[] = [];
  let author: GitIdentity = { name: "", email: "", time: 0 };
  let committer: GitIdentity = author;
  for (const line of head.split("\n")) {
    if (line.startsWith(" ")) continue; // continuation of a multi-line header (gpgsig)
    const sp = line.indexOf(" ");
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (key === "tree") tree = value;
    else if (key === "parent") parents.push(value);
    else if (key === "author") author = parseIdentity(value);
    else if (key === "committer") committer = parseIdentity(value);
  }
  return {
    sha,
    tree,
    parents,
    author,
    committer,
    message,
    subject: message.split("\n")[0] ?? "",
    trailers: parseTrailers(message),
  };
}

/** The tree entry whose mode starts at `i`, with its name after `sp` and its SHA after `nul`. */
function entryAt(data: Buffer, i: number, sp: number, nul: number, name: string): TreeEntry {
  const mode = data.subarray(i, sp).toString("latin1");
  return { mode, name, sha: data.subarray(nul + 1, nul + 21).toString("hex"), isTree: mode === "40000" };
}

function parseTree(data: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(32, i);
    const nul = data.indexOf(0, sp);
    out.push(entryAt(data, i, sp, nul, data.subarray(sp + 1, nul).toString("utf8")));
    i = nul + 21;
  }
  return out;
}

/**
 * A tree object kept as Git stores it: looking up one name walks the entries' names in place and
 * makes one TreeEntry (a monorepo's charts/ tree of 200 entries is read anew for every commit, and
 * a refresh looks up one chart in it); the whole list is parsed only when asked for.
 */
class Tree {
  private list: TreeEntry[] | undefined;
  /** Names looked up so far (each file read of a render walks down from the root tree again). */
  private readonly found = new Map<string, TreeEntry | undefined>();

  constructor(private readonly data: Buffer) {}

  entries(): TreeEntry[] {
    this.list ??= parseTree(this.data);
    return this.list;
  }

  find(name: string): TreeEntry | undefined {
    if (this.found.has(name)) return this.found.get(name);
    const e = this.list !== undefined ? this.list.find((x) => x.name === name) : this.scan(name);
    this.found.set(name, e);
    return e;
  }

  private scan(name: string): TreeEntry | undefined {
    const want = Buffer.from(name, "utf8");
    const data = this.data;
    for (let i = 0; i < data.length; ) {
      const sp = data.indexOf(32, i);
      const nul = data.indexOf(0, sp);
      if (sp < 0 || nul < 0) return undefined;
      if (nul - sp - 1 === want.length && data.compare(want, 0, want.length, sp + 1, nul) === 0)
        return entryAt(data, i, sp, nul, name);
      i = nul + 21;
    }
    return undefined;
  }
}

const SHA = /^[0-9a-f]{40}$/;

/**
 * A loose object read straight from the object store (what a repository written object by object,
 * like the simulator's fleet repository, holds): a file read and an inflate instead of a round trip
 * to the cat-file process. Undefined when `spec` is not a full SHA or the object is not loose (packed,
 * in an alternate): cat-file answers those. A synchronous read answers at once, whatever the I/O
 * timing, so virtual time needs no io() ordering for it.
 */
function readLoose(gitDir: string, spec: string): GitObject | undefined {
  if (!SHA.test(spec)) return undefined;
  let raw: Buffer;
  try {
    const z = readFileSync(join(gitDir, "objects", spec.slice(0, 2), spec.slice(2)));
    raw = storedContent(z) ?? inflateSync(z);
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  const sp = raw.indexOf(32);
  if (nul < 0 || sp < 0 || sp > nul) return undefined;
  const type = raw.subarray(0, sp).toString("latin1");
  const size = Number(raw.subarray(sp + 1, nul).toString("latin1"));
  if (type !== "commit" && type !== "tree" && type !== "blob" && type !== "tag") return undefined;
  if (size !== raw.length - nul - 1) return undefined;
  return { sha: spec, type, data: raw.subarray(nul + 1) };
}

/**
 * The commit SHA HEAD points to, read from HEAD and the branch it names (a loose ref or
 * packed-refs); undefined when anything is unusual (detached on a tag object, reftable, worktrees):
 * git answers those.
 */
function readHead(gitDir: string): string | undefined {
  try {
    const head = readFileSync(join(gitDir, "HEAD"), "latin1").trim();
    if (SHA.test(head)) return head;
    if (!head.startsWith("ref: refs/heads/")) return undefined;
    const ref = head.slice("ref: ".length);
    try {
      const sha = readFileSync(join(gitDir, ref), "latin1").trim();
      return SHA.test(sha) ? sha : undefined;
    } catch {
      const packed = readFileSync(join(gitDir, "packed-refs"), "latin1");
      for (const line of packed.split("\n")) {
        if (line.endsWith(` ${ref}`) && SHA.test(line.slice(0, 40))) return line.slice(0, 40);
      }
      return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Parsed trees kept per repository (least recently used dropped first). */
const MAX_CACHED_TREES = 4096;

/** One repository: the cat-file process plus SHA-keyed caches. */
class Repo {
  private readonly trees = new Map<string, Tree>();
  private readonly blobs = new Map<string, Buffer>();
  private blobBytes = 0;
  private readonly commits = new Map<string, CommitInfo>();
  /** Reads on their way, by object spec. */
  private readonly reading = new Map<string, Promise<GitObject | undefined>>();

  constructor(
    readonly path: string,
    readonly gitDir: string,
    readonly proc: CatFileProcess,
    private readonly clock: Clock,
  ) {}

  private async object(spec: string, type: GitObject["type"]): Promise<GitObject | undefined> {
    const loose = readLoose(this.gitDir, spec);
    if (loose !== undefined) return loose.type === type ? loose : undefined;
    // readers asking for the same object at the same time (two apps refreshed by one push
    // resolve HEAD and read its new trees) share one round trip to the cat-file process
    let read = this.reading.get(spec);
    if (read === undefined) {
      read = this.clock.io(this.proc.read(spec));
      this.reading.set(spec, read);
      read.then(
        () => this.doneReading(spec, read),
        () => this.doneReading(spec, read),
      );
    }
    const o = await read;
    if (o !== undefined && o.type !== type) return undefined;
    return o;
  }

  private doneReading(spec: string, read: Promise<GitObject | undefined> | undefined): void {
    if (this.reading.get(spec) === read) this.reading.delete(spec);
  }

  async resolve(revision: string): Promise<string> {
    const rev = revision === "" ? "HEAD" : revision;
    if (SHA.test(rev) && this.commits.has(rev)) return rev;
    // HEAD read off the repository's files when it names a branch (the common targetRevision)
    const head = rev === "HEAD" ? readHead(this.gitDir) : undefined;
    if (head !== undefined) {
      if (this.commits.has(head)) return head;
      const o = await this.object(head, "commit");
      if (o !== undefined) {
        this.commits.set(o.sha, parseCommit(o.sha, o.data));
        return o.sha;
      }
    }
    const candidates = /^(refs\/|HEAD$)/.test(rev)
      ? [rev]
      : [rev, `refs/heads/${rev}`, `refs/tags/${rev}`, `refs/remotes/origin/${rev}`];
    for (const c of candidates) {
      const o = await this.object(`${c}^{commit}`, "commit");
      if (o !== undefined) {
        if (!this.commits.has(o.sha)) this.commits.set(o.sha, parseCommit(o.sha, o.data));
        return o.sha;
      }
    }
    throw new GtbError(
      "GTB_GIT_REVISION_NOT_FOUND",
      `unable to resolve '${revision}' to a commit SHA in ${this.path}`,
      { path: "spec.source.targetRevision", hint: "use HEAD, a branch, a tag or a commit SHA that exists" },
    );
  }

  async commit(sha: string): Promise<CommitInfo> {
    const cached = this.commits.get(sha);
    if (cached !== undefined) return cached;
    const full = await this.resolve(sha);
    return this.commits.get(full)!;
  }

  async tree(sha: string): Promise<Tree> {
    const cached = this.trees.get(sha);
    if (cached !== undefined) {
      // least recently used first: a hit moves to the end
      this.trees.delete(sha);
      this.trees.set(sha, cached);
      return cached;
    }
    const o = await this.object(sha, "tree");
    if (o === undefined) throw new Error(`tree ${sha} missing in ${this.path}`);
    const entries = new Tree(o.data);
    this.trees.set(sha, entries);
    // a monorepo writes a new root tree per commit: keep the working set, not the whole history
    while (this.trees.size > MAX_CACHED_TREES) this.trees.delete(this.trees.keys().next().value as string);
    return entries;
  }

  async blob(sha: string): Promise<Buffer> {
    const cached = this.blobs.get(sha);
    if (cached !== undefined) return cached;
    const o = await this.object(sha, "blob");
    if (o === undefined) throw new Error(`blob ${sha} missing in ${this.path}`);
    this.blobs.set(sha, o.data);
    this.blobBytes += o.data.length;
    while (this.blobBytes > MAX_CACHED_BLOB_BYTES) {
      const [oldest, data] = this.blobs.entries().next().value as [string, Buffer];
      this.blobs.delete(oldest);
      this.blobBytes -= data.length;
    }
    return o.data;
  }

  /** Entry at `path` (a file or a directory) below the root tree, or undefined. */
  async entry(rootTree: string, path: string): Promise<TreeEntry | undefined> {
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let current: TreeEntry = { mode: "40000", name: "", sha: rootTree, isTree: true };
    for (const part of parts) {
      if (!current.isTree) return undefined;
      const next = (await this.tree(current.sha)).find(part);
      if (next === undefined) return undefined;
      current = next;
    }
    return current;
  }

  async listFiles(treeSha: string, prefix: string, out: string[]): Promise<void> {
    for (const e of (await this.tree(treeSha)).entries()) {
      const p = prefix === "" ? e.name : `${prefix}/${e.name}`;
      if (e.isTree) await this.listFiles(e.sha, p, out);
      else if (e.mode !== "160000") out.push(p);
    }
  }

  async diffTrees(
    a: string | undefined,
    b: string | undefined,
    prefix: string,
    out: string[],
  ): Promise<void> {
    if (a === b) return;
    const ea = a === undefined ? [] : (await this.tree(a)).entries();
    const eb = b === undefined ? [] : (await this.tree(b)).entries();
    const byName = new Map<string, [TreeEntry | undefined, TreeEntry | undefined]>();
    for (const e of ea) byName.set(e.name, [e, undefined]);
    for (const e of eb) byName.set(e.name, [byName.get(e.name)?.[0], e]);
    for (const [name, [x, y]] of byName) {
      if (x?.sha === y?.sha && x?.mode === y?.mode) continue;
      const p = prefix === "" ? name : `${prefix}/${name}`;
      const xt = x?.isTree ? x.sha : undefined;
      const yt = y?.isTree ? y.sha : undefined;
      if (xt !== undefined || yt !== undefined) await this.diffTrees(xt, yt, p, out);
      if ((x !== undefined && !x.isTree) || (y !== undefined && !y.isTree)) out.push(p);
    }
  }
}

/** A Git tree at one commit as a FileTree. */
export class GitFileTree implements FileTree {
  constructor(
    private readonly repo: Repo,
    readonly commit: string,
    readonly rootTree: string,
  ) {}

  async readBytes(path: string): Promise<Uint8Array | undefined> {
    const e = await this.repo.entry(this.rootTree, path);
    if (e === undefined || e.isTree || e.mode === "160000") return undefined;
    return this.repo.blob(e.sha);
  }

  async read(path: string): Promise<string | undefined> {
    const b = await this.readBytes(path);
    return b === undefined ? undefined : Buffer.from(b).toString("utf8");
  }

  async contentId(dir: string): Promise<string | undefined> {
    const e = await this.repo.entry(this.rootTree, dir);
    return e?.isTree === true ? e.sha : undefined;
  }

  async list(dir: string): Promise<string[]> {
    const clean = dir
      .split("/")
      .filter((p) => p !== "" && p !== ".")
      .join("/");
    const e = await this.repo.entry(this.rootTree, clean);
    if (e === undefined || !e.isTree) return [];
    const out: string[] = [];
    await this.repo.listFiles(e.sha, clean, out);
    return out.sort();
  }
}

export interface LocalGitSourceOptions {
  clock: Clock;
}

export class LocalGitSource implements GitSource {
  private readonly repos = new Map<string, Promise<Repo>>();
  /** The repository each repoURL names (each Git call of every reconcile asks). */
  private readonly byURL = new Map<string, Promise<Repo>>();
  private readonly clock: Clock;

  constructor(opts: LocalGitSourceOptions) {
    this.clock = opts.clock;
  }

  private repo(repoURL: string): Promise<Repo> {
    const known = this.byURL.get(repoURL);
    if (known !== undefined) return known;
    const path = localPathOf(repoURL);
    let r = this.repos.get(path);
    if (r === undefined) {
      r = this.clock
        .io(gitDirOf(path))
        .then((gitDir) => new Repo(path, gitDir, new CatFileProcess(gitDir), this.clock));
      r.catch(() => this.repos.delete(path));
      this.repos.set(path, r);
    }
    // a file:// URL or an absolute path names the same repository every time (a relative one
    // depends on the working directory)
    if (repoURL.startsWith("file://") || isAbsolute(repoURL)) {
      const mine = r;
      this.byURL.set(repoURL, mine);
      mine.catch(() => {
        if (this.byURL.get(repoURL) === mine) this.byURL.delete(repoURL);
      });
    }
    return r;
  }

  async resolve(repoURL: string, revision: string): Promise<string> {
    return (await this.repo(repoURL)).resolve(revision);
  }

  async tree(repoURL: string, commit: string): Promise<GitFileTree> {
    const repo = await this.repo(repoURL);
    const info = await repo.commit(commit);
    return new GitFileTree(repo, info.sha, info.tree);
  }

  async commit(repoURL: string, sha: string): Promise<CommitInfo> {
    return (await this.repo(repoURL)).commit(sha);
  }

  async changedFiles(repoURL: string, from: string, to: string): Promise<string[]> {
    const repo = await this.repo(repoURL);
    const [a, b] = await Promise.all([repo.commit(from), repo.commit(to)]);
    const out: string[] = [];
    await repo.diffTrees(a.tree, b.tree, "", out);
    return out.sort();
  }

  async close(): Promise<void> {
    const repos = [...this.repos.values()];
    this.repos.clear();
    this.byURL.clear();
    for (const r of repos) {
      try {
        (await r).proc.close();
      } catch {
        // a repository that never opened has no process to close
      }
    }
  }
}

/**
 * A GitSource that reads some repository URLs from elsewhere, like git's
 * `url.<base>.insteadOf`: Applications keep naming the real remote while the
 * engine reads a local clone (the simulator's fleet repository, a mirror).
 */
export class InsteadOfGitSource implements GitSource {
  constructor(
    private readonly inner: GitSource,
    private readonly map: Readonly<Record<string, string>>,
  ) {}

  /** Each repoURL's answer (the map does not change). */
  private readonly urls = new Map<string, string>();

  private url(repoURL: string): string {
    let to = this.urls.get(repoURL);
    if (to === undefined) {
      to = repoURL;
      for (const [from, instead] of Object.entries(this.map)) {
        if (sameRepoURL(repoURL, from)) {
          to = instead;
          break;
        }
      }
      if (this.urls.size > 1000) this.urls.clear();
      this.urls.set(repoURL, to);
    }
    return to;
  }

  resolve(repoURL: string, revision: string): Promise<string> {
    return this.inner.resolve(this.url(repoURL), revision);
  }
  tree(repoURL: string, commit: string): Promise<FileTree> {
    return this.inner.tree(this.url(repoURL), commit);
  }
  commit(repoURL: string, sha: string): Promise<CommitInfo> {
    return this.inner.commit(this.url(repoURL), sha);
  }
  changedFiles(repoURL: string, from: string, to: string): Promise<string[]> {
    return this.inner.changedFiles(this.url(repoURL), from, to);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
