import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.ts";
import { generateFleet, trafficSpec } from "../fleet/generate.ts";
import { MockPrometheus } from "../prometheus/mock.ts";
import { TrafficModel } from "../traffic/model.ts";
import { type AlertFiring, AlertScanner } from "./alerts.ts";

const T0 = Date.UTC(2026, 0, 5);
const RULES = { errorRate: 0.01, p99LatencyMs: 5_000, forMs: 5 * 60_000 };

function setup() {
  const clock = new VirtualClock(T0);
  const traffic = new TrafficModel({ clock, seed: 1 });
  const s = { ...generateFleet({ seed: 1 }).services[0]!, rps: 200 };
  traffic.addService({ ...trafficSpec(s), diurnalAmplitude: 0, noiseSd: 0 });
  const target = { namespace: s.namespace, service: s.name };
  traffic.deploy(target, "good");
  const prom = new MockPrometheus({ clock });
  prom.addProvider(traffic);
  const fired: AlertFiring[] = [];
  const alerts = new AlertScanner(
    clock,
    prom,
    RULES,
    (f) => fired.push(f),
    (svc, from, to) => traffic.deviatesDuring({ namespace: svc.namespace, service: svc.name }, from, to),
  );
  /** A version takes all traffic now (as a plain rolling deploy would); faulty with an error ratio. */
  const ship = (hash: string, errorRatio?: number) => {
    if (errorRatio !== undefined)
      traffic.setVersionBehaviour(target, hash, { ...trafficSpec(s).behaviour, errorRatio });
    traffic.deploy(target, hash);
  };
  return { clock, traffic, alerts, fired, s, target, ship };
}

describe("AlertScanner", () => {
  it("fires once the error ratio has held above the threshold for `for` (pending at the first true evaluation)", async () => {
    const { clock, alerts, fired, s, ship } = setup();
    await clock.runFor(3_600_000);
    const start = clock.now();
    ship("bad", 0.05);
    alerts.watch(s);
    await clock.runFor(30 * 60_000);
    expect(fired).toHaveLength(1);
    const f = fired[0]!;
    expect(f.reason).toMatch(/^error ratio \d+\.\d\d% > 1\.00%$/);
    expect(f.firedAt - f.pendingSince).toBeGreaterThanOrEqual(RULES.forMs);
    // evaluated every minute: pending within a few minutes, fired 5 minutes after
    expect(f.pendingSince - start).toBeLessThanOrEqual(3 * 60_000);
    expect(f.firedAt - f.pendingSince).toBeLessThanOrEqual(RULES.forMs + 60_000);
    expect(alerts.isWatching(s)).toBe(false);
  });

  it("a watch ends once no faulty version ran in the rules' window; the next faulty version starts a fresh one", async () => {
    const { clock, alerts, fired, s, ship } = setup();
    await clock.runFor(3_600_000);
    // a faulty version below the alert threshold, replaced three hours later by a good one
    ship("meh", s.baseline.errorRatio + 0.004);
    alerts.watch(s);
    await clock.runFor(3 * 3_600_000);
    expect(alerts.isWatching(s)).toBe(true);
    const during = alerts.evaluations;
    expect(during).toBeGreaterThan(120);
    ship("fixed");
    await clock.runFor(3_600_000);
    expect(alerts.isWatching(s)).toBe(false);
    const after = alerts.evaluations;
    // at most the sparse evaluations in the window after the replacement
    expect(after - during).toBeLessThanOrEqual(2);
    await clock.runFor(24 * 3_600_000);
    expect(alerts.evaluations).toBe(after);
    expect(fired).toHaveLength(0);
    // a new faulty version: evaluated every minute again (not every 15 minutes of the old watch)
    const start = clock.now();
    ship("bad", 0.05);
    alerts.watch(s);
    await clock.runFor(20 * 60_000);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.firedAt - start).toBeLessThanOrEqual(RULES.forMs + 3 * 60_000);
  });

  it("a load regression below its load evaluates nothing and keeps the watch; above it, it fires", async () => {
    const { clock, traffic, alerts, fired, s, target } = setup();
    await clock.runFor(3_600_000);
    const load = { aboveRps: 150, errorRatio: 0.2 };
    traffic.setVersionBehaviour(target, "bad", { ...trafficSpec(s).behaviour, load });
    traffic.setWeight(target, "bad", "good", 50);
    alerts.watch(s);
    await clock.runFor(60 * 60_000);
    // 100 rps served: below 150, as the baseline serves
    expect(alerts.evaluations).toBe(0);
    expect(alerts.isWatching(s)).toBe(true);
    expect(fired).toHaveLength(0);
    const start = clock.now();
    traffic.setWeight(target, "bad", "good", 100);
    await clock.runFor(20 * 60_000);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.reason).toMatch(/^error ratio/);
    expect(fired[0]!.firedAt - start).toBeLessThanOrEqual(RULES.forMs + 3 * 60_000);
    expect(alerts.evaluations).toBeGreaterThanOrEqual(6);
  });
});
