import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.ts";
import { inflateSync } from "node:zlib";
import { FleetRepo, generateFleet, writeFleetRepo } from "./index.ts";
import { zlibStored } from "../../engine/source/zlib-stored.ts";

const root = mkdtempSync(join(tmpdir(), "gtb-fleet-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `r${n++}`);
const git = (dir: string, ...args: string[]) =>
  execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });

const T0 = Date.UTC(2026, 0, 5, 9);
const alice = { name: "Alice Ops", email: "alice@example.com" };
const bob = { name: "Bob Review", email: "bob@example.com" };

/** A fleet repo plus a few releases, driven by a virtual clock. */
async function history(seed: number, services = 20): Promise<{ repo: FleetRepo; shas: string[] }> {
  const clock = new VirtualClock(T0);
  const fleet = generateFleet({ seed, services });
  const repo = writeFleetRepo(fleet, { dir: fresh(), clock });
  const shas = [repo.head!];
  for (let i = 0; i < 10; i++) {
    await clock.runFor(17 * 60_000);
    const s = fleet.services[i % services]!;
    shas.push(
      repo.commit({
        files: {
          [`charts/${s.name}/values-production.yaml`]: `replicaCount: ${s.replicas}\nimage:\n  tag: "2.0.${i}"\n`,
        },
        message: `${s.name}: release 2.0.${i}`,
        author: s.owner,
        reviewer: bob,
      }),
    );
  }
  return { repo, shas };
}

describe("FleetRepo", () => {
  it("same seed gives the same commit SHAs", async () => {
    const a = await history(3);
    const b = await history(3);
    expect(b.shas).toEqual(a.shas);
    const c = await history(4);
    expect(c.shas[0]).not.toBe(a.shas[0]);
  });

  it("is a repository git reads: log, show, trailers, author and timestamps", async () => {
    const { repo, shas } = await history(3);
    expect(git(repo.dir, "rev-parse", "HEAD").trim()).toBe(shas[shas.length - 1]);
    expect(git(repo.dir, "rev-list", "--count", "HEAD").trim()).toBe("11");
    git(repo.dir, "fsck", "--strict", "--no-dangling");
    const last = git(repo.dir, "log", "-1", "--format=%an <%ae>%n%at%n%(trailers:key=Reviewed-by,valueonly)");
    const [who, at, reviewer] = last.split("\n");
    expect(who).toMatch(/^[A-Z][^<]+ <[^@]+@example\.com>$/);
    expect(Number(at)).toBe(T0 / 1000 + 10 * 17 * 60);
    expect(reviewer).toBe("Bob Review <bob@example.com>");
    const stat = git(repo.dir, "show", "--stat=200", "--format=%s", "HEAD");
    expect(stat).toMatch(/release 2\.0\.9/);
    expect(stat).toMatch(/charts\/[a-z0-9-]+\/values-production\.yaml \| \d+ \+*-*\n/);
    // the tree is complete: a checkout reproduces every file
    const files = git(repo.dir, "ls-tree", "-r", "--name-only", "HEAD").trim().split("\n");
    expect(files).toEqual(repo.list());
    expect(git(repo.dir, "show", `HEAD:${files[0]}`)).toBe(repo.read(files[0]!));
  });

  it("revert puts back what a commit changed, as git revert words it", () => {
    const repo = FleetRepo.init({ dir: fresh() });
    const c1 = repo.commit({
      files: { "a/x.yaml": "v: 1\n", "b.txt": "keep\n" },
      message: "init",
      author: alice,
      time: T0,
    });
    const c2 = repo.commit({
      files: { "a/x.yaml": "v: 2\n", "a/new.yaml": "n\n" },
      message: "bump x",
      author: alice,
      time: T0 + 1000,
    });
    const r = repo.revert(c2, { author: bob, time: T0 + 2000 });
    expect(repo.read("a/x.yaml")).toBe("v: 1\n");
    expect(repo.read("a/new.yaml")).toBeUndefined();
    expect(git(repo.dir, "rev-parse", `${r}^{tree}`)).toBe(git(repo.dir, "rev-parse", `${c1}^{tree}`));
    expect(git(repo.dir, "log", "-1", "--format=%B", r).trim()).toBe(
      `Revert "bump x"\n\nThis reverts commit ${c2}.`,
    );
    // a file changed again since: conflict
    repo.commit({ files: { "b.txt": "changed\n" }, message: "edit b", author: alice, time: T0 + 3000 });
    expect(() => repo.revert(c1, { author: bob, time: T0 + 4000 })).toThrow(
      expect.objectContaining({ code: "GTB_GIT_REVERT_CONFLICT" }),
    );
  });

  it("keeps Git's tree order and ids as files and directories come and go (git fsck --strict checks the order)", () => {
    const repo = FleetRepo.init({ dir: fresh() });
    const steps: Array<Record<string, string | null>> = [
      { "a/x.yaml": "1\n", "a.b": "dot\n", "a-b/y": "dash\n", z: "z\n" },
      { "a/x.yaml": "2\n", a0: "after a/\n" },
      { "a.b": null, "a/w.yaml": "w\n" },
      { "a-b/y": null, "a/x.yaml": "3\n" },
      { "a-b/y": "back\n", "a.b": "again\n", a0: null },
      // the same entries above the change: their trees' SHAs are rewritten in place
      { "a/deep/k": "k\n" },
      { "a/deep/k": "k2\n" },
      { "a/w.yaml": null },
      { "a/deep/k": null, z: "z2\n" },
    ];
    let t = T0;
    for (const files of steps) {
      t += 1000;
      const sha = repo.commit({ files, message: "step", author: alice, time: t });
      git(repo.dir, "fsck", "--strict", "--no-dangling");
      expect(git(repo.dir, "ls-tree", "-r", "--name-only", sha).trim().split("\n")).toEqual(repo.list());
      // the same files written into a fresh repository in one commit give the same tree
      const other = FleetRepo.init({ dir: fresh() });
      const all: Record<string, string> = {};
      for (const p of repo.list()) all[p] = repo.read(p)!;
      const o = other.commit({ files: all, message: "all", author: alice, time: t });
      expect(git(other.dir, "rev-parse", `${o}^{tree}`)).toBe(git(repo.dir, "rev-parse", `${sha}^{tree}`));
    }
  });

  it("stores objects as zlib streams git and inflate read, large ones in several blocks", () => {
    for (const n of [0, 1, 65535, 65536, 200_000]) {
      const raw = Buffer.alloc(n);
      for (let i = 0; i < n; i++) raw[i] = (i * 31 + (i >> 8)) & 0xff;
      expect(inflateSync(zlibStored(raw)).equals(raw)).toBe(true);
    }
    const repo = FleetRepo.init({ dir: fresh() });
    const big = "x".repeat(70_000);
    const sha = repo.commit({ files: { big: big }, message: "big", author: alice, time: T0 });
    expect(git(repo.dir, "show", `${sha}:big`)).toBe(big);
  });

  it("refuses an existing repository and paths outside the tree", () => {
    const dir = fresh();
    FleetRepo.init({ dir });
    expect(() => FleetRepo.init({ dir })).toThrow(expect.objectContaining({ code: "GTB_FLEET_REPO_EXISTS" }));
    const repo = FleetRepo.init({ dir: fresh() });
    expect(() => repo.commit({ files: { "../x": "y" }, message: "m", author: alice, time: T0 })).toThrow(
      expect.objectContaining({ code: "GTB_GIT_BAD_PATH" }),
    );
  });

  it("writes the 200-service fleet and hundreds of commits (2,000 are timed in bench/traffic.ts)", () => {
    const fleet = generateFleet({ seed: 11 });
    const repo = writeFleetRepo(fleet, { dir: fresh(), time: T0 });
    for (let i = 0; i < 100; i++) {
      const s = fleet.services[i % 200]!;
      repo.commit({
        files: {
          [`charts/${s.name}/values-production.yaml`]: `replicaCount: ${s.replicas}\nimage:\n  tag: "3.0.${i}"\n`,
        },
        message: `${s.name}: release 3.0.${i}`,
        author: s.owner,
        time: T0 + i * 60_000,
      });
    }
    expect(git(repo.dir, "rev-list", "--count", "HEAD").trim()).toBe("101");
    expect(git(repo.dir, "ls-tree", "-r", "--name-only", "HEAD").trim().split("\n")).toHaveLength(
      repo.list().length,
    );
  }, 60_000);
});
