/**
 * A controller-runtime style work queue on the injected clock: a key is
 * processed by at most one worker at a time; adding a key that is being
 * processed marks it dirty so it runs again afterwards; addAfter() delays on
 * the clock (the earliest pending delay wins). A paused queue collects keys and
 * runs none until resumed (a controller holds it until its caches are listed).
 */
import type { Clock, TimerHandle } from "../core/clock.ts";

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private active = 0;
  /** Callers of done(key), by key. */
  private readonly doneWaiters = new Map<string, Array<() => void>>();
  private stopped = false;
  private paused = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly workers: number,
    private readonly handler: (key: string) => Promise<void>,
    private readonly onError: (key: string, e: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      this.clock.clearTimeout(existing.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, handle });
  }

  /** Resolves when `key` is neither queued nor being processed (a delayed add does not count). */
  done(key: string): Promise<void> {
    if (this.stopped || (!this.queued.has(key) && !this.processing.has(key))) return Promise.resolve();
    return new Promise((resolve) => {
      const w = this.doneWaiters.get(key);
      if (w === undefined) this.doneWaiters.set(key, [resolve]);
      else w.push(resolve);
    });
  }

  /** Hold processing (keys are still collected). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  get length(): number {
    return this.queue.length + this.active;
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
    this.delayed.clear();
    this.queue.length = 0;
    this.queued.clear();
    for (const w of this.doneWaiters.values()) for (const r of w) r();
    this.doneWaiters.clear();
  }

  private pump(): void {
    while (!this.paused && this.active < this.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.length === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
    } catch (e) {
      this.onError(key, e);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      else {
        const w = this.doneWaiters.get(key);
        if (w !== undefined) {
          this.doneWaiters.delete(key);
          for (const r of w) r();
        }
      }
      this.pump();
    }
  }
}
