/**
 * The GitSource port: what the Application controller needs from Git.
 * Adapter: engine/source/git.ts (real repositories through one long-lived
 * `git cat-file --batch` process per repository).
 */
import type { FileTree } from "../render/types.ts";

export interface GitIdentity {
  name: string;
  email: string;
  /** ms since the Unix epoch. */
  time: number;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  /** Full message (subject, body and trailers). */
  message: string;
  subject: string;
  /** Trailers of the last paragraph, e.g. { "Reviewed-by": ["Ana <ana@example.com>"] }. */
  trailers: Record<string, string[]>;
}

export interface GitSource {
  /** Resolve a targetRevision (HEAD, "", branch, tag, full or abbreviated SHA) to a commit SHA. */
  resolve(repoURL: string, revision: string): Promise<string>;
  /** The tree of a commit, read without a checkout. */
  tree(repoURL: string, commit: string): Promise<FileTree>;
  commit(repoURL: string, sha: string): Promise<CommitInfo>;
  /** Paths (files) added, modified or deleted between two commits, sorted. */
  changedFiles(repoURL: string, from: string, to: string): Promise<string[]>;
  /** Release processes and caches. */
  close(): Promise<void>;
}
