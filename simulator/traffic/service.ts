/**
 * One service's traffic state: its rate curve, which versions run when
 * (lifetimes), how requests are split between them over time (routing), and
 * the time-weighted share of a version over any scrape interval.
 */
import type { VersionBehaviour } from "./behaviour.ts";
import { RateCurve, type RateShape } from "./shape.ts";

export interface Lifetime {
  start: number;
  /** Infinity while running. */
  stop: number;
}

/** A routing decision from `time` on: share per version hash (sums to 1). */
export interface RoutingChange {
  time: number;
  shares: ReadonlyMap<string, number>;
}

interface Epoch {
  from: number;
  shares: Map<string, number>;
}

export interface ServiceTrafficSpec extends RateShape {
  namespace: string;
  service: string;
  /** Behaviour of versions that have none set explicitly. */
  behaviour?: VersionBehaviour;
  /** Offset of this service's scrapes inside the scrape interval (default: derived from the name). */
  scrapeOffsetMs?: number;
  /**
   * Export every series from the version's first scrape (as an app that pre-initializes its
   * counters). Default false: a series appears with its first observation, like client libraries do.
   */
  initializeSeries?: boolean;
}

export class ServiceState {
  /** "namespace/service". */
  readonly key: string;
  readonly curve: RateCurve;
  readonly lifetimes = new Map<string, Lifetime[]>();
  readonly routing: RoutingChange[] = [];
  private epochs: Epoch[] | undefined;
  /** `epochs` hold every change point before this; later ones are still to be derived. */
  private validBefore = Number.POSITIVE_INFINITY;
  /** The epoch shareOver() found last. */
  private hint = 0;

  constructor(
    readonly spec: ServiceTrafficSpec,
    seedKey: string,
  ) {
    this.key = `${spec.namespace}/${spec.service}`;
    this.curve = new RateCurve(`${seedKey}\u0000${this.key}`, spec);
  }

  /**
   * Forget derived routing from `from` on (after a mutation at `from`: lifetimes and routing change
   * only at or after it, so the epochs before it stay as they are).
   */
  invalidate(from: number): void {
    const ep = this.epochs;
    if (ep === undefined) return;
    let keep = ep.length;
    while (keep > 0 && ep[keep - 1]!.from >= from) keep--;
    if (keep === 0) this.epochs = undefined;
    else {
      ep.length = keep;
      this.validBefore = Math.min(this.validBefore, from);
    }
  }

  /** Does `hash` run at some moment from t on (a lifetime stopping at t included)? */
  runsFrom(hash: string, t: number): boolean {
    const lts = this.lifetimes.get(hash);
    if (lts !== undefined) for (const lt of lts) if (lt.stop >= t) return true;
    return false;
  }

  lifetimeAt(hash: string, t: number): Lifetime | undefined {
    const lts = this.lifetimes.get(hash);
    if (lts === undefined) return undefined;
    for (let i = lts.length - 1; i >= 0; i--) {
      const lt = lts[i]!;
      if (lt.start <= t) return t < lt.stop ? lt : undefined;
    }
    return undefined;
  }

  aliveAt(t: number): string[] {
    const out: string[] = [];
    for (const hash of this.lifetimes.keys()) if (this.lifetimeAt(hash, t) !== undefined) out.push(hash);
    return out;
  }

  /**
   * Piecewise-constant shares. Before any explicit routing, requests are spread evenly over the
   * running versions (pods of every version behind one Service); after, the explicit shares apply
   * to versions that are running (requests routed to a version without pods are lost).
   */
  private getEpochs(): Epoch[] {
    if (this.epochs !== undefined && this.validBefore === Number.POSITIVE_INFINITY) return this.epochs;
    // change points from `after` on (all of them when nothing is derived yet)
    const epochs: Epoch[] = this.epochs ?? [];
    const after = this.epochs === undefined ? Number.NEGATIVE_INFINITY : this.validBefore;
    const points = new Set<number>();
    for (const r of this.routing) if (r.time >= after) points.add(r.time);
    for (const lts of this.lifetimes.values()) {
      for (const lt of lts) {
        if (lt.start >= after) points.add(lt.start);
        if (Number.isFinite(lt.stop) && lt.stop >= after) points.add(lt.stop);
      }
    }
    const sorted = [...points].sort((a, b) => a - b);
    let ri = -1;
    for (const from of sorted) {
      while (ri + 1 < this.routing.length && this.routing[ri + 1]!.time <= from) ri++;
      const alive = this.aliveAt(from);
      const shares = new Map<string, number>();
      if (ri < 0) {
        for (const h of alive) shares.set(h, 1 / alive.length);
      } else {
        for (const [h, s] of this.routing[ri]!.shares) if (s > 0 && alive.includes(h)) shares.set(h, s);
      }
      epochs.push({ from, shares });
    }
    this.epochs = epochs;
    this.validBefore = Number.POSITIVE_INFINITY;
    return epochs;
  }

  /** Share (0..1) of the service's requests at time t that `hash` serves. */
  shareAt(hash: string, t: number): number {
    const ep = this.getEpochs();
    const i = lastAtOrBefore(ep, t);
    return i < 0 ? 0 : (ep[i]!.shares.get(hash) ?? 0);
  }

  /** Time-weighted share of `hash` over (a, b]. */
  shareOver(hash: string, a: number, b: number): number {
    const ep = this.getEpochs();
    // intervals are mostly asked in time order: the epoch found last is checked before searching
    const h = this.hint;
    let i =
      h < ep.length && ep[h]!.from <= a && (h + 1 === ep.length || ep[h + 1]!.from > a)
        ? h
        : lastAtOrBefore(ep, a);
    if (i >= 0) this.hint = i;
    let acc = 0;
    let t = a;
    while (t < b) {
      const next = i + 1 < ep.length ? Math.min(b, ep[i + 1]!.from) : b;
      const s = i < 0 ? 0 : (ep[i]!.shares.get(hash) ?? 0);
      acc += s * (next - t);
      t = next;
      i++;
    }
    return acc / (b - a);
  }

  /**
   * A reader of shareOver(hash, t - len, t) for intervals asked in time order (a chunk's scrapes;
   * any order gives the same numbers): an interval inside one epoch has the same share as any other
   * inside it (the same product and quotient), so the epochs are searched only when an interval
   * leaves the last one's. Valid while the routing and lifetimes do not change (one drawing pass).
   */
  shareReader(hash: string, len: number): (t: number) => number {
    // the last answer holds for interval starts in [from, to]
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    let share = 0;
    return (t: number): number => {
      const a = t - len;
      if (a >= from && a <= to) return share;
      share = this.shareOver(hash, a, t);
      const ep = this.getEpochs();
      const i = this.hint;
      // shareOver() left the epoch holding a in its hint; the answer is one epoch's when t is in it too
      from = i < ep.length && ep[i]!.from <= a ? ep[i]!.from : Number.POSITIVE_INFINITY;
      to = i + 1 < ep.length ? ep[i + 1]!.from - len : Number.POSITIVE_INFINITY;
      if (a > to) from = Number.POSITIVE_INFINITY;
      return share;
    };
  }

  /** Highest share (0..1) of `hash` during [a, b]. */
  maxShare(hash: string, a: number, b: number): number {
    const ep = this.getEpochs();
    let max = 0;
    for (let i = Math.max(0, lastAtOrBefore(ep, a)); i < ep.length && ep[i]!.from <= b; i++) {
      max = Math.max(max, ep[i]!.shares.get(hash) ?? 0);
    }
    return max;
  }
}

function lastAtOrBefore(ep: readonly Epoch[], t: number): number {
  let lo = 0;
  let hi = ep.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ep[mid]!.from <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
