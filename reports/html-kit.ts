/**
 * Pieces every self-contained HTML output needs: Chart.js inlined (the UMD build shipped in
 * the chart.js package, so the file works offline), HTML escaping, and JSON safe inside <script>.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let chartJs: string | undefined;

/** The Chart.js UMD bundle's source, read once, without its source-map comment. */
export function chartLibrary(): string {
  if (chartJs === undefined) {
    const main = createRequire(import.meta.url).resolve("chart.js");
    chartJs = readFileSync(join(dirname(main), "chart.umd.min.js"), "utf8").replace(
      /\/\/# sourceMappingURL=.*$/m,
      "",
    );
  }
  return chartJs;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe to embed in a <script> element. */
export function embedJson(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, "\\u003c")
    .replace(/\u2028|\u2029/g, "");
}

/** The report pages' shared look: typography, tables with numeric columns, chart boxes. */
export const BASE_CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#666}`;

/** A self-contained page: head with BASE_CSS (+ extra CSS), the body, Chart.js and the page's script. */
export function htmlPage(p: { title: string; css?: string; body: string; script: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>
${BASE_CSS}
${p.css ?? ""}
</style>
</head>
<body>
${p.body}
<script>${chartLibrary()}</script>
<script>
${p.script}
</script>
</body>
</html>
`;
}
