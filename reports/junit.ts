/** JUnit XML for CI systems: one test case per assertion (and world), failures say why. */
import type { AssertionResult } from "./report.ts";

function esc(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

export function renderJunit(suite: string, results: readonly AssertionResult[], timeSeconds = 0): string {
  const failures = results.filter((r) => !r.passed).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gitops-testbed" tests="${results.length}" failures="${failures}" errors="0" time="${timeSeconds.toFixed(3)}">`,
    `  <testsuite name="${esc(suite)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0" time="${timeSeconds.toFixed(3)}">`,
  ];
  for (const r of results) {
    const cls = `${suite}.${r.world ?? "all"}`;
    lines.push(`    <testcase classname="${esc(cls)}" name="${esc(r.name)}" time="0">`);
    if (!r.passed) {
      lines.push(
        `      <failure message="${esc(r.message)}" type="AssertionFailed">${esc(`${r.path ?? ""}: ${r.message}`)}</failure>`,
      );
    } else {
      lines.push(`      <system-out>${esc(r.message)}</system-out>`);
    }
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
