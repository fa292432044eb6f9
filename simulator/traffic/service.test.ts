import { describe, expect, it } from "vitest";
import { ServiceState } from "./service.ts";

const SPEC = { namespace: "shop", service: "checkout-api", baseRps: 100 };
const MIN = 60_000;

/** The model's mutations, at time `now`: lifetimes start and stop, routing is replaced from now on. */
function start(s: ServiceState, hash: string, now: number): void {
  const lts = s.lifetimes.get(hash) ?? [];
  lts.push({ start: now, stop: Number.POSITIVE_INFINITY });
  s.lifetimes.set(hash, lts);
  s.invalidate(now);
}
function stop(s: ServiceState, hash: string, now: number): void {
  const lts = s.lifetimes.get(hash)!;
  lts[lts.length - 1]!.stop = now;
  s.invalidate(now);
}
function route(s: ServiceState, shares: Record<string, number>, now: number): void {
  while (s.routing.length > 0 && s.routing[s.routing.length - 1]!.time >= now) s.routing.pop();
  s.routing.push({ time: now, shares: new Map(Object.entries(shares)) });
  s.invalidate(now);
}

describe("ServiceState shares", () => {
  it("derived change by change (asked between changes) equal the shares derived at once", () => {
    const asked = new ServiceState(SPEC, "seed");
    const once = new ServiceState(SPEC, "seed");
    const script: Array<[number, (s: ServiceState, now: number) => void]> = [
      [0, (s, t) => start(s, "v1", t)],
      [10, (s, t) => start(s, "c", t)],
      [10, (s, t) => route(s, { v1: 0.95, c: 0.05 }, t)],
      [20, (s, t) => route(s, { v1: 0.75, c: 0.25 }, t)],
      [20, (s, t) => route(s, { v1: 0.5, c: 0.5 }, t)],
      [25, (s, t) => stop(s, "c", t)],
      [31, (s, t) => start(s, "v2", t)],
      [31, (s, t) => route(s, { v2: 1 }, t)],
      [40, (s, t) => stop(s, "v1", t)],
      [55, (s, t) => start(s, "c", t)],
      [55, (s, t) => route(s, { v2: 0.9, c: 0.1 }, t)],
    ];
    const hashes = ["v1", "c", "v2"];
    const probe = (s: ServiceState, upTo: number) => {
      const out: number[] = [];
      for (let t = 0; t <= upTo; t += 15_000) for (const h of hashes) out.push(s.shareOver(h, t - 15_000, t));
      return out;
    };
    script.forEach(([minute, change], i) => {
      change(asked, minute * MIN);
      change(once, minute * MIN);
      // asked after most changes, not after some (two changes then re-derived together)
      if (i % 4 !== 1) probe(asked, minute * MIN + 5 * MIN);
    });
    const all = probe(once, 70 * MIN);
    expect(probe(asked, 70 * MIN)).toEqual(all);
    // the script is seen: the canary's 5%, then its second life at 10%
    expect(all).toContain(0.05);
    expect(once.shareOver("c", 56 * MIN, 57 * MIN)).toBeCloseTo(0.1, 12);
    expect(once.maxShare("v1", 41 * MIN, 70 * MIN)).toBe(0);
  });
});
