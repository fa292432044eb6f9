/** Backoff schedules of the Application controller (Argo CD defaults). */
import { parseDuration } from "../core/clock.ts";
import type { RetryStrategy } from "./types.ts";

/**
 * Self-heal backoff (Argo CD v3 --self-heal-backoff-*): timeout 2 s, factor 3, cap 300 s.
 * attempt 0 -> 0 s, 1 -> 2 s, 2 -> 6 s, 3 -> 18, 54, 162, 300, 300 ...
 */
export function selfHealDelayMs(attempt: number, baseMs = 2000, factor = 3, capMs = 300_000): number {
  if (attempt <= 0) return 0;
  return Math.min(capMs, baseMs * factor ** (attempt - 1));
}

export const DEFAULT_AUTOMATED_RETRY_LIMIT = 5;

/** Delay before retry `n` (1-based) of a failed sync: duration * factor^(n-1), capped (5, 10, 20, 40, 80 s by default). */
export function retryDelayMs(strategy: RetryStrategy | undefined, n: number): number {
  const b = strategy?.backoff ?? {};
  const base = parseDuration(b.duration ?? "5s");
  const factor = b.factor ?? 2;
  const cap = parseDuration(b.maxDuration ?? "3m");
  return Math.min(cap, base * factor ** Math.max(0, n - 1));
}

/** Retry limit: the spec's, or 5 for automated syncs without a retry block, else 0. */
export function retryLimit(strategy: RetryStrategy | undefined, automated: boolean): number {
  if (strategy?.limit !== undefined) return strategy.limit < 0 ? Number.POSITIVE_INFINITY : strategy.limit;
  return automated ? DEFAULT_AUTOMATED_RETRY_LIMIT : 0;
}
