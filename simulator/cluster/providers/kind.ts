/**
 * The kind provider: `kind create cluster` (a Kubernetes node in a Docker
 * container), kubeconfig written to a scratch directory, `kind delete cluster`
 * on close. Needs Docker and the kind CLI.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, mustRun, requireDocker, runCommand } from "./exec.ts";
import type { ClusterConnection, ClusterProvider } from "./types.ts";

export interface KindOptions {
  /** Cluster name (default "gitops-testbed"). */
  name?: string;
  /** Node image, e.g. kindest/node:v1.32.0 (default: kind's own). */
  image?: string;
  /** How long kind waits for the control plane (default "120s"). */
  wait?: string;
  run?: CommandRunner;
}

export function kindCreateArgs(name: string, kubeconfig: string, opts: KindOptions = {}): string[] {
  return [
    "create",
    "cluster",
    "--name",
    name,
    "--kubeconfig",
    kubeconfig,
    "--wait",
    opts.wait ?? "120s",
    ...(opts.image === undefined ? [] : ["--image", opts.image]),
  ];
}

export function kindDeleteArgs(name: string): string[] {
  return ["delete", "cluster", "--name", name];
}

export class KindProvider implements ClusterProvider {
  readonly name = "kind";
  private readonly run: CommandRunner;

  constructor(private readonly opts: KindOptions = {}) {
    this.run = opts.run ?? runCommand;
  }

  async start(): Promise<ClusterConnection> {
    await requireDocker(this.name, this.run);
    const name = this.opts.name ?? "gitops-testbed";
    const dir = await mkdtemp(join(tmpdir(), "gtb-kind-"));
    const kubeconfig = join(dir, "kubeconfig");
    try {
      await mustRun(this.run, "kind", kindCreateArgs(name, kubeconfig, this.opts));
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    let closed = false;
    return {
      kubeconfig,
      close: async () => {
        if (closed) return;
        closed = true;
        try {
          await mustRun(this.run, "kind", kindDeleteArgs(name));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  }
}
