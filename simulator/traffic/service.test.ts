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

  it("shareReader gives shareOver's numbers bit for bit, scrape after scrape across epochs", () => {
    const s = new ServiceState(SPEC, "seed");
    start(s, "v1", 0);
    start(s, "c", 7 * MIN + 5_000);
    route(s, { v1: 0.9, c: 0.1 }, 7 * MIN + 5_000);
    route(s, { v1: 2 / 3, c: 1 / 3 }, 12 * MIN + 40_000);
    stop(s, "c", 20 * MIN);
    // interval lengths that do and do not divide the epochs' lengths; epochs met mid-interval
    for (const len of [15_000, 60_000, 7_000]) {
      for (const h of ["v1", "c", "gone"]) {
        const read = s.shareReader(h, len);
        const got: number[] = [];
        const want: number[] = [];
        for (let t = -len; t <= 30 * MIN; t += len) {
          got.push(read(t));
          want.push(s.shareOver(h, t - len, t));
        }
        expect(got).toEqual(want);
        if (h === "c") expect(new Set(want).size).toBeGreaterThan(3);
        // asked backwards too (an interval across two epochs does not stand for the one before it)
        const back = s.shareReader(h, len);
        const times = want.map((_, i) => -len + i * len).reverse();
        expect(times.map((t) => back(t))).toEqual([...want].reverse());
      }
    }
  });
});
