/**
 * sweep.csv (one row per point) and sweep.html (self-contained, Chart.js inlined: detection
 * vs false-abort scatter with the Pareto frontier highlighted, recommendations, the table).
 */
import { embedJson, escapeHtml as esc, htmlPage } from "../html-kit.ts";
import type { Scope } from "./frontier.ts";
import type { SweepResult } from "./result.ts";
import { SWEEP_METRICS, TIER_METRICS, TIERS } from "./sample.ts";
import type { RepeatSummary } from "./stats.ts";

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderSweepCsv(r: SweepResult): string {
  const params = r.grid.params.map((p) => p.name);
  const frontier = new Set(r.frontier);
  const header = [
    "point",
    ...params,
    ...SWEEP_METRICS.flatMap((m) => [`${m}_mean`, `${m}_ci95_low`, `${m}_ci95_high`, `${m}_n`]),
    ...TIERS.flatMap((t) => TIER_METRICS.map((m) => `${t}_${m}_mean`)),
    "pareto",
  ];
  const rows = r.points.map((p) => [
    p.index,
    ...params.map((n) => p.params[n] ?? null),
    ...SWEEP_METRICS.flatMap((m) => {
      const s = p.metrics[m];
      return [s.mean, s.ci95?.[0] ?? null, s.ci95?.[1] ?? null, s.n];
    }),
    ...TIERS.flatMap((t) => TIER_METRICS.map((m) => p.perTier[t][m].mean)),
    frontier.has(p.index),
  ]);
  return `${[header, ...rows].map((row) => row.map(csvCell).join(",")).join("\n")}\n`;
}

const label = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ") || "base";

function cell(s: RepeatSummary, digits: number): string {
  if (s.mean === null) return "n/a";
  const ci =
    s.ci95 === null
      ? ""
      : ` <span class="muted">[${s.ci95[0].toFixed(digits)}, ${s.ci95[1].toFixed(digits)}]</span>`;
  return `${s.mean.toFixed(digits)}${ci}`;
}

export function renderSweepHtml(r: SweepResult): string {
  const frontier = new Set(r.frontier);
  const xy = (indexes: number[]) =>
    r.points
      .filter((p) => indexes.includes(p.index))
      .filter((p) => p.metrics.detectionRate.mean !== null && p.metrics.falseAbortRate.mean !== null)
      .map((p) => ({
        x: p.metrics.falseAbortRate.mean,
        y: p.metrics.detectionRate.mean,
        label: `#${p.index} ${label(p.params)}; bad traffic ${p.metrics.badTraffic.mean ?? "n/a"}`,
      }));
  const onFront = xy(r.frontier).sort((a, b) => (a.x ?? 0) - (b.x ?? 0));
  const off = xy(r.points.map((p) => p.index).filter((i) => !frontier.has(i)));
  const data = { onFront, off };
  const scopes: Scope[] = ["all", ...TIERS];
  const params = r.grid.params.map((p) => p.name);
  const table = [
    `<table><thead><tr><th>#</th>${params.map((p) => `<th>${esc(p)}</th>`).join("")}<th>detection</th><th>false aborts</th><th>bad traffic</th><th>lead time (h)</th><th>CFR</th><th>recovery (min)</th><th>frontier</th></tr></thead><tbody>`,
    ...r.points.map(
      (p) =>
        `<tr${frontier.has(p.index) ? ' class="front"' : ""}><td>${p.index}</td>${params.map((n) => `<td>${esc(p.params[n] ?? "")}</td>`).join("")}` +
        `<td class="num">${cell(p.metrics.detectionRate, 3)}</td><td class="num">${cell(p.metrics.falseAbortRate, 3)}</td>` +
        `<td class="num">${cell(p.metrics.badTraffic, 0)}</td><td class="num">${cell(p.metrics.leadTimeHours, 2)}</td>` +
        `<td class="num">${cell(p.metrics.changeFailureRate, 3)}</td><td class="num">${cell(p.metrics.recoveryMinutes, 1)}</td>` +
        `<td>${frontier.has(p.index) ? "yes" : ""}</td></tr>`,
    ),
    "</tbody></table>",
  ].join("\n");
  const body = `<h1>gitops-testbed sweep: ${esc(r.scenario.name)}</h1>
<p class="muted">world ${esc(r.world)}, scenario seed ${r.scenario.seed}, ${r.grid.points} points x ${r.grid.repeats} repeats${r.shard === undefined ? "" : `; shard ${r.shard.index}/${r.shard.count} (partial: merge the shards with <code>gitops-testbed sweep merge</code>)`}; params: ${r.grid.params.map((p) => `${esc(p.name)} (${esc(p.values.join(", "))})`).join("; ") || "none"}</p>
<h2>Recommended points</h2>
<ul>${scopes.map((s) => `<li><b>${esc(s)}</b>: ${esc(r.recommendations[s].reason)}</li>`).join("")}</ul>
<h2>Detection vs false aborts (Pareto frontier highlighted)</h2>
<div class="chart"><canvas id="frontier" role="img" aria-label="detection rate versus false-abort rate per sweep point"></canvas></div>
<h2>Points (mean and 95% CI over repeats)</h2>
${table}
<h2>How the numbers are counted</h2>
<ul>${r.rules.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>`;
  const script = `const D = ${embedJson(data)};
Chart.defaults.animation = false;
const tip = {callbacks: {label: (c) => c.raw.label + " (false aborts " + c.raw.x + ", detection " + c.raw.y + ")"}};
window.__charts = [
  new Chart(document.getElementById("frontier"), {type: "scatter", data: {datasets: [
    {label: "Pareto frontier", data: D.onFront, showLine: true, borderColor: "#d9534f", backgroundColor: "#d9534f", pointRadius: 6},
    {label: "dominated points", data: D.off, borderColor: "#999", backgroundColor: "#9995", pointRadius: 4},
  ]}, options: {maintainAspectRatio: false, plugins: {tooltip: tip}, scales: {
    x: {title: {display: true, text: "false-abort rate (good canaries aborted)"}, min: 0},
    y: {title: {display: true, text: "detection rate (bad canaries aborted)"}, min: 0, max: 1},
  }}}),
];
document.body.dataset.chartsRendered = String(window.__charts.length);`;
  return htmlPage({
    title: `gitops-testbed sweep: ${r.scenario.name}`,
    css: "tr.front td{background:#fdf1f0}.chart{position:relative;height:420px}",
    body,
    script,
  });
}
