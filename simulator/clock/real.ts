/**
 * Real and scaled real clocks: the only place in engine/ or simulator/ that
 * touches the wall clock. A scaled clock with scale 60 runs a 10-minute
 * window in 10 s: now() advances 60x faster than the wall clock from `start`.
 */
import type { Clock, TimerHandle } from "../../engine/core/clock.ts";

export class ScaledRealClock implements Clock {
  private readonly wallStart: number;
  private readonly virtStart: number;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private nextId = 1;

  /** @param scale how many clock milliseconds pass per wall millisecond (1 = real time). */
  constructor(
    readonly scale = 1,
    start?: number,
  ) {
    if (!(scale > 0)) throw new RangeError(`time scale must be > 0, got ${scale}`);
    this.wallStart = Date.now();
    this.virtStart = start ?? this.wallStart;
  }

  now(): number {
    return this.virtStart + (Date.now() - this.wallStart) * this.scale;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const wall = Math.max(0, delayMs) / this.scale;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, wall);
    this.timers.set(id, t);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  track<T>(p: Promise<T>): Promise<T> {
    return p;
  }

  io<T>(p: Promise<T>): Promise<T> {
    return p;
  }

  /** Cancel every pending timer (for shutdown). */
  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

export class RealClock extends ScaledRealClock {
  constructor() {
    super(1);
  }
}
