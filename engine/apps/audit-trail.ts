/**
 * The audit trail as text: a pure function of the event log (deploys with
 * revision, author, reviewer, trigger and changed resources; drifts with
 * fields, writer and time; heals). Used by `gitops-testbed audit`.
 */
import { rfc3339 } from "../core/clock.ts";
import type { EventBase } from "../core/events.ts";
import type { AppEvent, ResourceId } from "./events.ts";

const TYPES = new Set(["sync.finished", "drift.detected", "drift.healed", "app.condition"]);

function res(r: ResourceId): string {
  return `${r.kind}/${r.namespace === "" ? "" : `${r.namespace}/`}${r.name}`;
}

function val(v: unknown): string {
  if (v === undefined) return "<none>";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function isAppEvent(e: EventBase): e is AppEvent {
  return TYPES.has(e.type) && typeof (e as { app?: unknown }).app === "string";
}

/** One line per deploy, drift, heal and condition change, oldest first; `app` filters. */
export function auditTrail(events: readonly EventBase[], opts: { app?: string } = {}): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (!isAppEvent(e) || (opts.app !== undefined && e.app !== opts.app)) continue;
    const head = `${rfc3339(e.time)}  ${e.app}`;
    switch (e.type) {
      case "sync.finished": {
        const who = [
          e.author !== undefined ? `author ${e.author}` : undefined,
          e.reviewer !== undefined ? `reviewed-by ${e.reviewer}` : "no reviewer",
        ].filter((x) => x !== undefined);
        const changed =
          e.changed.length > 0 ? e.changed.map((c) => `${res(c)} ${c.status}`).join(", ") : "nothing";
        out.push(
          `${head}  ${e.selfHeal ? "self-heal" : e.dryRun ? "dry-run" : "deploy"} ${e.revision.slice(0, 7)} ${e.phase} ` +
            `via ${e.trigger} (started ${rfc3339(e.startedAt)})  ${who.join(", ")}  changed: ${changed}` +
            (e.phase === "Succeeded" ? "" : `  message: ${e.message}`),
        );
        break;
      }
      case "drift.detected": {
        const fields =
          e.deleted === true
            ? "deleted"
            : e.changes.map((c) => `${c.path} ${val(c.old)} -> ${val(c.new)}`).join("; ");
        const by =
          e.identity !== undefined
            ? `by ${e.identity}${e.fieldManager !== undefined && e.fieldManager !== e.identity ? ` (${e.fieldManager})` : ""}`
            : "by unknown";
        const at = e.writtenAt !== undefined ? ` written ${rfc3339(e.writtenAt)}` : "";
        out.push(`${head}  drift ${res(e.resource)}  ${fields}  ${by}${at}`);
        break;
      }
      case "drift.healed":
        out.push(
          `${head}  healed ${res(e.resource)} by ${e.by} after ${Math.round((e.time - e.detectedAt) / 1000)}s`,
        );
        break;
      case "app.condition":
        out.push(`${head}  ${e.active ? "condition" : "cleared"} ${e.conditionType}: ${e.message}`);
        break;
      default:
        break;
    }
  }
  return out;
}
