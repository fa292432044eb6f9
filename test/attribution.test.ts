/**
 * Attribution end to end: `gitops-testbed run --attribution` on a small scenario with bad canaries
 * and drift re-runs the gitops world with each mechanism off, and each delta has the sign the
 * mechanism explains. These are mechanisms, not fixtures: if canary analysis stops catching bad
 * versions, self-heal stops reverting drift, or the webhook stops shortening delivery, this fails.
 * `gitops-testbed report` re-renders the same attribution from the saved events.jsonl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/testing.ts";
import type { AttributionRow } from "../reports/attribution.ts";
import type { Report } from "../reports/report.ts";

const SCENARIO = `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata:
  name: attribution-small
  description: "Good and bad releases (error-spike) and drift of three kinds on four services."
spec:
  seed: 5
  duration: 6h
  fleet: {services: 4, naming: indexed, requestRate: {min: 300, max: 600}}
  worlds:
    - {name: gitops, model: gitops}
  changes: {perServicePerWeek: 0}
  drift: {perWeek: 0}
  delivery:
    review: {median: 5m, p90: 10m}
    canary:
      analysis: {requestGuard: true}
  events:
    - {at: 20m, deploy: {service: 0}}
    - {at: 40m, deploy: {service: 1, fault: error-spike}}
    - {at: 1h, deploy: {service: 2}}
    - {at: 1h20m, deploy: {service: 3, fault: error-spike}}
    - {at: 1h40m, drift: {service: 0, kind: configmap-edit}}
    - {at: 2h, drift: {service: 1, kind: replicas-frozen}}
    - {at: 2h20m, deploy: {service: 0}}
    - {at: 2h40m, deploy: {service: 2, fault: error-spike}}
    - {at: 3h, drift: {service: 2, kind: env-change}}
    - {at: 3h20m, deploy: {service: 3}}
`;

let dir = "";
let report: Report;
let runOut = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gtb-attribution-"));
  writeFileSync(join(dir, "s.yaml"), SCENARIO);
  const r = await runCli(["run", join(dir, "s.yaml"), "--out", join(dir, "out"), "--attribution"]);
  runOut = r.out;
  expect(r.code, r.err).toBe(0);
  report = JSON.parse(readFileSync(join(dir, "out", "report.json"), "utf8")) as Report;
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function row(mechanism: string, key: string): AttributionRow {
  const e = report.attribution?.entries.find((x) => x.mechanism === mechanism && x.world === "gitops");
  const r = e?.rows.find((x) => x.key === key);
  if (r === undefined) throw new Error(`no ${mechanism}/${key} row in ${JSON.stringify(report.attribution)}`);
  return r;
}

describe("run --attribution", () => {
  it("re-runs the gitops world once per mechanism", () => {
    expect(report.attribution?.entries.map((e) => [e.world, e.mechanism, e.skipped])).toEqual([
      ["gitops", "canary-analysis", undefined],
      ["gitops", "self-heal", undefined],
      ["gitops", "webhook", undefined],
    ]);
  });

  it("the baseline is the run itself", () => {
    const m = report.worlds.gitops!;
    expect(row("self-heal", "driftHealed").baseline).toBe(m.drift.healed);
    expect(row("canary-analysis", "badVersionRequests").baseline).toBe(m.exposure.badVersionRequests);
    expect(row("webhook", "leadTimeHoursMedian").baseline).toBe(m.dora.leadTimeHours.median);
    // the baseline's own mechanisms work: bad canaries aborted, drift healed
    expect(m.canary.trueAborts).toBe(3);
    expect(m.drift.healed).toBe(3);
  });

  it("canary analysis off: bad versions reach production (more bad traffic, higher CFR, no aborts)", () => {
    expect(row("canary-analysis", "trueAborts").without).toBe(0);
    expect(row("canary-analysis", "badVersionRequests").delta).toBeGreaterThan(0);
    expect(row("canary-analysis", "changeFailureRateTruth").delta).toBeGreaterThan(0);
    expect(row("canary-analysis", "changeFailureRate").delta).toBeGreaterThan(0);
  });

  it("self-heal off: drift is detected but not reverted", () => {
    expect(row("self-heal", "driftHealed").delta).toBeLessThan(0);
    expect(row("self-heal", "driftDetected").delta).toBe(0);
    // the canaries do not depend on self-heal
    expect(row("self-heal", "trueAborts").delta).toBe(0);
  });

  it("polling only: commits wait for the poll (longer lead time)", () => {
    expect(row("webhook", "leadTimeHoursMedian").delta).toBeGreaterThan(0);
    expect(row("webhook", "trueAborts").delta).toBe(0);
  });

  it("shows in the terminal summary, report.md and report.html", () => {
    expect(runOut).toMatch(/Canary analysis \[gitops\]: Requests served by bad versions [\d,]+ -> [\d,]+/);
    const md = readFileSync(join(dir, "out", "report.md"), "utf8");
    expect(md).toContain("| Self-heal | gitops | Drift auto-corrected 3 -> ");
    expect(readFileSync(join(dir, "out", "report.html"), "utf8")).toContain('<table id="attribution">');
  });

  it.each([
    ["--attribution", ["--attribution"], /drop --attribution/],
    ["spec.report.attribution", ["--set", "report.attribution=true"], /report\.attribution=false/],
  ])("%s in live mode is a usage error before anything runs (exit 2)", async (_name, extra, hint) => {
    const out = join(dir, "live");
    const r = await runCli(["run", join(dir, "s.yaml"), "--out", out, "--mode", "live", ...extra]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/attribution re-runs the gitops worlds in virtual time only/);
    expect(r.err).toMatch(hint);
  });

  it("`report EVENTS.jsonl` re-renders the same attribution from the saved log", async () => {
    const out = join(dir, "again");
    const r = await runCli(["report", join(dir, "out", "events.jsonl"), "--out", out, "--quiet"]);
    expect(r.code, r.err).toBe(0);
    // the scenario has no assertions, so the two reports are byte for byte the same
    expect(readFileSync(join(out, "report.json"), "utf8")).toBe(
      readFileSync(join(dir, "out", "report.json"), "utf8"),
    );
    const again = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
    expect(again.attribution).toEqual(report.attribution);
  });
});
