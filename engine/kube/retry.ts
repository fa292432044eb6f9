/**
 * Retries at the KubeClient port, as client-go's REST client does them: a response that says
 * when to come back (429 TooManyRequests, or a 5xx, carrying Retry-After — in a Status,
 * `details.retryAfterSeconds`) is retried after that many seconds, up to 10 times (client-go's
 * default maxRetries); anything else is returned to the caller at once. Decorators are Proxies,
 * so the port's methods are not listed twice.
 */
import type { Clock } from "../core/clock.ts";
import { type KubeClient, KubeApiError } from "./types.ts";

/** Wrap every method of `inner` in `retrying` (a Proxy over the port). */
export function retryingClient(
  inner: KubeClient,
  retrying: (call: () => Promise<unknown>) => Promise<unknown>,
): KubeClient {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) =>
        retrying(() => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}

/** The seconds a KubeApiError asks the client to wait before retrying, if it asks (429 or 5xx). */
export function retryAfterSeconds(e: unknown): number | undefined {
  if (!(e instanceof KubeApiError)) return undefined;
  if (e.code !== 429 && Math.floor(e.code / 100) !== 5) return undefined;
  const s = e.status.details?.retryAfterSeconds;
  return typeof s === "number" && s >= 0 ? s : undefined;
}

/** client-go's maxRetries for responses with Retry-After. */
export const CLIENT_GO_MAX_RETRIES = 10;

/** `inner` with client-go's Retry-After retries (time spent on `clock`). */
export function withClientGoRetries(
  inner: KubeClient,
  clock: Clock,
  maxRetries = CLIENT_GO_MAX_RETRIES,
): KubeClient {
  return retryingClient(inner, async (call) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const wait = retryAfterSeconds(e);
        if (wait === undefined || attempt >= maxRetries) throw e;
        await clock.sleep(wait * 1000);
      }
    }
  });
}
