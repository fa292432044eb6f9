import { describe, expect, it } from "vitest";
import { generateFleet } from "../fleet/generate.ts";
import { parseScenario } from "../scenario/load.ts";
import { attemptAfterRevoke, cutoverTimes, peopleOf } from "./migration.ts";
import { drawPlan } from "./plan.ts";

const HOUR = 3_600_000;
const WEEK = 168 * HOUR;

function scenario(extra = ""): ReturnType<typeof parseScenario> {
  return parseScenario(
    "mem.yaml",
    `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: {name: m}
spec:
  duration: 10w
  fleet: {services: 20}
  worlds: [{name: migration, model: migration}]
${extra}`,
  );
}

describe("cutoverTimes", () => {
  const fleet = generateFleet({ seed: 1, services: 20 }).services;

  it.each([
    [
      "defaults: internal 0s, tier-2 3w, tier-1 7w",
      "",
      { internal: 0, "tier-2": 3 * WEEK, "tier-1": 7 * WEEK },
    ],
    [
      "a tier without a phase stays manual",
      "  migration: {phases: [{tier: internal, from: 1w}, {tier: tier-2, from: 2w}]}",
      { internal: WEEK, "tier-2": 2 * WEEK, "tier-1": undefined },
    ],
    [
      "a phase after the end of the run never starts",
      "  migration: {phases: [{tier: internal, from: 0s}, {tier: tier-2, from: 10w}, {tier: tier-1, from: 11w}]}",
      { internal: 0, "tier-2": undefined, "tier-1": undefined },
    ],
    [
      "a tier named twice starts at its earliest phase",
      "  migration: {phases: [{tier: internal, from: 2w}, {tier: internal, from: 1d}]}",
      { internal: 24 * HOUR, "tier-2": undefined, "tier-1": undefined },
    ],
  ])("%s", (_name, extra, want) => {
    const sc = scenario(extra);
    const times = cutoverTimes(sc, fleet);
    for (const s of fleet) {
      const w = want[s.tier];
      expect(times.get(s.name), `${s.name} (${s.tier})`).toBe(w === undefined ? undefined : sc.startMs + w);
    }
    expect(new Set(fleet.map((s) => s.tier))).toEqual(new Set(["internal", "tier-2", "tier-1"]));
  });
});

describe("attemptAfterRevoke", () => {
  it.each([
    ["before the revocation every attempt is made", -HOUR, 0.5, 1],
    ["no decay: every attempt is made", 5 * WEEK, 0, 1],
    ["decay 1: none after the revocation", HOUR, 1, 0],
    ["one week after, decay 0.5: about half", WEEK, 0.5, 0.5],
    ["two weeks after, decay 0.5: about a quarter", 2 * WEEK, 0.5, 0.25],
  ])("%s", (_name, after, decay, share) => {
    const revokedAt = 1_000 * WEEK;
    const n = 4000;
    let made = 0;
    for (let i = 0; i < n; i++)
      if (attemptAfterRevoke(7, `drift-${i}`, revokedAt + after, revokedAt, decay)) made++;
    expect(Math.abs(made / n - share)).toBeLessThan(0.03);
  });

  it("is a pure function of (seed, drift id, times): same answer twice, another seed differs somewhere", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `drift-${i}`);
    const a = ids.map((id) => attemptAfterRevoke(1, id, WEEK, 0, 0.5));
    expect(ids.map((id) => attemptAfterRevoke(1, id, WEEK, 0, 0.5))).toEqual(a);
    expect(ids.map((id) => attemptAfterRevoke(2, id, WEEK, 0, 0.5))).not.toEqual(a);
  });
});

describe("peopleOf", () => {
  it("names every change author and drift identity once, never the on-call break-glass account", () => {
    const sc = scenario(`  drift: {perWeek: 20}
  events:
    - {at: 1h, drift: {service: 0, kind: configmap-edit, identity: oncall}}
    - {at: 2h, drift: {service: 1, kind: env-change, identity: zed}}`);
    const fleet = generateFleet({ seed: sc.seed, services: 20 }).services;
    const plan = drawPlan(sc, fleet);
    const people = peopleOf(plan);
    expect(people).toContain("zed");
    expect(people).not.toContain("oncall");
    for (const c of plan.changes) expect(people).toContain(c.author.split("@")[0]);
    expect([...people].sort()).toEqual(people);
    expect(new Set(people).size).toBe(people.length);
  });
});
