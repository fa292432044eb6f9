/**
 * The Clock port. Nothing in engine/ or simulator/ reads the wall clock or
 * calls setTimeout directly: a Clock is injected. The simulator provides a
 * deterministic virtual clock (simulator/clock/virtual.ts) and real / scaled
 * real clocks (simulator/clock/real.ts).
 */
import { memoByText } from "./memo.ts";

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Current time in milliseconds since the Unix epoch (virtual or real). */
  now(): number;
  /** Run `fn` once after `delayMs` (clamped to >= 0) of this clock's time. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /**
   * Declare asynchronous work that does real I/O (disk, sockets, child
   * processes). A virtual clock does not advance time while tracked work is
   * pending, so results stay deterministic; a real clock just returns `p`.
   */
  track<T>(p: Promise<T>): Promise<T>;
  /**
   * Real I/O whose answer must not race the rest of the system (a read from a
   * child process, a file). Like track(), and a virtual clock also hands the
   * answers back one at a time, in the order the I/O was started, each once the
   * work that the previous answer set off has settled: how answers happen to be
   * batched by the OS (two replies in one pipe read, or in two) then cannot change
   * what runs in which order. A real clock just tracks `p`.
   * Only for leaf I/O: `p` must not itself wait on another io() (it would wait on itself).
   */
  io<T>(p: Promise<T>): Promise<T>;
}

/** The last second formatted by rfc3339 (controllers stamp the same second many times over). */
let lastSecond = Number.NaN;
let lastStamp = "";
/** The day (days since the epoch) of the last date rfc3339 formatted, and its "YYYY-MM-DDT". */
let lastDay = Number.NaN;
let dayPrefix = "";
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));

/**
 * RFC 3339 timestamp (second precision, as Kubernetes writes them) of a clock time. The date is
 * formatted once per day; the time of day is written from its digits (a world interleaves many
 * objects' clocks, so consecutive calls often fall in different seconds of the same day).
 */
export function rfc3339(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === lastSecond) return lastStamp;
  const day = Math.floor(second / 86_400);
  if (day !== lastDay) {
    const iso = new Date(second * 1000).toISOString();
    lastSecond = second;
    if (iso.length !== 24) {
      // years outside 0000-9999 ("+275760-09-13T00:00:00.000Z"): formatted whole, not by day
      lastDay = Number.NaN;
      lastStamp = iso.replace(".000Z", "Z");
      return lastStamp;
    }
    lastDay = day;
    dayPrefix = iso.slice(0, 11);
    lastStamp = `${iso.slice(0, 19)}Z`;
    return lastStamp;
  }
  const s = second - day * 86_400;
  const m = (s % 3600) / 60;
  lastSecond = second;
  lastStamp = `${dayPrefix}${TWO_DIGITS[(s / 3600) | 0]}:${TWO_DIGITS[m | 0]}:${TWO_DIGITS[s % 60]}Z`;
  return lastStamp;
}

/** RFC 3339 with microseconds (Kubernetes MicroTime, used by Events and leases). */
export function rfc3339Micro(ms: number): string {
  const t = Math.trunc(ms); // Date's TimeClip
  const second = rfc3339(t);
  const frac = t - Math.floor(t / 1000) * 1000;
  return `${second.slice(0, -1)}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}000Z`;
}

/**
 * Date.parse of a timestamp, remembered by text: controllers read the same status times (a
 * measurement's finishedAt, a pause's startTime) on every reconcile. NaN when it is not a date.
 */
export const parseTime: (text: string) => number = memoByText(Date.parse, 4096);

/** Durations by text (specs repeat a few intervals and timeouts). */
const parsedDuration = memoByText(parseDurationText, 1024);

/** Parse a Go/Prometheus/Argo duration ("90s", "10m", "1h30m", "250ms") or a number of seconds into ms. */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) throw new RangeError(`invalid duration ${input}`);
    return input * 1000;
  }
  return parsedDuration(input);
}

function parseDurationText(input: string): number {
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|s|m|h|d|w|y)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    matched = re.lastIndex;
    const n = Number(m[1]);
    const unit = m[2];
    const factor =
      unit === "ms"
        ? 1
        : unit === "us" || unit === "µs"
          ? 1e-3
          : unit === "ns"
            ? 1e-6
            : unit === "s"
              ? 1000
              : unit === "m"
                ? 60_000
                : unit === "h"
                  ? 3_600_000
                  : unit === "d"
                    ? 86_400_000
                    : unit === "w"
                      ? 604_800_000
                      : 31_536_000_000;
    total += n * factor;
  }
  if (matched === 0 || matched !== s.length) throw new RangeError(`invalid duration "${input}"`);
  return total;
}
