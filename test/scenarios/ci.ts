/**
 * Shared by the CI scenario tests: run a shipped scenario in-process (the same
 * code path as `gitops-testbed run`), with `--set` overrides and a seed.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { WORLD_RUNNERS } from "../../cli/worlds.ts";
import { parseScenario } from "../../simulator/scenario/load.ts";
import { type RunResult, runScenario } from "../../simulator/scenario/run.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
export const SCENARIOS = join(ROOT, "scenarios");

/** Every shipped CI scenario file name. */
export const CI_SCENARIOS = readdirSync(SCENARIOS)
  .filter((f) => f.startsWith("ci-") && f.endsWith(".yaml"))
  .sort();

export async function runCi(file: string, sets: readonly string[] = [], seed?: number): Promise<RunResult> {
  const path = join(SCENARIOS, file);
  const scenario = parseScenario(path, readFileSync(path, "utf8"), { sets });
  return runScenario(scenario, { worldRunners: WORLD_RUNNERS, ...(seed === undefined ? {} : { seed }) });
}

export function failedNames(r: RunResult): string[] {
  return r.assertions.filter((a) => !a.passed).map((a) => `${a.name}: ${a.message}`);
}

/**
 * Mutated twins: one `--set` change each that must make the named assertion fail
 * (an assertion that cannot fail proves nothing).
 */
export const TWINS: Record<string, { sets: string[]; why: string; fails: string }> = {
  "ci-canary-error-spike.yaml": {
    sets: ["delivery.canary.analysis.errorRate=0.5"],
    why: "error-rate threshold loosened to 50%",
    fails: "error-spike canary aborted within 2m of analysis start",
  },
  "ci-canary-latency-regression.yaml": {
    sets: ["delivery.canary.analysis.p99Latency=10s"],
    why: "P99 threshold loosened to 10 s",
    fails: "latency-regression canary aborted within 2m of analysis start",
  },
  "ci-canary-bad-configmap.yaml": {
    sets: ["delivery.canary.analysis.errorRate=0.5"],
    why: "error-rate threshold loosened to 50%",
    fails: "bad version never served more than 5% of traffic",
  },
  "ci-canary-load-regression.yaml": {
    sets: ["events[0].deploy.params.aboveRps=10"],
    why: "the regression starts at 10 req/s, so the 5% step already sees it",
    fails: "it escaped the 5% step (the case study's residual failures)",
  },
  "ci-canary-slow-degradation.yaml": {
    sets: ["events[0].deploy.params.errorRatePerHour=0.5"],
    why: "the degradation is fast enough for the canary to see",
    fails: "the canary cannot see it (promoted)",
  },
  "ci-canary-intermittent-errors.yaml": {
    sets: ["delivery.canary.analysis.errorRate=0.5"],
    why: "error-rate threshold loosened to 50%",
    fails: "intermittent-errors canary aborted during the canary steps",
  },
  "ci-canary-good-version.yaml": {
    sets: ["delivery.canary.analysis.errorRate=0.0001"],
    why: "error-rate threshold tighter than the service's baseline error ratio",
    fails: "no false abort",
  },
  "ci-canary-crash-loop.yaml": {
    sets: ["events[0].deploy.fault=slow-degradation"],
    why: "the pods become ready and serve a slowly degrading version that passes the early analysis",
    fails: "crash-looping version never received more than 5% of traffic",
  },
  "ci-drift.yaml": {
    sets: ["delivery.selfHeal=false"],
    why: "self-heal off",
    fails: "configmap-edit healed within 30s",
  },
  "ci-prometheus-down.yaml": {
    sets: ["events[0].at=1h"],
    why: "the outage moved after the canary",
    fails: "the canary is aborted (measurement errors), not promoted blind",
  },
  "ci-prometheus-empty.yaml": {
    sets: ["delivery.canary.analysis.requestGuard=true"],
    why: "a request guard treats an empty result as a pass",
    fails: "bad version not promoted while Prometheus returns nothing",
  },
  "ci-prometheus-nan.yaml": {
    sets: ["delivery.canary.analysis.requestGuard=true"],
    why: "a request guard treats NaN as a pass",
    fails: "bad version not promoted while Prometheus returns NaN",
  },
  "ci-prometheus-slow.yaml": {
    sets: ["events[0].fault.params.delay=45s"],
    why: "queries time out (30 s): 5 measurement errors take longer than 2 minutes",
    fails: "bad canary aborted within 2m despite slow queries",
  },
  "ci-migration.yaml": {
    sets: ["migration.phases[2].from=1d12h"],
    why: "tier-1 is still run by hand when its bad release ships",
    fails: "tier-1 bad release aborted by the canary after the cutover",
  },
  "ci-engine-restart.yaml": {
    sets: ["delivery.selfHeal=false"],
    why: "self-heal off",
    fails: "after the restart the engine heals at once again",
  },
  "ci-git-unreachable.yaml": {
    sets: ["events[0].at=1h"],
    why: "the outage moved after the release",
    fails: "nothing ships while Git is unreachable (lead time grows by the outage)",
  },
  "ci-webhook-loss.yaml": {
    sets: ["delivery.pollInterval=2h"],
    why: "a 2 h poll interval: the lost webhook's commit waits up to 2 h for the poll",
    fails: "a release whose webhook was lost ships within one poll cycle plus the canary",
  },
  "ci-api-errors.yaml": {
    sets: ["events[0].fault.params.ratio=1"],
    why: "every request fails for 40 minutes: the sync exhausts its retries",
    fails: "a release during API 500s completes",
  },
  "ci-api-throttling.yaml": {
    sets: ["events[0].fault.params.ratio=1"],
    why: "every request throttled for 40 minutes",
    fails: "a release during throttling completes",
  },
  "ci-api-latency.yaml": {
    sets: ["events[0].fault.params.delay=60s"],
    why: "a minute per API request",
    fails: "drift on a slow API server is healed within a minute",
  },
  "ci-api-latency-watch-drop.yaml": {
    sets: ["delivery.selfHeal=false"],
    why: "self-heal off",
    fails: "drift after the drop is healed within a minute",
  },
  "ci-watch-drop.yaml": {
    sets: ["delivery.selfHeal=false"],
    why: "self-heal off",
    fails: "drift after a dropped watch is healed within 30s",
  },
  "ci-notify-down.yaml": {
    sets: ["events[0].fault.kind=git-unreachable"],
    why: "a fault that does hold up delivery (Git) in place of the notification outage",
    fails: "the release is not held up by notifications",
  },
};

/**
 * Scenarios whose assertions expose a defect in a mechanism (reported to the lead).
 * `run: false` when the defect is a hang. The test checks they still fail, so a
 * fix is noticed: then delete the entry.
 */
export const KNOWN_DEFECTS: Record<string, { run: boolean; defect: string }> = {};
