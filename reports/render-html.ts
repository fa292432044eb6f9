/**
 * report.html: one self-contained file that works offline. Chart.js (the UMD build
 * shipped in the chart.js package) and the report data are inlined; no network request.
 */
import { attributionHtml } from "./attribution-render.ts";
import { chartLibrary, embedJson as embed, escapeHtml as esc } from "./html-kit.ts";
import { change, formatValue, type Report } from "./report.ts";

const PALETTE = ["#d9534f", "#2b7bb9", "#5cb85c", "#f0ad4e", "#8e6bbf", "#5bc0de"];

function histogram(values: number[], edges: number[]): number[] {
  const counts = edges.map(() => 0);
  for (const v of values) {
    let i = edges.findIndex((e) => v < e);
    if (i < 0) i = edges.length - 1;
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

export function renderHtml(report: Report): string {
  const w = report.worldOrder;
  const edges = [2, 5, 10, 15, 20, 30, 45, 60, 120, Number.POSITIVE_INFINITY];
  const edgeLabels = ["<2", "2-5", "5-10", "10-15", "15-20", "20-30", "30-45", "45-60", "60-120", ">120"];
  const maxWeek = Math.max(0, ...w.map((n) => report.worlds[n]!.perWeek.length));
  const maxDay = Math.max(0, ...w.flatMap((n) => report.series[n]!.driftByDay.map((d) => d.day)));
  const charts = {
    weeks: Array.from({ length: maxWeek }, (_, i) => `week ${i + 1}`),
    deploys: w.map((n, i) => ({
      label: `${n}: deployments`,
      data: report.worlds[n]!.perWeek.map((p) => p.productionDeployments),
      backgroundColor: `${PALETTE[i % PALETTE.length]}55`,
      borderColor: PALETTE[i % PALETTE.length],
      borderWidth: 1,
    })),
    failures: w.map((n, i) => ({
      label: `${n}: failed deployments`,
      data: report.worlds[n]!.perWeek.map((p) => p.failedDeployments),
      backgroundColor: PALETTE[i % PALETTE.length],
    })),
    recoveryLabels: edgeLabels,
    recovery: w.map((n, i) => ({
      label: n,
      data: histogram(report.series[n]!.recoveryMinutes, edges),
      backgroundColor: PALETTE[i % PALETTE.length],
    })),
    days: Array.from({ length: maxDay }, (_, i) => `day ${i + 1}`),
    drift: w.flatMap((n, i) => {
      const by = new Map(report.series[n]!.driftByDay.map((d) => [d.day, d]));
      const col = PALETTE[i % PALETTE.length];
      return [
        {
          label: `${n}: detected`,
          data: Array.from({ length: maxDay }, (_, d) => by.get(d + 1)?.detected ?? 0),
          borderColor: col,
          backgroundColor: col,
          stack: n,
        },
        {
          label: `${n}: undetected`,
          data: Array.from({ length: maxDay }, (_, d) => by.get(d + 1)?.undetected ?? 0),
          borderColor: col,
          backgroundColor: `${col}44`,
          stack: n,
        },
      ];
    }),
    exposure: w.map((n, i) => ({
      label: n,
      data: report.series[n]!.badExposure.map((x) => ({ x: x.maxWeight, y: x.failedRequests })),
      backgroundColor: PALETTE[i % PALETTE.length],
    })),
  };

  const table = [
    `<table><thead><tr><th>metric</th>${w.map((n) => `<th>${esc(n)}</th>`).join("")}${w.length > 1 ? "<th>change</th>" : ""}</tr></thead><tbody>`,
    ...report.comparison.map(
      (r) =>
        `<tr><td>${esc(r.label)}</td>${r.values.map((v) => `<td class="num">${esc(formatValue(v, r.unit))}</td>`).join("")}${w.length > 1 ? `<td>${esc(change(r))}</td>` : ""}</tr>`,
    ),
    "</tbody></table>",
  ].join("\n");

  const reference =
    report.reference === undefined
      ? ""
      : `<h2>Compared with the published case study</h2><table><thead><tr><th>metric</th><th>world</th><th>published</th><th>simulated</th></tr></thead><tbody>${report.reference.rows
          .map(
            (r) =>
              `<tr><td>${esc(r.metric)}</td><td>${esc(r.world)}</td><td class="num">${esc(formatValue(r.published, r.unit))}</td><td class="num">${esc(formatValue(r.simulated, r.unit))}</td></tr>`,
          )
          .join("")}</tbody></table>${report.reference.explanations.map((e) => `<p>${esc(e)}</p>`).join("")}`;

  const assertions =
    report.assertions.length === 0
      ? ""
      : `<h2>Assertions</h2><ul>${report.assertions.map((a) => `<li class="${a.passed ? "pass" : "fail"}">${a.passed ? "PASS" : "FAIL"} ${esc(a.name)}: ${esc(a.message)}</li>`).join("")}</ul>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gitops-testbed report: ${esc(report.scenario.name)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}
.chart{position:relative;height:300px}.pass{color:#2e7d32}.fail{color:#c62828}.muted{color:#666}
</style>
</head>
<body>
<h1>gitops-testbed report: ${esc(report.scenario.name)}</h1>
<p class="muted">seed ${esc(String(report.scenario.seed ?? "n/a"))}, ${esc(String(report.scenario.services ?? "?"))} services, ${esc(report.scenario.start ?? "")} to ${esc(report.scenario.end ?? "")}; DORA cluster: ${w.map((n) => `${esc(n)} <b>${esc(report.worlds[n]!.dora.cluster.overall)}</b>`).join(", ")}</p>
${table}
${report.attribution === undefined ? "" : attributionHtml(report.attribution)}
${reference}
${assertions}
<div class="grid">
<div><h2>Deployments and failures per week</h2><div class="chart"><canvas id="deploys" role="img" aria-label="deployments and failures per week"></canvas></div></div>
<div><h2>Recovery time on bad deploys (minutes)</h2><div class="chart"><canvas id="recovery" role="img" aria-label="recovery time distribution"></canvas></div></div>
<div><h2>Drift timeline</h2><div class="chart"><canvas id="drift" role="img" aria-label="drift detected and undetected per day"></canvas></div></div>
<div><h2>Canary exposure of bad versions</h2><div class="chart"><canvas id="exposure" role="img" aria-label="bad version traffic weight versus failed requests"></canvas></div></div>
</div>
<h2>How the numbers are counted</h2>
<ul>${Object.entries(report.rules)
    .map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`)
    .join("")}</ul>
${report.notes.length ? `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
<script>${chartLibrary()}</script>
<script>
const D = ${embed(charts)};
Chart.defaults.animation = false;
window.__charts = [
  new Chart(document.getElementById("deploys"), {type: "bar", data: {labels: D.weeks, datasets: [...D.deploys, ...D.failures]}, options: {maintainAspectRatio: false}}),
  new Chart(document.getElementById("recovery"), {type: "bar", data: {labels: D.recoveryLabels, datasets: D.recovery}, options: {maintainAspectRatio: false}}),
  new Chart(document.getElementById("drift"), {type: "bar", data: {labels: D.days, datasets: D.drift}, options: {maintainAspectRatio: false, scales: {x: {stacked: true}, y: {stacked: true}}}}),
  new Chart(document.getElementById("exposure"), {type: "scatter", data: {datasets: D.exposure}, options: {maintainAspectRatio: false, scales: {x: {title: {display: true, text: "max traffic weight of the bad version (%)"}}, y: {title: {display: true, text: "failed requests"}}}}}),
];
document.body.dataset.chartsRendered = String(window.__charts.length);
</script>
</body>
</html>
`;
}
