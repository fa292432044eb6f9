/**
 * engine/source: Git access for the Application controller.
 * - GitSource port (types.ts) and LocalGitSource adapter (git.ts: local paths and file:// URLs,
 *   one `git cat-file --batch` process per repository, SHA-keyed caches, clock.track'ed I/O).
 * - Poller (poller.ts): per-app refresh every interval + jitter on the injected clock.
 * - Push webhook (webhook.ts): fastify plugin `POST /api/webhook` with HMAC-SHA256 verification,
 *   `deliverPush(target, payload)` for virtual time, Argo CD URL normalization.
 */
export type { CommitInfo, GitIdentity, GitSource } from "./types.ts";
export { GitFileTree, LocalGitSource, localPathOf, parseCommit, parseTrailers } from "./git.ts";
export { DEFAULT_POLL_INTERVAL_MS, DEFAULT_POLL_JITTER_MS, Poller, type PollerOptions } from "./poller.ts";
export {
  deliverPush,
  normalizeGitURL,
  type PushPayload,
  type PushTarget,
  revisionMatches,
  sameRepoURL,
  signPayload,
  verifySignature,
  webhookPlugin,
  type WebhookPluginOptions,
} from "./webhook.ts";
