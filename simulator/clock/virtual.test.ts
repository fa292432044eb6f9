import { describe, expect, it } from "vitest";
import { VirtualClock } from "./virtual.ts";
import { SeededRng } from "./rng.ts";

describe("VirtualClock", () => {
  it("runs timers in (time, insertion) order and only advances when idle", async () => {
    const c = new VirtualClock(0);
    const seen: string[] = [];
    c.setTimeout(() => seen.push("b@10"), 10);
    c.setTimeout(() => seen.push("a@5"), 5);
    c.setTimeout(() => seen.push("c@10"), 10);
    c.setTimeout(async () => {
      await Promise.resolve();
      seen.push(`async@5 now=${c.now()}`);
      c.setTimeout(() => seen.push("d@6"), 1);
    }, 5);
    await c.runUntil(100);
    expect(seen).toEqual(["a@5", "async@5 now=5", "d@6", "b@10", "c@10"]);
    expect(c.now()).toBe(100);
  });

  it("cancels timers and waits for tracked work before advancing", async () => {
    const c = new VirtualClock(0);
    const seen: number[] = [];
    const h = c.setTimeout(() => seen.push(1), 1);
    c.clearTimeout(h);
    c.setTimeout(() => {
      void c
        .track(new Promise<void>((r) => setImmediate(() => setImmediate(r))))
        .then(() => seen.push(c.now()));
    }, 2);
    c.setTimeout(() => seen.push(3), 3);
    await c.runAll();
    expect(seen).toEqual([2, 3]);
  });

  it("sleep resolves at the virtual time", async () => {
    const c = new VirtualClock(1000);
    let at = -1;
    void c.sleep(60_000).then(() => {
      at = c.now();
    });
    await c.runFor(120_000);
    expect(at).toBe(61_000);
  });
});

describe("SeededRng", () => {
  it("is deterministic and sub-streams are independent of siblings", () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    expect([a.float(), a.float()]).toEqual([b.float(), b.float()]);
    const s12 = new SeededRng(7).fork("svc-12").float();
    const root = new SeededRng(7);
    root.fork("svc-201").float();
    expect(root.fork("svc-12").float()).toBe(s12);
    expect(new SeededRng(8).fork("svc-12").float()).not.toBe(s12);
  });

  it("binomial and poisson have the right means", () => {
    const r = new SeededRng("dist");
    const n = 20_000;
    let sb = 0;
    let sp = 0;
    let sl = 0;
    for (let i = 0; i < n; i++) {
      sb += r.binomial(1000, 0.005);
      sp += r.poisson(3.5);
      sl += r.binomial(100_000, 0.3);
    }
    expect(sb / n).toBeCloseTo(5, 1);
    expect(sp / n).toBeCloseTo(3.5, 1);
    expect(sl / n / 30_000).toBeCloseTo(1, 2);
  });
});

describe("VirtualClock.runUntil with work scheduled by async callbacks", () => {
  it("runs a timer that async work schedules after the last due timer, within the window", async () => {
    const c = new VirtualClock(0);
    const seen: number[] = [];
    c.setTimeout(async () => {
      await Promise.resolve();
      await Promise.resolve();
      c.setTimeout(() => seen.push(c.now()), 5);
    }, 10);
    await c.runUntil(100);
    expect(seen).toEqual([15]);
    expect(c.now()).toBe(100);
  });
});
