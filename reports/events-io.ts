/** Reading and writing event logs (JSONL: one event per line). */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EventBase } from "../engine/core/events.ts";
import { GtbError } from "../engine/core/errors.ts";

export async function readEventLog(file: string): Promise<EventBase[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new GtbError(
      "GTB_EVENTS_READ",
      `cannot read event log ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        file,
        hint: "pass the events.jsonl written by `gitops-testbed run`",
      },
    );
  }
  return parseEventLog(file, text);
}

export function parseEventLog(file: string, text: string): EventBase[] {
  const events: EventBase[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch (err) {
      throw new GtbError("GTB_EVENTS_PARSE", `line ${i + 1} is not JSON: ${(err as Error).message}`, {
        file,
        line: i + 1,
        hint: "an event log has one JSON object per line",
      });
    }
    const ev = e as Partial<EventBase> | null;
    if (ev === null || typeof ev !== "object" || typeof ev.type !== "string" || typeof ev.time !== "number") {
      throw new GtbError(
        "GTB_EVENTS_PARSE",
        `line ${i + 1} is not an event (needs "type" string and "time" number)`,
        {
          file,
          line: i + 1,
        },
      );
    }
    events.push(ev as EventBase);
  }
  return events;
}

/** Write several files into an existing directory; each appears whole or not at all. */
export async function writeFilesAtomic(dir: string, files: Record<string, string>): Promise<void> {
  const tmps: string[] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const tmp = join(dir, `.${name}.tmp-${process.pid}`);
      tmps.push(tmp);
      await writeFile(tmp, content);
    }
    const names = Object.keys(files);
    for (let i = 0; i < names.length; i++) await rename(tmps[i]!, join(dir, names[i]!));
  } catch (e) {
    for (const t of tmps) await rm(t, { force: true }).catch(() => undefined);
    throw new GtbError("GTB_OUTPUT_WRITE", `cannot write reports into ${dir}: ${(e as Error).message}`, {
      file: dir,
      hint: "check that the directory exists and is writable, or pass --out DIR",
    });
  }
}
