/**
 * Deterministic virtual clock: an event heap ordered by (time, insertion).
 * Time only moves when the system is idle: before each advance, all pending
 * microtasks and all work declared with track() have settled.
 */
import type { Clock, TimerHandle } from "../../engine/core/clock.ts";

interface Timer {
  at: number;
  seq: number;
  id: number;
  fn: () => void;
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Yield to the event loop once, letting every queued microtask and I/O callback run. */
function macrotask(): Promise<void> {
  // The one sanctioned raw timer in simulator/: it measures idleness, not time.
  return new Promise((resolve) => setImmediate(resolve));
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private nextId = 1;
  private readonly heap: Timer[] = [];
  private readonly cancelled = new Set<number>();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private errors: unknown[] = [];
  /** Resolves when the last io() answer has been handed back and what it set off has settled. */
  private ioTail: Promise<void> = Promise.resolve();

  /** @param startMs start time in ms since the Unix epoch (default 2026-01-05T00:00:00Z, a Monday). */
  constructor(startMs = Date.UTC(2026, 0, 5)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const d = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const timer: Timer = { at: this.t + d, seq: this.seq++, id: this.nextId++, fn };
    this.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.cancelled.add(handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    const done = () => {
      this.pending--;
      if (this.pending === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const r of w) r();
      }
    };
    p.then(done, done);
    return p;
  }

  io<T>(p: Promise<T>): Promise<T> {
    const outcome = p.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    // wait for the previous answer's turn, then for this I/O itself
    const turn = this.ioTail.then(() => outcome);
    // the next answer waits until the microtasks this one sets off have run
    this.ioTail = turn.then(() => macrotask());
    return this.track(
      turn.then((r) => {
        if (r.ok) return r.value;
        throw r.error;
      }),
    );
  }

  /** Number of timers scheduled and not cancelled (approximate: cancelled timers are dropped lazily). */
  get size(): number {
    return this.heap.length - this.cancelled.size;
  }

  /** Time of the next live timer, or undefined when none. */
  peek(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.at;
  }

  /** Wait until no microtask, macrotask-queued callback or tracked work is pending. */
  async settle(): Promise<void> {
    for (;;) {
      await macrotask();
      if (this.pending === 0) {
        await macrotask();
        if (this.pending === 0) return;
      }
      await new Promise<void>((resolve) => {
        if (this.pending === 0) resolve();
        else this.idleWaiters.push(resolve);
      });
    }
  }

  /**
   * Run every timer due at or before `untilMs` in (time, insertion) order,
   * settling whenever time is about to move, then set now to `untilMs`.
   * Errors thrown by timer callbacks are collected and rethrown at the end.
   */
  async runUntil(untilMs: number): Promise<void> {
    await this.settle();
    for (;;) {
      this.dropCancelledTop();
      let top = this.heap[0];
      if (top === undefined || top.at > untilMs) {
        // async work may still schedule something due before untilMs: settle and look again
        await this.settle();
        this.dropCancelledTop();
        top = this.heap[0];
        if (top === undefined || top.at > untilMs) break;
      }
      if (top.at > this.t) {
        await this.settle();
        // settling may have scheduled something earlier
        this.dropCancelledTop();
        const again = this.heap[0];
        if (again !== top) continue;
        this.t = top.at;
      }
      this.pop();
      try {
        top.fn();
      } catch (e) {
        this.errors.push(e);
      }
    }
    if (untilMs > this.t) this.t = untilMs;
    this.rethrow();
  }

  runFor(ms: number): Promise<void> {
    return this.runUntil(this.t + ms);
  }

  /** Run until no timers remain (or `limitMs` of virtual time has passed). */
  async runAll(limitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const end = this.t + limitMs;
    for (;;) {
      await this.settle();
      const next = this.peek();
      if (next === undefined || next > end) break;
      await this.runUntil(next);
    }
  }

  private rethrow(): void {
    if (this.errors.length === 0) return;
    const errs = this.errors;
    this.errors = [];
    if (errs.length === 1) throw errs[0];
    throw new AggregateError(errs, `${errs.length} timer callbacks threw`);
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.cancelled.has(this.heap[0]!.id)) {
      this.cancelled.delete(this.heap[0]!.id);
      this.pop();
    }
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
