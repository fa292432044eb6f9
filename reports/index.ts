/**
 * reports/: DORA metrics, drift, exposure and canary outcomes as pure functions of
 * the event log, and their renderers (JSON, Markdown, HTML, terminal).
 *
 *   buildReport(events, assertions?) -> Report        (report.ts)
 *   reportJson(report) / renderMarkdown / renderTerminal (render-text.ts) / renderHtml
 *   worldMetrics(events, world) -> WorldMetrics        (dora.ts)
 *   renderAll(events, assertions?) -> {"report.json", "report.md", "report.html"} contents
 */
import type { EventBase } from "../engine/core/events.ts";
import { renderHtml } from "./render-html.ts";
import { renderMarkdown, renderTerminal } from "./render-text.ts";
import { type AssertionResult, buildReport, type Report, reportJson } from "./report.ts";

export * from "./dora.ts";
export * from "./events-io.ts";
export { renderHtml } from "./render-html.ts";
export { renderMarkdown, renderTerminal } from "./render-text.ts";
export * from "./report.ts";

export function renderAll(
  events: readonly EventBase[],
  assertions: AssertionResult[] = [],
): { report: Report; files: Record<"report.json" | "report.md" | "report.html", string>; terminal: string } {
  const report = buildReport(events, assertions);
  return {
    report,
    files: {
      "report.json": reportJson(report),
      "report.md": renderMarkdown(report),
      "report.html": renderHtml(report),
    },
    terminal: renderTerminal(report),
  };
}
