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

describe("VirtualClock.io", () => {
  /** Two answers arriving in one callback (one pipe read) or in reverse order; each caller then takes three async steps. */
  async function order(arrive: (a: () => void, b: () => void) => void): Promise<string[]> {
    const clock = new VirtualClock();
    const log: string[] = [];
    let resolveA = () => {};
    let resolveB = () => {};
    const a = clock.io(new Promise<void>((r) => (resolveA = r)));
    const b = clock.io(new Promise<void>((r) => (resolveB = r)));
    const caller = async (name: string, p: Promise<void>) => {
      await p;
      for (let i = 1; i <= 3; i++) {
        log.push(`${name}${i}`);
        await Promise.resolve();
      }
    };
    const done = Promise.all([caller("a", a), caller("b", b)]);
    arrive(resolveA, resolveB);
    await clock.settle();
    await done;
    return log;
  }

  it("hands answers back in the order the I/O started, each after the previous one's work has settled", async () => {
    const want = ["a1", "a2", "a3", "b1", "b2", "b3"];
    const both = (first: () => void, second: () => void) => {
      first();
      second();
    };
    expect(await order((a, b) => both(a, b))).toEqual(want);
    expect(await order((a, b) => both(b, a))).toEqual(want);
    expect(
      await order((a, b) => {
        a();
        setImmediate(b);
      }),
    ).toEqual(want);
  });

  it("passes errors through and does not hold later answers behind them", async () => {
    const clock = new VirtualClock();
    const bad = clock.io(Promise.reject(new Error("git cat-file exited")));
    const good = clock.io(Promise.resolve(7));
    await expect(bad).rejects.toThrow("git cat-file exited");
    expect(await good).toBe(7);
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
