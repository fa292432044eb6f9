/**
 * `gitops-testbed run SCENARIO [--seed N] [--out DIR] [--set path=value ...] [--mode virtual|live]
 *  [--cluster embedded|kind|k3s|kubeconfig:PATH] [--time-scale X] [--attribution]`
 * Writes events.jsonl, report.json, report.md, report.html and junit.xml into DIR
 * (default out/<scenario>), all at once or not at all. Exit 0 when every assertion holds,
 * 1 when one fails, 2 on bad input.
 */
import { resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { EXIT_CHECKS_FAILED, GtbError } from "../../engine/core/errors.ts";
import { toJsonl } from "../../engine/core/events.ts";
import type { Mechanism } from "../../reports/attribution.ts";
import { withAttribution } from "../../reports/attribution.ts";
import { runAttribution } from "../../reports/attribution-run.ts";
import { renderJunit } from "../../reports/junit.ts";
import { renderAll } from "../../reports/index.ts";
import { CLUSTER_SPEC_HELP, parseClusterSpec } from "../../simulator/cluster/providers/types.ts";
import { loadScenario } from "../../simulator/scenario/load.ts";
import { writeOutputDir } from "../../simulator/scenario/output.ts";
import { runScenario } from "../../simulator/scenario/run.ts";
import { WORLD_RUNNERS } from "../worlds.ts";

const collect = (v: string, acc: string[]) => [...acc, v];

function parseTimeScale(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new GtbError("GTB_USAGE", `--time-scale must be a number > 0, got "${v}"`, {
      hint: "e.g. --time-scale 60 (one simulated minute per wall second)",
    });
  }
  return n;
}

function parseSeed(v: string): number {
  if (!/^-?\d+$/.test(v)) {
    throw new GtbError("GTB_USAGE", `--seed must be an integer, got "${v}"`, { hint: "e.g. --seed 42" });
  }
  return Number(v);
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a scenario and write events.jsonl, report.{json,md,html} and junit.xml")
    .argument("<scenario>", "scenario YAML file (e.g. scenarios/case-study.yaml)")
    .option("--seed <n>", "override the scenario's seed", parseSeed)
    .option("--out <dir>", "output directory (default out/<scenario name>)")
    .option(
      "--set <path=value>",
      "override a scenario field, e.g. --set changes.badRatio=0.1 (repeatable)",
      collect,
      [],
    )
    .option(
      "--mode <mode>",
      "virtual (in-process, discrete time) or live (HTTP, scaled wall clock)",
      "virtual",
    )
    .option("--cluster <provider>", `live mode: ${CLUSTER_SPEC_HELP}`, "embedded")
    .option("--time-scale <x>", "live mode: clock speed-up, e.g. 60 runs a 10-minute window in 10 s", "60")
    .option(
      "--attribution",
      "also re-run the gitops worlds with canary analysis, self-heal and the push webhook off, one at a time, and report what each contributed (as spec.report.attribution: true)",
    )
    .option("--quiet", "no progress bar and no summary table")
    .action(
      async (
        file: string,
        opts: {
          seed?: number;
          out?: string;
          set: string[];
          mode: string;
          cluster: string;
          timeScale: string;
          quiet?: boolean;
          attribution?: boolean;
        },
      ) => {
        if (opts.mode !== "virtual" && opts.mode !== "live") {
          throw new GtbError("GTB_USAGE", `--mode must be virtual or live, got "${opts.mode}"`);
        }
        const mode = opts.mode;
        const cluster = parseClusterSpec(opts.cluster);
        const timeScale = parseTimeScale(opts.timeScale);
        if (mode === "virtual" && cluster.kind !== "embedded") {
          throw new GtbError("GTB_USAGE", `--cluster ${opts.cluster} needs --mode live`, {
            hint: "virtual time runs in-process on the embedded cluster; add --mode live",
          });
        }
        const scenario = await loadScenario(file, { sets: opts.set });
        const attribution = opts.attribution === true || scenario.report.attribution;
        if (attribution && mode === "live") {
          throw new GtbError("GTB_USAGE", "attribution re-runs the gitops worlds in virtual time only", {
            hint:
              opts.attribution === true
                ? "drop --attribution, or run without --mode live"
                : "run without --mode live, or --set report.attribution=false",
          });
        }
        const out = resolve(opts.out ?? `out/${scenario.name}`);
        const showBar = opts.quiet !== true && process.stderr.isTTY === true && process.env.CI !== "true";
        const bar = showBar
          ? new SingleBar(
              {
                format: " {world} [{bar}] {percentage}% | {eta_formatted} left",
                hideCursor: true,
                clearOnComplete: true,
              },
              undefined,
            )
          : undefined;
        // worlds may run side by side (one worker thread each): the bar shows their mean progress
        const progress = new Map<string, number>();
        const lastStep = new Map<string, number>();
        let barStarted = false;
        const started = performance.now();
        const result = await runScenario(scenario, {
          ...(opts.seed === undefined ? {} : { seed: opts.seed }),
          worldRunners: WORLD_RUNNERS,
          worldsModule: new URL("../worlds.ts", import.meta.url).href,
          ...(mode === "live" ? { mode, timeScale, cluster } : {}),
          ...(bar === undefined
            ? opts.quiet === true || process.env.CI === "true"
              ? {}
              : {
                  // no terminal: a line per world every 10% of simulated time, so long runs show life
                  onProgress: (world: string, f: number) => {
                    const step = Math.floor(f * 10);
                    if (step <= (lastStep.get(world) ?? -1)) return;
                    lastStep.set(world, step);
                    process.stderr.write(`${world}: ${step * 10}% of simulated time\n`);
                  },
                }
            : {
                onProgress: (world: string, f: number) => {
                  progress.set(world, f);
                  const worlds = scenario.worlds.map((w) => w.name).join(" + ");
                  const mean = scenario.worlds.reduce((sum, w) => sum + (progress.get(w.name) ?? 0), 0);
                  const pct = Math.round((mean / scenario.worlds.length) * 100);
                  if (!barStarted) {
                    barStarted = true;
                    bar.start(100, 0, { world: worlds });
                  }
                  bar.update(pct, { world: worlds });
                },
              }),
        });
        bar?.stop();
        let events = result.events;
        if (attribution) {
          // one variant at a time: "canary analysis off", then "self-heal off", then "push webhook off"
          const variantProgress = new Map<string, number>();
          let variant = "";
          const onProgress = (m: Mechanism, world: string, f: number) => {
            const label = `attribution: ${m.name.toLowerCase()} off`;
            if (label !== variant) {
              variant = label;
              variantProgress.clear();
              if (bar !== undefined) {
                bar.stop();
                bar.start(100, 0, { world: label });
              } else if (opts.quiet !== true && process.env.CI !== "true") {
                process.stderr.write(`${label}\n`);
              }
            }
            variantProgress.set(world, f);
            const mean = [...variantProgress.values()].reduce((a, b) => a + b, 0) / variantProgress.size;
            bar?.update(Math.round(mean * 100), { world: label });
          };
          const computed = await runAttribution(scenario, {
            ...(opts.seed === undefined ? {} : { seed: opts.seed }),
            worldRunners: WORLD_RUNNERS,
            worldsModule: new URL("../worlds.ts", import.meta.url).href,
            onProgress,
          });
          bar?.stop();
          events = withAttribution(result.events, computed);
        }
        const seconds = (performance.now() - started) / 1000;
        const { files, terminal } = renderAll(events, result.assertions);
        await writeOutputDir(out, {
          "events.jsonl": toJsonl(events),
          ...files,
          "junit.xml": renderJunit(scenario.name, result.assertions, seconds),
        });
        if (opts.quiet !== true) process.stdout.write(terminal);
        const failed = result.assertions.filter((a) => !a.passed);
        process.stdout.write(
          `${scenario.name}: ${events.length} events in ${seconds.toFixed(1)} s; outputs in ${out}\n` +
            (result.assertions.length > 0
              ? `assertions: ${result.assertions.length - failed.length} passed, ${failed.length} failed\n`
              : ""),
        );
        if (failed.length > 0) process.exitCode = EXIT_CHECKS_FAILED;
      },
    );
}
