/**
 * Git poller on the injected clock: each app is refreshed every
 * `intervalMs` plus a random 0..jitterMs (Argo CD v3: 120 s + 0-60 s;
 * the case study's older default is 180 s). Jitter comes from a per-app
 * Rng stream so adding an app never shifts another app's schedule.
 */
import type { Clock, TimerHandle } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";

export const DEFAULT_POLL_INTERVAL_MS = 120_000;
export const DEFAULT_POLL_JITTER_MS = 60_000;

export interface PollerOptions {
  clock: Clock;
  rng: Rng;
  intervalMs?: number;
  jitterMs?: number;
  /** Called when a key is due; the poller reschedules it afterwards. */
  onPoll: (key: string) => void;
}

export class Poller {
  private readonly timers = new Map<string, TimerHandle>();
  private readonly streams = new Map<string, Rng>();
  readonly intervalMs: number;
  readonly jitterMs: number;

  constructor(private readonly opts: PollerOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.jitterMs = opts.jitterMs ?? DEFAULT_POLL_JITTER_MS;
  }

  /** Delay until the next poll of `key` (interval + jitter). */
  nextDelay(key: string): number {
    let rng = this.streams.get(key);
    if (rng === undefined) {
      rng = this.opts.rng.fork(`poll/${key}`);
      this.streams.set(key, rng);
    }
    return this.intervalMs + (this.jitterMs > 0 ? Math.floor(rng.float() * this.jitterMs) : 0);
  }

  /** (Re)start the countdown for `key`: called after every refresh, however triggered. */
  schedule(key: string): void {
    this.cancel(key);
    const h = this.opts.clock.setTimeout(() => {
      this.timers.delete(key);
      this.opts.onPoll(key);
    }, this.nextDelay(key));
    this.timers.set(key, h);
  }

  cancel(key: string): void {
    const h = this.timers.get(key);
    if (h !== undefined) this.opts.clock.clearTimeout(h);
    this.timers.delete(key);
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  stop(): void {
    for (const h of this.timers.values()) this.opts.clock.clearTimeout(h);
    this.timers.clear();
  }
}
