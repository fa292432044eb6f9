/**
 * A KubeClient decorator that injects API server faults (the infrastructure
 * faults api-errors, api-latency and watch-drop of simulator/scenario/catalogue.ts):
 *
 *   const client = new FaultyKubeClient(cluster.adminClient("engine"), clock, rng.fork("api"));
 *   client.setErrors({ code: 500, ratio: 0.2 });  client.setLatency(200);  client.dropWatches();
 *
 * Errors are KubeApiError with the Status a kube-apiserver returns for that code
 * (500 InternalError, 409 Conflict on writes, 429 TooManyRequests with
 * retryAfterSeconds), so callers take the same paths as against a real server.
 * Latency is spent on the injected clock before the request reaches the inner
 * client. A dropped watch is stopped and its onClose called with an error: by
 * default 410 Expired (the resourceVersion was compacted while disconnected), so
 * informers re-list; `{ expired: false }` closes it with a 500 and they resume.
 * Randomness comes from the injected Rng, so a run is reproducible.
 */
import type { Clock } from "../../engine/core/clock.ts";
import type { Rng } from "../../engine/core/rng.ts";
import { retryingClient, withClientGoRetries } from "../../engine/kube/retry.ts";
import {
  type ApiResourceInfo,
  type DeleteOptions,
  KubeApiError,
  type KubeClient,
  type KubeList,
  type KubeObject,
  type KubeStatus,
  type ListOptions,
  type ObjectRef,
  type PatchOptions,
  type PatchType,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
  type WriteOptions,
} from "../../engine/kube/types.ts";

export type InjectedErrorCode = 409 | 429 | 500;

export interface ErrorFault {
  code: InjectedErrorCode;
  /** Share of matching requests that fail, 0..1. */
  ratio: number;
  /** Only requests about objects of this service (name equal or prefixed `name-`); default all. */
  service?: string;
}

export interface LatencyFault {
  delayMs: number;
  service?: string;
}

type Verb = "get" | "list" | "create" | "update" | "patch" | "delete" | "watch" | "discovery";
const WRITES: ReadonlySet<Verb> = new Set(["create", "update", "patch", "delete"]);

/** The Status a kube-apiserver returns for an injected error code. */
export function injectedStatus(
  code: InjectedErrorCode,
  verb: string,
  kind: string,
  name: string,
): KubeStatus {
  const base = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code } as const;
  const what = name === "" ? kind : `${kind.toLowerCase()} "${name}"`;
  switch (code) {
    case 409:
      return {
        ...base,
        reason: "Conflict",
        message: `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again`,
        details: { kind, ...(name === "" ? {} : { name }) },
      };
    case 429:
      return {
        ...base,
        reason: "TooManyRequests",
        message: "Too many requests, please try again later.",
        details: { retryAfterSeconds: 1 },
      };
    case 500:
      return {
        ...base,
        reason: "InternalError",
        message: `Internal error occurred: injected fault (${verb} ${what})`,
        details: { causes: [{ message: "injected fault" }] },
      };
  }
}

const EXPIRED: KubeStatus = {
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  reason: "Expired",
  message: "too old resource version (watch dropped by injected fault)",
  code: 410,
};

interface ActiveWatch {
  inner: WatchHandle;
  onClose: ((err?: unknown) => void) | undefined;
  closed: boolean;
}

export class FaultyKubeClient implements KubeClient {
  private errors: ErrorFault | undefined;
  private latency: LatencyFault | undefined;
  private readonly watches = new Set<ActiveWatch>();
  /** Requests failed and watches dropped so far. */
  readonly counts = { errors: 0, delayed: 0, watchesDropped: 0 };

  constructor(
    private readonly inner: KubeClient,
    private readonly clock: Clock,
    private readonly rng: Rng,
  ) {}

  get identity(): string {
    return this.inner.identity;
  }

  /** Fail a share of requests from now on (undefined: stop). 409 applies to writes only. */
  setErrors(fault: ErrorFault | undefined): void {
    this.errors = fault === undefined ? undefined : { ...fault };
  }

  /** Delay every matching request by `delayMs` of clock time (undefined: stop). */
  setLatency(fault: LatencyFault | undefined): void {
    this.latency = fault === undefined ? undefined : { ...fault };
  }

  /** Drop every open watch (410 Expired by default, else 500); returns how many were dropped. */
  dropWatches(opts: { expired?: boolean } = {}): number {
    const open = [...this.watches];
    this.watches.clear();
    for (const w of open) {
      w.closed = true;
      w.inner.stop();
      const status =
        opts.expired === false ? injectedStatus(500, "watch", "watch", "") : { ...EXPIRED, metadata: {} };
      w.onClose?.(new KubeApiError(status));
    }
    this.counts.watchesDropped += open.length;
    return open.length;
  }

  /** Open watches through this client. */
  get openWatches(): number {
    return this.watches.size;
  }

  /** Whether a fault is set: without one a request goes to the inner client without a turn through before(). */
  private get faulty(): boolean {
    return this.errors !== undefined || (this.latency !== undefined && this.latency.delayMs > 0);
  }

  private async before(verb: Verb, kind: string, name: string): Promise<void> {
    const lat = this.latency;
    if (lat !== undefined && lat.delayMs > 0 && concerns(lat.service, name)) {
      this.counts.delayed++;
      await this.clock.sleep(lat.delayMs);
    }
    const err = this.errors;
    if (err === undefined || !concerns(err.service, name)) return;
    if (err.code === 409 && !WRITES.has(verb)) return;
    if (!this.rng.chance(err.ratio)) return;
    this.counts.errors++;
    throw new KubeApiError(injectedStatus(err.code, verb, kind, name));
  }

  /**
   * The inner client's answer, after before() when a fault is set. Without one
   * the inner client's own promise is returned (no async frame, no extra
   * promise and turns per request).
   */
  private call<R>(verb: Verb, kind: string, name: string, send: () => Promise<R>): Promise<R> {
    if (!this.faulty) return send();
    return this.before(verb, kind, name).then(send);
  }

  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.call("get", ref.kind, ref.name, () => this.inner.get<T>(ref));
  }

  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts?: ListOptions,
  ): Promise<KubeList<T>> {
    return this.call("list", kind, "", () => this.inner.list<T>(apiVersion, kind, opts));
  }

  create<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call("create", obj.kind, nameOf(obj), () => this.inner.create<T>(obj, opts));
  }

  replace<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call("update", obj.kind, nameOf(obj), () => this.inner.replace<T>(obj, opts));
  }

  replaceStatus<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.call("update", obj.kind, nameOf(obj), () => this.inner.replaceStatus<T>(obj, opts));
  }

  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T> {
    return this.call("patch", ref.kind, ref.name, () => this.inner.patch<T>(ref, patch, type, opts));
  }

  apply<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T> {
    return this.call("patch", obj.kind, nameOf(obj), () => this.inner.apply<T>(obj, opts));
  }

  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<KubeObject | undefined> {
    return this.call("delete", ref.kind, ref.name, () => this.inner.delete(ref, opts));
  }

  async watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onClose?: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    if (this.faulty) await this.before("watch", kind, "");
    const holder: { w?: ActiveWatch } = {};
    const inner = await this.inner.watch<T>(
      apiVersion,
      kind,
      opts,
      (ev) => {
        if (holder.w?.closed !== true) onEvent(ev);
      },
      (err) => {
        const w = holder.w;
        if (w !== undefined) {
          if (w.closed) return;
          w.closed = true;
          this.watches.delete(w);
        }
        onClose?.(err);
      },
    );
    const w: ActiveWatch = { inner, onClose, closed: false };
    holder.w = w;
    this.watches.add(w);
    return {
      stop: () => {
        if (!w.closed) {
          w.closed = true;
          this.watches.delete(w);
        }
        inner.stop();
      },
    };
  }

  resources(): Promise<ApiResourceInfo[]> {
    return this.call("discovery", "", "", () => this.inner.resources());
  }
}

/** An object's name for fault matching (a body without metadata goes on to the inner client's answer). */
function nameOf(obj: KubeObject): string {
  return (obj.metadata as KubeObject["metadata"] | undefined)?.name ?? "";
}

function concerns(service: string | undefined, name: string): boolean {
  return service === undefined || name === service || name.startsWith(`${service}-`);
}

/** How a person at a terminal answers transient API errors. */
export interface PersonRetryPolicy {
  /** Re-runs of a failed command after a 500/409/429/503/504 (default: until it works). */
  reruns?: number;
  /** Clock ms before the first re-run (default 30 s); doubles for each further one, up to `maxRerunDelayMs`. */
  rerunDelayMs?: number;
  /** Longest pause between re-runs (default 5 min). */
  maxRerunDelayMs?: number;
  /** client-go's own retries of 429 TooManyRequests after its Retry-After (default 10). */
  throttleRetries?: number;
}

const TRANSIENT: ReadonlySet<number> = new Set([409, 429, 500, 503, 504]);

/**
 * A person's kubectl over `inner`: client-go retries 429 after `retryAfterSeconds`
 * by itself; on a 500, 409, 503 or 504 (or a 429 client-go gave up on) the person reads the error and runs the
 * command again a little later. Any other error (403 denied, 404, 422) is
 * returned at once. Every call of the KubeClient goes through it (a Proxy, so
 * the port's methods need not be listed twice). By default the person keeps
 * trying, pausing longer each time, until the API answers.
 */
export function withPersonRetries(
  inner: KubeClient,
  clock: Clock,
  policy: PersonRetryPolicy = {},
): KubeClient {
  const reruns = policy.reruns ?? Number.POSITIVE_INFINITY;
  const rerunDelayMs = policy.rerunDelayMs ?? 30_000;
  const maxRerunDelayMs = policy.maxRerunDelayMs ?? 300_000;
  const clientGo = withClientGoRetries(inner, clock, policy.throttleRetries);
  return retryingClient(clientGo, async (call) => {
    for (let rerun = 0; ; rerun++) {
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof KubeApiError) || !TRANSIENT.has(e.code) || rerun >= reruns) throw e;
        await clock.sleep(Math.min(maxRerunDelayMs, rerunDelayMs * 2 ** rerun));
      }
    }
  });
}
