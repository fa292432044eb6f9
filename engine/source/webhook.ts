/**
 * Git push webhook (Argo CD `POST /api/webhook`, GitHub `push` payload).
 * The signature (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw
 * body>`) is checked in constant time; a bad or missing signature answers
 * 401 and changes nothing. A verified push refreshes at once the apps whose
 * repoURL and targetRevision match (matching as Argo CD's webhook handler:
 * normalized URLs, HEAD/"" match pushes to the default branch).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";

export interface PushPayload {
  ref: string;
  after?: string;
  before?: string;
  repository: {
    html_url?: string;
    clone_url?: string;
    ssh_url?: string;
    url?: string;
    default_branch?: string;
  };
  head_commit?: { id?: string; message?: string; author?: { name?: string; email?: string } };
  /** GitHub lists the files each pushed commit touched. */
  commits?: Array<{ id?: string; added?: string[]; modified?: string[]; removed?: string[] }>;
}

/** What a push should refresh; implemented by the Application controller. */
export interface PushTarget {
  /** Refresh the apps the push matches; returns their names. */
  onPush(push: {
    repoURLs: string[];
    revision: string;
    touchedHead: boolean;
    after?: string;
    /** Files the push changed (from the payload's commits), when the payload lists them. */
    changedFiles?: string[];
  }): string[];
}

/** Normalize a Git URL as Argo CD does: lower-case host, strip `.git` and trailing `/`, scp-style -> ssh://. */
export function normalizeGitURL(url: string): string {
  let u = url.trim();
  const scp = /^([^/@:]+@)?([^/:]+):(.*)$/.exec(u);
  if (!u.includes("://") && scp !== null && scp[1] !== undefined) u = `ssh://${scp[1]}${scp[2]}/${scp[3]}`;
  u = u.replace(/\/+$/, "").replace(/\.git$/, "");
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(u);
  if (m !== null) u = `${(m[1] ?? "").toLowerCase()}${(m[2] ?? "").toLowerCase()}${m[3] ?? ""}`;
  return u;
}

/** Do two repo URLs name the same repository? */
export function sameRepoURL(a: string, b: string): boolean {
  const strip = (u: string) =>
    normalizeGitURL(u)
      .replace(/^(https?|ssh|git):\/\/([^@/]*@)?/, "")
      .replace(/^file:\/\//, "");
  return strip(a) === strip(b);
}

/** The annotation Argo CD reads to refresh an app only when a push touches its paths. */
export const MANIFEST_GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths";

/**
 * Does a push that changed `files` concern an app whose source is at `sourcePath` and whose
 * manifest-generate-paths annotation is `annotation` (";"-separated; relative to the source path,
 * or to the repository root when starting with "/")? Without the annotation: always.
 */
export function pathsMatch(
  annotation: string | undefined,
  sourcePath: string,
  files: readonly string[],
): boolean {
  return filesUnder(refreshPrefixes(annotation, sourcePath), files);
}

/**
 * The repository paths an app's manifest-generate-paths annotation names (relative ones resolved
 * against the source path), or undefined when every change concerns the app (no annotation).
 */
export function refreshPrefixes(annotation: string | undefined, sourcePath: string): string[] | undefined {
  if (annotation === undefined || annotation.trim() === "") return undefined;
  const base = sourcePath.replace(/^\.?\/?/, "").replace(/\/+$/, "");
  return annotation
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const rel = p.startsWith("/") ? p.slice(1) : base === "" ? p : `${base}/${p}`;
      const parts: string[] = [];
      for (const seg of rel.split("/")) {
        if (seg === "" || seg === ".") continue;
        if (seg === "..") parts.pop();
        else parts.push(seg);
      }
      return parts.join("/");
    });
}

/** Whether any of `files` is at or below one of `prefixes` (undefined: always). */
export function filesUnder(prefixes: readonly string[] | undefined, files: readonly string[]): boolean {
  if (prefixes === undefined) return true;
  for (const f of files) {
    for (const p of prefixes) {
      // p itself or below it ("/" after p); "" is the repository root
      if (p === "" || (f.startsWith(p) && (f.length === p.length || f.charCodeAt(p.length) === 47)))
        return true;
    }
  }
  return false;
}

/** A targetRevision as a push names it: without refs/heads/ or refs/tags/. */
export function targetRef(targetRevision: string): string {
  return targetRevision.replace(/^refs\/(heads|tags)\//, "");
}

/** Does a push of `revision` (branch or tag) concern an app tracking `targetRevision`? */
export function revisionMatches(targetRevision: string, revision: string, touchedHead: boolean): boolean {
  return refMatches(targetRef(targetRevision), revision, touchedHead);
}

/** revisionMatches for a target already made a targetRef. */
export function refMatches(ref: string, revision: string, touchedHead: boolean): boolean {
  if (ref === "" || ref === "HEAD") return touchedHead;
  return ref === revision;
}

export function verifySignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith("sha256=")) return false;
  const got = Buffer.from(header.slice("sha256=".length), "hex");
  const want = createHmac("sha256", secret).update(body).digest();
  return got.length === want.length && timingSafeEqual(got, want);
}

export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Interpret a push payload; returns the refreshed apps. Used by the HTTP plugin and in virtual time. */
export function deliverPush(target: PushTarget, payload: PushPayload): string[] {
  const ref = payload.ref ?? "";
  const revision = ref.replace(/^refs\/(heads|tags)\//, "");
  const defaultBranch = payload.repository.default_branch;
  const touchedHead =
    defaultBranch !== undefined ? revision === defaultBranch : revision === "main" || revision === "master";
  const r = payload.repository;
  const repoURLs = [r.html_url, r.clone_url, r.ssh_url, r.url].filter(
    (u): u is string => typeof u === "string",
  );
  const push: {
    repoURLs: string[];
    revision: string;
    touchedHead: boolean;
    after?: string;
    changedFiles?: string[];
  } = {
    repoURLs,
    revision,
    touchedHead,
  };
  if (payload.after !== undefined) push.after = payload.after;
  const withFiles: Parameters<PushTarget["onPush"]>[0] = push;
  if (Array.isArray(payload.commits)) {
    const files = new Set<string>();
    for (const c of payload.commits)
      for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) files.add(f);
    withFiles.changedFiles = [...files].sort();
  }
  return target.onPush(withFiles);
}

function isPushPayload(v: unknown): v is PushPayload {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.ref === "string" && typeof o.repository === "object" && o.repository !== null;
}

export interface WebhookPluginOptions {
  target: PushTarget;
  /** Shared secret; when undefined every request is refused (401), as no signature can be verified. */
  secret: string | undefined;
}

/** fastify plugin serving `POST /api/webhook`. */
export const webhookPlugin: FastifyPluginAsync<WebhookPluginOptions> = async (
  app: FastifyInstance,
  opts: WebhookPluginOptions,
) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.post("/api/webhook", async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const sig = req.headers["x-hub-signature-256"];
    if (
      opts.secret === undefined ||
      !verifySignature(opts.secret, body, typeof sig === "string" ? sig : undefined)
    ) {
      return reply.code(401).send({ message: "webhook signature verification failed" });
    }
    const event = req.headers["x-github-event"];
    if (event === "ping") return reply.code(200).send({ message: "pong" });
    if (event !== "push") return reply.code(400).send({ message: `unsupported event ${String(event)}` });
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      return reply.code(400).send({ message: "webhook payload is not JSON" });
    }
    if (!isPushPayload(payload))
      return reply.code(400).send({ message: "not a push payload (ref, repository)" });
    const refreshed = deliverPush(opts.target, payload);
    return reply.code(200).send({ refreshed });
  });
};
