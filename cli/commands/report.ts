/** `gitops-testbed report EVENTS.jsonl [--out DIR]`: re-render any saved run. */
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { GtbError } from "../../engine/core/errors.ts";
import { readEventLog, renderAll, writeFilesAtomic } from "../../reports/index.ts";

export function register(program: Command): void {
  program
    .command("report")
    .description("render report.json, report.md and report.html from a saved events.jsonl")
    .argument("<events>", "event log written by `gitops-testbed run` (events.jsonl)")
    .option("--out <dir>", "directory for the reports (default: the event log's directory)")
    .option("--quiet", "do not print the summary table")
    .action(async (eventsPath: string, opts: { out?: string; quiet?: boolean }) => {
      const events = await readEventLog(eventsPath);
      if (!events.some((e) => e.type === "run.started")) {
        throw new GtbError("GTB_EVENTS_INVALID", "the event log has no run.started event", {
          file: eventsPath,
          hint: "pass an events.jsonl written by `gitops-testbed run`",
        });
      }
      const out = resolve(opts.out ?? dirname(eventsPath));
      await mkdir(out, { recursive: true }).catch((e: Error) => {
        throw new GtbError("GTB_OUTPUT_WRITE", `cannot create ${out}: ${e.message}`, { file: out });
      });
      const { files, terminal } = renderAll(events);
      await writeFilesAtomic(out, files);
      if (opts.quiet !== true) process.stdout.write(terminal);
      process.stdout.write(`reports written to ${out}\n`);
    });
}
