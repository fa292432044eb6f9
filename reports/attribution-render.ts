/** The attribution section in report.md, report.html and the terminal summary. */
import { type AttributionRow, type AttributionSection, changedRows } from "./attribution.ts";
import { escapeHtml as esc } from "./html-kit.ts";
import { formatValue } from "./report.ts";

type Entry = AttributionSection["entries"][number];

/** "+12.5 pp", "-3 min", "+1,204". */
export function formatDelta(row: AttributionRow): string {
  if (row.delta === null) return "n/a";
  const sign = row.delta > 0 ? "+" : row.delta < 0 ? "-" : "";
  const abs = Math.abs(row.delta);
  return row.unit === "%" ? `${sign}${formatValue(abs, "")} pp` : `${sign}${formatValue(abs, row.unit)}`;
}

/** "Requests served by bad versions 58 -> 12,400 (+12,342, worse)". */
export function describeRow(row: AttributionRow): string {
  const verdict = row.worse === null ? "" : row.worse ? ", worse" : ", better";
  return (
    `${row.label} ${formatValue(row.baseline, row.unit)} -> ${formatValue(row.without, row.unit)}` +
    ` (${formatDelta(row)}${verdict})`
  );
}

/** What turning the mechanism off changed, in one line (the three most telling figures). */
export function attributionSummary(entry: Entry, limit = 3): string {
  if (entry.skipped !== undefined) return `not run: ${entry.skipped}`;
  const changed = changedRows(entry.mechanism, entry.rows);
  if (changed.length === 0) return "no change in this run";
  return changed.slice(0, limit).map(describeRow).join("; ");
}

function variantsOf(section: AttributionSection, world: string): Entry[] {
  return section.entries.filter((e) => e.world === world && e.skipped === undefined);
}

function worldsOf(section: AttributionSection): string[] {
  return [...new Set(section.entries.map((e) => e.world))];
}

export function attributionMarkdown(section: AttributionSection): string[] {
  const out = ["### What each mechanism contributed", ""];
  if (section.entries.length === 0) return [...out, "No gitops world in this run: nothing to attribute.", ""];
  out.push("| mechanism | world | what turning it off changes |", "|---|---|---|");
  for (const e of section.entries) out.push(`| ${e.name} | ${e.world} | ${attributionSummary(e)} |`);
  out.push("");
  for (const world of worldsOf(section)) {
    const vs = variantsOf(section, world);
    if (vs.length === 0) continue;
    out.push(`<details><summary>${world}: every figure with each mechanism off</summary>`, "");
    out.push(`| metric | ${world} | ${vs.map((v) => `${v.name} off`).join(" | ")} |`);
    out.push(`|---|---:|${vs.map(() => "---:").join("|")}|`);
    for (const [i, r] of vs[0]!.rows.entries()) {
      const cells = vs.map((v) => {
        const x = v.rows[i]!;
        return `${formatValue(x.without, x.unit)} (${formatDelta(x)})`;
      });
      out.push(`| ${r.label} | ${formatValue(r.baseline, r.unit)} | ${cells.join(" | ")} |`);
    }
    out.push("", "</details>", "");
  }
  out.push(`Attribution rule: ${section.rule}.`, "");
  return out;
}

export function attributionTerminal(section: AttributionSection): string[] {
  if (section.entries.length === 0) return ["", "attribution: no gitops world in this run"];
  const out = ["", "what each mechanism contributed (turned off, same seed):"];
  for (const e of section.entries) out.push(`  ${e.name} [${e.world}]: ${attributionSummary(e)}`);
  return out;
}

export function attributionHtml(section: AttributionSection): string {
  const head = "<h2>What each mechanism contributed</h2>";
  if (section.entries.length === 0) return `${head}<p>No gitops world in this run: nothing to attribute.</p>`;
  const summary = `<table id="attribution"><thead><tr><th>mechanism</th><th>world</th><th>what turning it off changes</th></tr></thead><tbody>${section.entries
    .map(
      (e) => `<tr><td>${esc(e.name)}</td><td>${esc(e.world)}</td><td>${esc(attributionSummary(e))}</td></tr>`,
    )
    .join("")}</tbody></table>`;
  const details = worldsOf(section)
    .map((world) => {
      const vs = variantsOf(section, world);
      if (vs.length === 0) return "";
      const rows = vs[0]!.rows
        .map(
          (r, i) =>
            `<tr><td>${esc(r.label)}</td><td class="num">${esc(formatValue(r.baseline, r.unit))}</td>${vs
              .map((v) => {
                const x = v.rows[i]!;
                const cls = x.worse === null ? "" : x.worse ? " fail" : " pass";
                return `<td class="num${cls}">${esc(formatValue(x.without, x.unit))} (${esc(formatDelta(x))})</td>`;
              })
              .join("")}</tr>`,
        )
        .join("");
      return `<details><summary>${esc(world)}: every figure with each mechanism off</summary><table><thead><tr><th>metric</th><th>${esc(world)}</th>${vs
        .map((v) => `<th>${esc(v.name)} off</th>`)
        .join("")}</tr></thead><tbody>${rows}</tbody></table></details>`;
    })
    .join("");
  return `${head}${summary}${details}<p class="muted">${esc(section.rule)}.</p>`;
}
