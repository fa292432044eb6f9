/** Markdown (fits a pull-request comment: the before/after table first) and terminal renderers. */
import { attributionMarkdown, attributionTerminal } from "./attribution-render.ts";
import { change, formatValue, type Report } from "./report.ts";

function weeks(report: Report): string {
  if (report.scenario.start === null || report.scenario.end === null) return "";
  const days = (Date.parse(report.scenario.end) - Date.parse(report.scenario.start)) / 86_400_000;
  return days % 7 === 0 ? `${days / 7} weeks` : `${Math.round(days * 10) / 10} days`;
}

export function renderMarkdown(report: Report): string {
  const w = report.worldOrder;
  const out: string[] = [];
  const meta = [
    report.scenario.seed === null ? undefined : `seed ${report.scenario.seed}`,
    report.scenario.services === null ? undefined : `${report.scenario.services} services`,
    weeks(report) || undefined,
  ].filter(Boolean);
  out.push(
    `## gitops-testbed report: ${report.scenario.name}${meta.length ? ` (${meta.join(", ")})` : ""}`,
    "",
  );
  out.push(`| metric | ${w.join(" | ")} |${w.length > 1 ? " change |" : ""}`);
  out.push(`|---|${w.map(() => "---:").join("|")}|${w.length > 1 ? "---|" : ""}`);
  for (const row of report.comparison) {
    out.push(
      `| ${row.label} | ${row.values.map((v) => formatValue(v, row.unit)).join(" | ")} |${w.length > 1 ? ` ${change(row)} |` : ""}`,
    );
  }
  out.push("");
  out.push(
    `DORA cluster: ${w.map((name) => `**${name}** ${report.worlds[name]!.dora.cluster.overall}`).join(", ")} ` +
      `(${report.worlds[w[0]!]?.dora.cluster.rule ?? ""}).`,
    "",
  );
  if (report.attribution !== undefined) out.push(...attributionMarkdown(report.attribution));
  if (report.reference !== undefined) {
    out.push("### Compared with the published case study", "");
    out.push("| metric | world | published | simulated |", "|---|---|---:|---:|");
    for (const r of report.reference.rows) {
      out.push(
        `| ${r.metric} | ${r.world} | ${formatValue(r.published, r.unit)} | ${formatValue(r.simulated, r.unit)} |`,
      );
    }
    out.push("");
    for (const e of report.reference.explanations) out.push(`- ${e}`);
    if (report.reference.explanations.length > 0) out.push("");
  }
  if (report.assertions.length > 0) {
    const failed = report.assertions.filter((a) => !a.passed).length;
    out.push(`### Assertions: ${report.assertions.length - failed} passed, ${failed} failed`, "");
    for (const a of report.assertions)
      out.push(`- ${a.passed ? "PASS" : "FAIL"} ${a.name}${a.world ? ` [${a.world}]` : ""}: ${a.message}`);
    out.push("");
  }
  const tiers = [...new Set(w.flatMap((name) => Object.keys(report.worlds[name]!.perTier)))].sort();
  if (tiers.length > 0) {
    out.push("<details><summary>Per tier</summary>", "");
    out.push(
      "| tier | world | deploys | CFR | recovery (median) | lead time (median) |",
      "|---|---|---:|---:|---:|---:|",
    );
    for (const t of tiers) {
      for (const name of w) {
        const d = report.worlds[name]!.perTier[t as keyof (typeof report.worlds)[string]["perTier"]];
        if (d === undefined) continue;
        out.push(
          `| ${t} | ${name} | ${d.productionDeployments} | ${formatValue(d.changeFailureRate === null ? null : d.changeFailureRate * 100, "%")} | ${formatValue(d.recoveryTimeMinutes.median, "min")} | ${formatValue(d.leadTimeHours.median, "h")} |`,
        );
      }
    }
    out.push("", "</details>", "");
  }
  if (report.notes.length > 0) {
    out.push("Notes:", ...report.notes.map((n) => `- ${n}`), "");
  }
  out.push("<details><summary>How the numbers are counted</summary>", "");
  for (const [k, v] of Object.entries(report.rules)) out.push(`- **${k}**: ${v}`);
  out.push("", "</details>", "");
  return out.join("\n");
}

/** Plain aligned table for a terminal (no colour codes, so it reads the same in CI logs). */
export function renderTerminal(report: Report): string {
  const w = report.worldOrder;
  const header = ["metric", ...w, ...(w.length > 1 ? ["change"] : [])];
  const rows = report.comparison.map((r) => [
    r.label,
    ...r.values.map((v) => formatValue(v, r.unit)),
    ...(w.length > 1 ? [change(r)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const sep = widths.map((n) => "-".repeat(n)).join("  ");
  const out = [`${report.scenario.name}: ${w.join(" vs ")}`, line(header), sep, ...rows.map(line)];
  if (report.attribution !== undefined) out.push(...attributionTerminal(report.attribution));
  if (report.assertions.length > 0) {
    const failed = report.assertions.filter((a) => !a.passed);
    out.push("", `assertions: ${report.assertions.length - failed.length} passed, ${failed.length} failed`);
    for (const a of failed) out.push(`  FAIL ${a.name}: ${a.message}`);
  }
  return `${out.join("\n")}\n`;
}
