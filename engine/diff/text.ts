/** A readable unified diff of two texts (like `argocd app diff` / `diff -u`). */

type Edit = { op: " " | "-" | "+"; line: string };

/** Line edit script by longest common subsequence (objects are small: O(n*m) is fine). */
function edits(a: string[], b: string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: " ", line: a[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ op: "-", line: a[i]! });
      i++;
    } else {
      out.push({ op: "+", line: b[j]! });
      j++;
    }
  }
  return out;
}

/** Unified diff with `context` lines around each change; "" when equal. */
export function unifiedDiff(
  from: string,
  to: string,
  fromLabel: string,
  toLabel: string,
  context = 3,
): string {
  if (from === to) return "";
  const a = from === "" ? [] : from.replace(/\n$/, "").split("\n");
  const b = to === "" ? [] : to.replace(/\n$/, "").split("\n");
  const script = edits(a, b);
  const lines = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  let k = 0;
  while (k < script.length) {
    if (script[k]!.op === " ") {
      k++;
      continue;
    }
    let start = Math.max(0, k - context);
    let end = k;
    // extend the hunk while changes are within 2*context of each other
    for (let x = k; x < script.length; x++) {
      if (script[x]!.op !== " ") end = x;
      else if (x - end > 2 * context) break;
    }
    end = Math.min(script.length - 1, end + context);
    let oldLine = 1;
    let newLine = 1;
    for (let x = 0; x < start; x++) {
      if (script[x]!.op !== "+") oldLine++;
      if (script[x]!.op !== "-") newLine++;
    }
    const hunk = script.slice(start, end + 1);
    const oldCount = hunk.filter((e) => e.op !== "+").length;
    const newCount = hunk.filter((e) => e.op !== "-").length;
    lines.push(`@@ -${oldLine},${oldCount} +${newLine},${newCount} @@`);
    for (const e of hunk) lines.push(`${e.op}${e.line}`);
    start = end + 1;
    k = start;
  }
  return `${lines.join("\n")}\n`;
}
