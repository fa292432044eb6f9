/**
 * The Event TTL of kube-apiserver (`--event-ttl`, default 1h): an Event is
 * deleted that long after its last write. Upstream the Event is stored under
 * an etcd lease and etcd drops the key when the lease runs out: no request,
 * no finalizers, no audit record; watchers see DELETED with a new
 * resourceVersion. Here the writes of Events queue their expiry times (in
 * write order, which is expiry order since the TTL is one constant) and one
 * clock timer, armed for the earliest, removes what is due: no timer per
 * Event, nothing at all while no Event exists.
 */
import type { Clock, TimerHandle } from "../../engine/core/clock.ts";

/** kube-apiserver's default --event-ttl. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

interface Due {
  readonly at: number;
  readonly namespace: string;
  readonly name: string;
  /** The resourceVersion written: a later write of the same Event queues its own expiry. */
  readonly rv: number;
}

/** Removes the Event `namespace/name` if it is still at `rv` (a later write moved its expiry). */
export type ExpireEvent = (namespace: string, name: string, rv: number) => void;

export class EventExpiry {
  private queue: Due[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number,
    private readonly expire: ExpireEvent,
  ) {}

  /** An Event was stored at resourceVersion `rv`: it expires `ttlMs` from now unless written again. */
  written(namespace: string, name: string, rv: number): void {
    this.queue.push({ at: this.clock.now() + this.ttlMs, namespace, name, rv });
    this.arm();
  }

  /** Expiries waiting (including those a later write made moot). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (this.timer !== undefined || next === undefined) return;
    this.timer = this.clock.setTimeout(() => this.fire(), next.at - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let d = this.queue[this.head]; d !== undefined && d.at <= now; d = this.queue[this.head]) {
      this.head++;
      this.expire(d.namespace, d.name, d.rv);
    }
    // drop the consumed prefix once it is most of the array (amortized O(1) per Event write)
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }
}
