import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import {
  normalizeGitURL,
  pathsMatch,
  type PushTarget,
  revisionMatches,
  sameRepoURL,
  signPayload,
  webhookPlugin,
} from "./webhook.ts";

function target(): PushTarget & { pushes: unknown[] } {
  const pushes: unknown[] = [];
  return {
    pushes,
    onPush(p) {
      pushes.push(p);
      return ["app-a"];
    },
  };
}

const body = JSON.stringify({
  ref: "refs/heads/main",
  after: "a".repeat(40),
  repository: {
    html_url: "https://GitHub.com/org/repo",
    clone_url: "https://github.com/org/repo.git",
    default_branch: "main",
  },
});

async function server(secret: string | undefined) {
  const t = target();
  const app = Fastify();
  await app.register(webhookPlugin, { target: t, secret });
  return { app, t };
}

describe("push webhook", () => {
  it("accepts a correctly signed push and refreshes matching apps", async () => {
    const { app, t } = await server("s3cret");
    const res = await app.inject({
      method: "POST",
      url: "/api/webhook",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-hub-signature-256": signPayload("s3cret", body),
      },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ refreshed: ["app-a"] });
    expect(t.pushes).toEqual([
      {
        repoURLs: ["https://GitHub.com/org/repo", "https://github.com/org/repo.git"],
        revision: "main",
        touchedHead: true,
        after: "a".repeat(40),
      },
    ]);
  });

  it.each([
    ["forged signature", signPayload("wrong", body)],
    ["missing signature", undefined],
    ["malformed signature", "sha256=zz"],
    ["sha1 header", "sha1=abc"],
  ])("rejects a %s with 401 and changes nothing", async (_n, sig) => {
    const { app, t } = await server("s3cret");
    const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": "push" };
    if (sig !== undefined) headers["x-hub-signature-256"] = sig;
    const res = await app.inject({ method: "POST", url: "/api/webhook", headers, payload: body });
    expect(res.statusCode).toBe(401);
    expect(t.pushes).toEqual([]);
  });

  it("refuses everything when no secret is configured", async () => {
    const { app, t } = await server(undefined);
    const res = await app.inject({
      method: "POST",
      url: "/api/webhook",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-hub-signature-256": signPayload("", body),
      },
      payload: body,
    });
    expect(res.statusCode).toBe(401);
    expect(t.pushes).toEqual([]);
  });

  it.each([
    ["https://github.com/Org/Repo.git", "https://GITHUB.com/Org/Repo", true],
    ["git@github.com:org/repo.git", "ssh://git@github.com/org/repo", true],
    ["https://github.com/org/repo/", "https://github.com/org/repo", true],
    ["https://github.com/org/repo", "https://github.com/org/other", false],
    ["file:///srv/git/fleet", "/srv/git/fleet", true],
  ])("sameRepoURL(%s, %s) = %s", (a, b, want) => {
    expect(sameRepoURL(a, b)).toBe(want);
  });

  it("normalizes host case but keeps path case", () => {
    expect(normalizeGitURL("https://GitHub.COM/Org/Repo.git")).toBe("https://github.com/Org/Repo");
  });

  it.each([
    ["HEAD", "main", true, true],
    ["", "main", true, true],
    ["HEAD", "feature", false, false],
    ["main", "main", true, true],
    ["release", "main", true, false],
    ["refs/heads/release", "release", false, true],
  ])("revisionMatches(%s, %s, head=%s) = %s", (target, rev, head, want) => {
    expect(revisionMatches(target, rev, head)).toBe(want);
  });
});

describe("manifest-generate-paths (refresh only apps whose paths a push touched)", () => {
  it.each([
    [undefined, "charts/a", ["charts/b/values.yaml"], true],
    [".", "charts/a", ["charts/a/values-production.yaml"], true],
    [".", "charts/a", ["charts/b/values-production.yaml"], false],
    [".", "charts/a", ["charts/ab/values.yaml"], false],
    [".", "charts/a", ["charts/a.yaml", "charts/a-b/x"], false],
    ["/charts/a/values.yaml", "charts/a", ["charts/a/values.yaml"], true],
    ["/shared;.", "charts/a", ["shared/lib.yaml"], true],
    ["../common", "charts/a", ["charts/common/_helpers.tpl"], true],
    ["/", "charts/a", ["README.md"], true],
  ])("annotation %j, source %s, files %j -> %s", (annotation, path, files, want) => {
    expect(pathsMatch(annotation, path, files)).toBe(want);
  });
});
