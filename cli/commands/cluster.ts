/**
 * `gitops-testbed cluster serve [--port N] [--kubeconfig PATH] [--users FILE] [--user NAME]`:
 * the embedded Kubernetes API server over HTTPS on 127.0.0.1 (self-signed CA in the
 * kubeconfig), with the built-in controllers when they are part of the build, on the real
 * clock. Prints the URL when ready; stops cleanly on SIGINT/SIGTERM.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { GtbError } from "../../engine/core/errors.ts";
import { RealClock } from "../../simulator/clock/real.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { type ClusterUser, parseUsersFile, type WritePolicy } from "../../simulator/cluster/policy.ts";

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new GtbError("GTB_BAD_PORT", `invalid port "${raw}"`, {
      path: "--port",
      hint: "use 0-65535 (0 = any free port)",
    });
  return n;
}

function loadUsers(file: string): { users: ClusterUser[]; policy?: WritePolicy } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new GtbError("GTB_CLUSTER_USERS_UNREADABLE", `cannot read users file: ${(e as Error).message}`, {
      file,
      hint: "pass a readable YAML or JSON file: {users: [{name, token, groups?}], policy?: {...}}",
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new GtbError("GTB_CLUSTER_USERS_INVALID", `users file is not valid YAML: ${(e as Error).message}`, {
      file,
      hint: "fix the YAML syntax",
    });
  }
  return parseUsersFile(doc, file);
}

export function register(program: Command): void {
  const cmd = program.command("cluster").description("the embedded Kubernetes API server");
  cmd
    .command("serve")
    .description("serve the embedded Kubernetes API over HTTPS on 127.0.0.1; stops on SIGINT/SIGTERM")
    .option("--port <n>", "port (0 = any free port)", "6443")
    .option(
      "--kubeconfig <path>",
      "where to write a kubeconfig for kubectl and client-node",
      ".gitops-testbed/kubeconfig",
    )
    .option(
      "--users <file>",
      "users and write policy: {users: [{name, token, groups?}], policy?: {rules, default?}}",
    )
    .option("--user <name>", "user the kubeconfig authenticates as (default: the first user)")
    .action(async (o: { port: string; kubeconfig: string; users?: string; user?: string }) => {
      const port = parsePort(o.port);
      const loaded = o.users === undefined ? undefined : loadUsers(o.users);
      if (o.user !== undefined && loaded !== undefined && !loaded.users.some((u) => u.name === o.user))
        throw new GtbError("GTB_CLUSTER_UNKNOWN_USER", `no user named "${o.user}" in ${o.users}`, {
          path: "--user",
          hint: `use one of: ${loaded.users.map((u) => u.name).join(", ")}`,
        });
      const clock = new RealClock();
      const cluster = new EmbeddedCluster({
        clock,
        controllers: true,
        ...(loaded === undefined ? {} : { users: loaded.users }),
        ...(loaded?.policy === undefined ? {} : { policy: loaded.policy }),
      });
      let url: string;
      try {
        url = (await cluster.listen({ port })).url;
      } catch (e) {
        await cluster.close();
        clock.dispose();
        const inUse = (e as { code?: string }).code === "EADDRINUSE";
        throw new GtbError(
          inUse ? "GTB_PORT_IN_USE" : "GTB_LISTEN_FAILED",
          `cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`,
          { path: "--port", hint: "pick another --port (0 = any free port)" },
        );
      }
      const kubeconfig = resolve(o.kubeconfig);
      try {
        await cluster.writeKubeconfig(kubeconfig, o.user === undefined ? {} : { user: o.user });
      } catch (e) {
        await cluster.close();
        clock.dispose();
        throw new GtbError("GTB_KUBECONFIG_UNWRITABLE", `cannot write kubeconfig: ${(e as Error).message}`, {
          file: kubeconfig,
          path: "--kubeconfig",
          hint: "pass a --kubeconfig path in a writable directory",
        });
      }
      process.stdout.write(
        `embedded Kubernetes API ready at ${url}\n` +
          `controllers: ${cluster.controllersRunning ? "running" : "not part of this build"}\n` +
          `kubeconfig: ${kubeconfig}\n  export KUBECONFIG=${kubeconfig}\n`,
      );
      await new Promise<void>((done) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void cluster.close().then(() => {
            clock.dispose();
            done();
          });
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      process.stdout.write("embedded Kubernetes API stopped\n");
    });
}
