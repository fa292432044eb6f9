/**
 * The gitops-testbed command. Library code never imports from cli/.
 * Each subcommand lives in cli/commands/<name>.ts and exports `register(program)`.
 */
import { Command, CommanderError } from "commander";
import { EXIT_BAD_INPUT, isGtbError } from "../engine/core/errors.ts";
import { COMMANDS } from "./commands/index.ts";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("gitops-testbed")
    .description(
      "Simulation and testbed harness for GitOps delivery: Argo CD-style sync and self-heal,\n" +
        "Argo Rollouts-style canaries gated by Prometheus analysis, fault injection, DORA reports.",
    )
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2
      return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (isGtbError(e)) {
      process.stderr.write(`${e.format()}\n`);
      return e.exitCode;
    }
    process.stderr.write(`error GTB_INTERNAL: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
