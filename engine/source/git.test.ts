import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { GitFixture } from "../../test/engine/git-fixture.ts";
import { LocalGitSource, parseTrailers } from "./git.ts";

describe("LocalGitSource", () => {
  const repo = new GitFixture();
  const git = new LocalGitSource({ clock: new VirtualClock() });
  afterAll(async () => {
    await git.close();
    repo.remove();
  });
  const c1 = repo.commit(
    { "apps/a/cm.yaml": "kind: ConfigMap\n", "apps/b/x.yaml": "x: 1\n", "README.md": "hi\n" },
    "first\n\nbody text\n\nReviewed-by: Bo Rev <bo@example.com>",
  );
  repo.git("tag", "v1");

  it("resolves HEAD, branch, tag, full and short SHA", async () => {
    expect(await git.resolve(repo.url, "HEAD")).toBe(c1);
    expect(await git.resolve(repo.url, "")).toBe(c1);
    expect(await git.resolve(repo.url, "main")).toBe(c1);
    expect(await git.resolve(repo.url, "v1")).toBe(c1);
    expect(await git.resolve(repo.url, c1)).toBe(c1);
    expect(await git.resolve(repo.url, c1.slice(0, 10))).toBe(c1);
    await expect(git.resolve(repo.url, "nope")).rejects.toMatchObject({ code: "GTB_GIT_REVISION_NOT_FOUND" });
  });

  it("reads a tree without checkout and sees new commits on the same process", async () => {
    const t1 = await git.tree(repo.url, c1);
    expect(await t1.list("apps")).toEqual(["apps/a/cm.yaml", "apps/b/x.yaml"]);
    expect(await t1.read("apps/a/cm.yaml")).toBe("kind: ConfigMap\n");
    expect(await t1.read("apps/missing.yaml")).toBeUndefined();
    expect(await t1.read("apps")).toBeUndefined();
    const c2 = repo.commit({
      "apps/a/cm.yaml": "kind: Secret\n",
      "apps/b/x.yaml": null,
      "apps/c/y.yaml": "y\n",
    });
    expect(await git.resolve(repo.url, "main")).toBe(c2);
    expect(await git.resolve(repo.url, "v1")).toBe(c1);
    const t2 = await git.tree(repo.url, c2);
    expect(await t2.read("apps/a/cm.yaml")).toBe("kind: Secret\n");
    expect(await t1.read("apps/a/cm.yaml")).toBe("kind: ConfigMap\n");
    expect(await git.changedFiles(repo.url, c1, c2)).toEqual([
      "apps/a/cm.yaml",
      "apps/b/x.yaml",
      "apps/c/y.yaml",
    ]);
  });

  it("finds each name of a tree, among names that start alike, before and after listing it", async () => {
    const files: Record<string, string> = {
      "n/a": "a\n",
      "n/a.b": "a.b\n",
      "n/a-b/c": "a-b/c\n",
      "n/ab": "ab\n",
      "n/é/d": "é/d\n",
      "n/zz": "zz\n",
    };
    const sha = repo.commit(files, "names that start alike");
    for (const list of [false, true]) {
      const t = await git.tree(repo.url, sha);
      if (list) expect(await t.list("n")).toEqual(Object.keys(files).sort());
      for (const [path, text] of Object.entries(files)) expect(await t.read(path)).toBe(text);
      expect(await t.read("n/a.")).toBeUndefined();
      expect(await t.read("n/z")).toBeUndefined();
      expect(await t.read("n/a-b")).toBeUndefined();
      expect(await t.contentId("n/a-b")).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("identifies a directory's content by its tree: unchanged directories keep their id", async () => {
    const before = await git.tree(repo.url, await git.resolve(repo.url, "HEAD"));
    const next = repo.commit({ "apps/d/z.yaml": "z\n" });
    const after = await git.tree(repo.url, next);
    expect(await after.contentId("apps/a")).toBe(await before.contentId("apps/a"));
    expect(await after.contentId("./apps/a/")).toBe(await before.contentId("apps/a"));
    expect(await after.contentId("apps")).not.toBe(await before.contentId("apps"));
    expect(await after.contentId("apps/a/cm.yaml")).toBeUndefined();
    expect(await after.contentId("nope")).toBeUndefined();
  });

  it("returns commit metadata with trailers", async () => {
    const info = await git.commit(repo.url, c1);
    expect(info.author).toEqual({ name: "Ana Dev", email: "ana@example.com", time: expect.any(Number) });
    expect(info.subject).toBe("first");
    expect(info.trailers).toEqual({ "Reviewed-by": ["Bo Rev <bo@example.com>"] });
  });

  it("reads packed objects and refs (git gc) as it reads loose ones", async () => {
    const sha = repo.commit({ "apps/p/cm.yaml": "kind: ConfigMap\npacked: true\n" }, "to be packed");
    const fresh = new LocalGitSource({ clock: new VirtualClock() });
    try {
      const loose = await fresh.tree(repo.url, await fresh.resolve(repo.url, "HEAD"));
      expect(await loose.read("apps/p/cm.yaml")).toBe("kind: ConfigMap\npacked: true\n");
      repo.git("gc", "-q", "--prune=now");
      const packedReader = new LocalGitSource({ clock: new VirtualClock() });
      try {
        expect(await packedReader.resolve(repo.url, "HEAD")).toBe(sha);
        const packed = await packedReader.tree(repo.url, sha);
        expect(await packed.read("apps/p/cm.yaml")).toBe("kind: ConfigMap\npacked: true\n");
        expect((await packedReader.commit(repo.url, sha)).subject).toBe("to be packed");
      } finally {
        await packedReader.close();
      }
    } finally {
      await fresh.close();
    }
  });

  it("rejects non-repositories and remote URLs with coded errors", async () => {
    await expect(git.resolve("/nonexistent/path", "HEAD")).rejects.toMatchObject({
      code: "GTB_GIT_NOT_A_REPO",
    });
    await expect(git.resolve("https://github.com/x/y.git", "HEAD")).rejects.toMatchObject({
      code: "GTB_GIT_UNSUPPORTED_URL",
    });
  });

  it.each([
    ["subject only", "fix", {}],
    [
      "trailers",
      "fix\n\nSigned-off-by: A <a@x>\nReviewed-by: B <b@x>\n",
      { "Signed-off-by": ["A <a@x>"], "Reviewed-by": ["B <b@x>"] },
    ],
    ["prose last paragraph", "fix\n\nthis is: not only trailers\nplain line", {}],
  ])("parseTrailers %s", (_n, msg, want) => {
    expect(parseTrailers(msg)).toEqual(want);
  });
});
