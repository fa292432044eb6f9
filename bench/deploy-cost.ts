/**
 * bench/deploy-cost: what one simulated deploy costs, and how far the mechanisms are from the
 * time targets of `npm start` (<= 60 s) and the sweep (<= 120 s) on this machine.
 *
 * One week of the case study's fleet (scenarios/case-study.yaml, 200 services) runs on this
 * thread, one world at a time, in four variants: the manual world; the GitOps world as shipped
 * (canary steps and analysis); the same canary with analysis off; no canary at all (one step to
 * 100%, analysis off: Git commit -> Application sync -> Rollout -> ReplicaSet -> pods -> traffic).
 * Each variant also runs for 10 minutes (bootstrap only: the first sync of every Application), and
 * that cost is taken off, so a figure is CPU per deploy: the process's CPU (every thread: the
 * V8 compiler and GC helpers share the two cores) divided by the week's deploys.
 *
 * The projections take each world's bootstrap once plus ten times the week's deploys (the 10-week
 * case study) and divide by two cores: a lower bound on `npm start` that assumes perfect use of
 * both cores and no growth with run length, for each variant of the GitOps world. The last figures do the same for
 * the sweep's 240 runs of sweep-week (20 services, one week).
 *
 * GTB_BENCH_COST_WEEKS=N changes the measured span (default 1).
 */
import { fileURLToPath } from "node:url";
import { WORLD_RUNNERS } from "../cli/worlds.ts";
import { loadScenario } from "../simulator/scenario/load.ts";
import { runScenario } from "../simulator/scenario/run.ts";
import { report } from "./report.ts";

const CASE_STUDY = fileURLToPath(new URL("../scenarios/case-study.yaml", import.meta.url));
const SWEEP_WEEK = fileURLToPath(new URL("../scenarios/sweep-week.yaml", import.meta.url));
const CORES = 2;

interface Variant {
  name: string;
  world: "manual" | "gitops";
  sets: string[];
}

const NO_ANALYSIS = "delivery.canary.analysis.enabled=false";
const VARIANTS: Variant[] = [
  { name: "manual world", world: "manual", sets: [] },
  { name: "gitops world as shipped (canary + analysis)", world: "gitops", sets: [] },
  { name: "gitops world, canary without analysis", world: "gitops", sets: [NO_ANALYSIS] },
  {
    name: "gitops world, no canary (one step to 100%, no analysis)",
    world: "gitops",
    sets: [NO_ANALYSIS, "delivery.canary.steps=[{setWeight: 100}]"],
  },
];

interface Measured {
  cpuS: number;
  deploys: number;
}

async function measure(file: string, world: string, sets: string[], duration: string): Promise<Measured> {
  const scenario = await loadScenario(file, {
    sets: [...sets, `worlds=[{name: ${world}, model: ${world}}]`, `duration=${duration}`, "assertions=[]"],
  });
  const c0 = process.cpuUsage();
  const r = await runScenario(scenario, { worldRunners: WORLD_RUNNERS });
  const c = process.cpuUsage(c0);
  return { cpuS: (c.user + c.system) / 1e6, deploys: r.stats[world]?.deploys ?? 0 };
}

/**
 * CPU seconds per deploy of `duration` minus its bootstrap (the same variant for 10 minutes); the
 * deploys are those after the bootstrap.
 */
async function perDeploy(
  file: string,
  v: Variant,
  duration: string,
): Promise<Measured & { perDeployS: number; bootCpuS: number }> {
  const boot = await measure(file, v.world, v.sets, "10m");
  const run = await measure(file, v.world, v.sets, duration);
  const deploys = run.deploys - boot.deploys;
  return {
    cpuS: run.cpuS,
    deploys,
    bootCpuS: boot.cpuS,
    perDeployS: (run.cpuS - boot.cpuS) / Math.max(1, deploys),
  };
}

export async function run(): Promise<void> {
  const weeks = Number(process.env.GTB_BENCH_COST_WEEKS ?? 1);
  const duration = `${weeks}w`;
  // warm-up: module load and the JIT's first compilations are not a deploy's cost
  await measure(CASE_STUDY, "gitops", [], "1h");
  await measure(CASE_STUDY, "manual", [], "1h");
  const extra = { scenario: `case-study, ${weeks} week(s), 200 services`, cpu: "all threads of the process" };
  const results: Array<Awaited<ReturnType<typeof perDeploy>> & { v: Variant }> = [];
  for (const v of VARIANTS) {
    const m = { ...(await perDeploy(CASE_STUDY, v, duration)), v };
    results.push(m);
    report("deploy-cost", `${v.name}: CPU per deploy`, m.perDeployS * 1000, "ms", {
      ...extra,
      deploys: m.deploys,
      runCpuS: Number(m.cpuS.toFixed(2)),
      bootstrapCpuS: Number(m.bootCpuS.toFixed(2)),
    });
  }
  const manual = results[0]!;
  const tenWeeks = 10 / weeks;
  /** Ten weeks of a world: its bootstrap once, then ten times the week's deploys. */
  const worldCpu = (m: (typeof results)[number]): number => m.bootCpuS + m.perDeployS * m.deploys * tenWeeks;
  for (const g of results.slice(1)) {
    const cpu = worldCpu(manual) + worldCpu(g);
    report(
      "deploy-cost",
      `npm start lower bound, manual + ${g.v.name} (projected: 10 weeks, ${CORES} cores fully used)`,
      cpu / CORES,
      "s",
      { ...extra, target: "<= 60 s" },
    );
  }
  // the sweep: 240 runs of sweep-week as shipped (its own fleet and change rate)
  const sweep = await perDeploy(SWEEP_WEEK, { name: "sweep-week", world: "gitops", sets: [] }, "1w");
  report("deploy-cost", "sweep-week: CPU per deploy", sweep.perDeployS * 1000, "ms", {
    scenario: "sweep-week, 1 week, 20 services",
    deploys: sweep.deploys,
    runCpuS: Number(sweep.cpuS.toFixed(3)),
    bootstrapCpuS: Number(sweep.bootCpuS.toFixed(3)),
  });
  report(
    "deploy-cost",
    `sweep 24 x 10 lower bound (projected: 240 runs, ${CORES} cores fully used)`,
    (240 * sweep.cpuS) / CORES,
    "s",
    { scenario: "sweep-week", target: "<= 120 s" },
  );
}
