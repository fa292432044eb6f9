/**
 * Test helper: a real Git repository in a temp dir, written with plain `git`
 * (deterministic author/committer dates).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export class GitFixture {
  readonly dir: string;
  private tick = 0;

  constructor(prefix = "gtb-git-") {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.git("init", "-q", "-b", "main");
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  git(...args: string[]): string {
    this.tick++;
    const date = `${1767225600 + this.tick * 60} +0000`;
    return execFileSync("git", ["-C", this.dir, ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Ana Dev",
        GIT_AUTHOR_EMAIL: "ana@example.com",
        GIT_COMMITTER_NAME: "Ana Dev",
        GIT_COMMITTER_EMAIL: "ana@example.com",
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      },
    }).trim();
  }

  write(files: Record<string, string | null>): void {
    for (const [p, content] of Object.entries(files)) {
      const full = join(this.dir, p);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
  }

  /** Write files (null deletes) and commit them; returns the new commit SHA. */
  commit(files: Record<string, string | null>, message = "change"): string {
    this.write(files);
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
