/**
 * Running the `docker` and `kind` CLIs (no npm dependency): a CommandRunner port
 * so tests can check the arguments without Docker, and Docker detection.
 */
import { spawn } from "node:child_process";
import { GtbError } from "../../../engine/core/errors.ts";

export interface CommandResult {
  /** Exit code; -1 when the command could not be started (not installed). */
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (command: string, args: readonly string[]) => Promise<CommandResult>;

/** Run a command to completion, capturing its output; never throws. */
export const runCommand: CommandRunner = (command, args) =>
  new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      resolve({ code: -1, stdout, stderr: e instanceof Error ? e.message : String(e) });
      return;
    }
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (e) => resolve({ code: -1, stdout, stderr: e.message }));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });

const dockerInfo = (run: CommandRunner) => run("docker", ["info", "--format", "{{.ServerVersion}}"]);

/** Whether a Docker engine answers (`docker info` succeeds). */
export async function dockerAvailable(run: CommandRunner = runCommand): Promise<boolean> {
  return (await dockerInfo(run)).code === 0;
}

/** GTB_PROVIDER_NO_DOCKER unless `docker info` succeeds. */
export async function requireDocker(provider: string, run: CommandRunner = runCommand): Promise<void> {
  const r = await dockerInfo(run);
  if (r.code === 0) return;
  const why =
    r.code === -1 ? "the docker CLI is not installed" : (r.stderr.trim().split("\n")[0] ?? "").trim();
  throw new GtbError(
    "GTB_PROVIDER_NO_DOCKER",
    `--cluster ${provider} needs a Docker engine, but \`docker info\` failed: ${why || `exit ${r.code}`}`,
    {
      hint: "start Docker (or point DOCKER_HOST at one), or use --cluster embedded or --cluster kubeconfig:PATH",
    },
  );
}

/** Run a command and throw GTB_PROVIDER_COMMAND with its stderr when it fails. */
export async function mustRun(run: CommandRunner, command: string, args: readonly string[]): Promise<string> {
  const r = await run(command, args);
  if (r.code === 0) return r.stdout;
  throw new GtbError(
    "GTB_PROVIDER_COMMAND",
    `\`${[command, ...args].join(" ")}\` failed (${r.code === -1 ? "not installed" : `exit ${r.code}`}): ${r.stderr.trim().slice(0, 500)}`,
    {
      hint:
        r.code === -1
          ? `install ${command} and make sure it is on PATH`
          : "see the command's message above; run it by hand to investigate",
    },
  );
}
