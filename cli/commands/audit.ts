/** `gitops-testbed audit [--events FILE] [--app NAME]`: the deploy / drift / heal trail of an event log. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { auditTrail } from "../../engine/apps/audit-trail.ts";
import { GtbError } from "../../engine/core/errors.ts";
import type { EventBase } from "../../engine/core/events.ts";

export function parseEventLog(text: string, file: string): EventBase[] {
  const out: EventBase[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new GtbError("GTB_AUDIT_BAD_EVENT", `line ${i + 1} is not JSON: ${(e as Error).message}`, {
        file,
        line: i + 1,
        hint: "pass a JSONL event log written by gitops-testbed",
      });
    }
    if (
      typeof v !== "object" ||
      v === null ||
      typeof (v as EventBase).type !== "string" ||
      typeof (v as EventBase).time !== "number"
    ) {
      throw new GtbError("GTB_AUDIT_BAD_EVENT", `line ${i + 1} is not an event (needs "type" and "time")`, {
        file,
        line: i + 1,
      });
    }
    out.push(v as EventBase);
  });
  return out;
}

export function register(program: Command): void {
  program
    .command("audit")
    .description(
      "print the audit trail (deploys with author/reviewer/trigger, drifts with fields and writer, heals)",
    )
    .option("--events <file>", "JSONL event log ('-' for stdin)", "-")
    .option("--app <name>", "only this Application")
    .action((opts: { events: string; app?: string }) => {
      let text: string;
      try {
        text = readFileSync(opts.events === "-" ? 0 : opts.events, "utf8");
      } catch (e) {
        throw new GtbError(
          "GTB_AUDIT_NO_EVENTS",
          `cannot read event log ${opts.events}: ${(e as Error).message}`,
          {
            file: opts.events,
            hint: "pass --events out/<run>/events.jsonl",
          },
        );
      }
      const lines = auditTrail(
        parseEventLog(text, opts.events),
        opts.app !== undefined ? { app: opts.app } : {},
      );
      process.stdout.write(
        lines.length > 0 ? `${lines.join("\n")}\n` : "no deploys, drifts or heals in the log\n",
      );
    });
}
