/**
 * The k3s provider: a `rancher/k3s` server container run with the docker CLI,
 * its API published on a free 127.0.0.1 port, the kubeconfig k3s writes read
 * back with `docker exec` (server URL rewritten to the published port), and the
 * container removed on close. Needs Docker.
 */
import { parse as parseYaml } from "yaml";
import { GtbError } from "../../../engine/core/errors.ts";
import { RealClock } from "../../clock/real.ts";
import { type CommandRunner, mustRun, requireDocker, runCommand } from "./exec.ts";
import type { ClusterConnection, ClusterProvider } from "./types.ts";

export interface K3sOptions {
  /** Container name (default "gitops-testbed-k3s"). */
  name?: string;
  /** Image (default rancher/k3s:v1.32.1-k3s1). */
  image?: string;
  /** How long to wait for the kubeconfig, in ms (default 120,000). */
  timeoutMs?: number;
  run?: CommandRunner;
  /** Sleep between readiness checks (default: the wall clock). */
  sleep?: (ms: number) => Promise<void>;
}

export const K3S_IMAGE = "rancher/k3s:v1.32.1-k3s1";
const K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";

export function k3sRunArgs(name: string, image: string = K3S_IMAGE): string[] {
  return [
    "run",
    "--detach",
    "--privileged",
    "--name",
    name,
    "--publish",
    "127.0.0.1::6443",
    image,
    "server",
    "--disable=traefik",
    "--disable=metrics-server",
    "--tls-san=127.0.0.1",
  ];
}

/** `docker port NAME 6443/tcp` output ("127.0.0.1:49153", maybe several lines) -> the port. */
export function publishedPort(output: string): number | undefined {
  for (const line of output.split("\n")) {
    const m = /:(\d+)\s*$/.exec(line.trim());
    if (m !== null) return Number(m[1]);
  }
  return undefined;
}

/** k3s.yaml -> a kubeconfig object whose clusters point at https://127.0.0.1:PORT. */
export function rewriteK3sKubeconfig(text: string, port: number): Record<string, unknown> {
  const doc = parseYaml(text) as { clusters?: Array<{ cluster?: { server?: string } }> } | null;
  if (doc === null || typeof doc !== "object" || !Array.isArray(doc.clusters))
    throw new GtbError("GTB_PROVIDER_KUBECONFIG", `k3s wrote no usable kubeconfig at ${K3S_KUBECONFIG}`);
  for (const c of doc.clusters) if (c.cluster !== undefined) c.cluster.server = `https://127.0.0.1:${port}`;
  return doc as Record<string, unknown>;
}

export class K3sProvider implements ClusterProvider {
  readonly name = "k3s";
  private readonly run: CommandRunner;

  constructor(private readonly opts: K3sOptions = {}) {
    this.run = opts.run ?? runCommand;
  }

  async start(): Promise<ClusterConnection> {
    await requireDocker(this.name, this.run);
    const name = this.opts.name ?? "gitops-testbed-k3s";
    await mustRun(this.run, "docker", k3sRunArgs(name, this.opts.image));
    const close = async () => {
      await mustRun(this.run, "docker", ["rm", "--force", "--volumes", name]);
    };
    try {
      const port = publishedPort(await mustRun(this.run, "docker", ["port", name, "6443/tcp"]));
      if (port === undefined)
        throw new GtbError("GTB_PROVIDER_COMMAND", `container ${name} publishes no port for 6443/tcp`);
      const text = await this.waitForKubeconfig(name);
      let closed = false;
      return {
        kubeconfig: rewriteK3sKubeconfig(text, port),
        close: async () => {
          if (closed) return;
          closed = true;
          await close();
        },
      };
    } catch (e) {
      await close().catch(() => undefined);
      throw e;
    }
  }

  /** k3s writes its kubeconfig once the API server serves: poll for it. */
  private async waitForKubeconfig(name: string): Promise<string> {
    const timeout = this.opts.timeoutMs ?? 120_000;
    const sleep = this.opts.sleep ?? ((ms: number) => new RealClock().sleep(ms));
    let last = "";
    for (let waited = 0; waited <= timeout; waited += 1000) {
      const r = await this.run("docker", ["exec", name, "cat", K3S_KUBECONFIG]);
      if (r.code === 0 && r.stdout.includes("clusters:")) return r.stdout;
      last = r.stderr.trim();
      await sleep(1000);
    }
    throw new GtbError(
      "GTB_PROVIDER_TIMEOUT",
      `k3s in container ${name} wrote no kubeconfig within ${timeout / 1000} s${last === "" ? "" : `: ${last}`}`,
      { hint: `see \`docker logs ${name}\`` },
    );
  }
}
