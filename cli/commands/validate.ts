/**
 * `gitops-testbed validate FILE...`: check Rollout, AnalysisTemplate,
 * ClusterAnalysisTemplate, AnalysisRun and Application YAML against upstream's
 * rules before it reaches a cluster. Prints `file:line:col: doc N Kind/name: path: rule`;
 * exit 0 when valid, 2 when any document is invalid.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { EXIT_BAD_INPUT, GtbError } from "../../engine/core/errors.ts";
import { validateDocuments } from "../../engine/rollouts/validate-docs.ts";

export function register(program: Command): void {
  program
    .command("validate")
    .description(
      "validate Argo Rollouts and Argo CD YAML (Rollout, AnalysisTemplate, ClusterAnalysisTemplate, Application)",
    )
    .argument("<files...>", "YAML files (multi-document allowed)")
    .option("--json", "print the problems as JSON")
    .action((files: string[], o: { json?: boolean }) => {
      let errors = 0;
      let checked = 0;
      const all: unknown[] = [];
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (e) {
          throw new GtbError("GTB_VALIDATE_UNREADABLE", `cannot read ${file}: ${(e as Error).message}`, {
            file,
            hint: "check the path",
          });
        }
        const res = validateDocuments(text);
        checked += res.checked.length;
        for (const is of res.issues) {
          if (is.severity === "error") errors++;
          if (o.json === true) {
            all.push({ file, ...is });
            continue;
          }
          const loc = is.line === undefined ? file : `${file}:${is.line}:${is.column}`;
          const what = is.kind === undefined ? `doc ${is.doc}` : `doc ${is.doc} ${is.kind}/${is.name ?? "?"}`;
          process.stdout.write(
            `${loc}: ${is.severity}: ${what}: ${is.path === "" ? "" : `${is.path}: `}${is.message}\n`,
          );
        }
        if (o.json !== true) {
          for (const s of res.skipped) {
            process.stdout.write(
              `${file}: doc ${s.doc} (${s.kind ?? "no kind"}) skipped: not an Argo Rollouts / Argo CD kind\n`,
            );
          }
        }
      }
      if (o.json === true) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      else process.stdout.write(`${checked} document(s) checked, ${errors} error(s)\n`);
      if (errors > 0) process.exitCode = EXIT_BAD_INPUT;
    });
}
