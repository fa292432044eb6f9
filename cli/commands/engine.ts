/**
 * `gitops-testbed engine --kubeconfig PATH [--namespace argocd] [--webhook-port N] [--notify-url URL]
 *  [--webhook-secret S]`: runs the Application controller (and notifications) against a cluster with
 * the HTTP client and the real clock until SIGTERM / SIGINT, logging one line per sync, drift and heal.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { auditTrail } from "../../engine/apps/audit-trail.ts";
import { parseDuration } from "../../engine/core/clock.ts";
import { EXIT_BAD_INPUT, GtbError } from "../../engine/core/errors.ts";
import type { EventBase, EventSink } from "../../engine/core/events.ts";
import { createEngine } from "../../engine/index.ts";
import type { HttpKubeClient } from "../../engine/kube/http-client.ts";
import { HttpNotifier } from "../../engine/notify/adapters.ts";
import { webhookPlugin } from "../../engine/source/webhook.ts";
import { ScaledRealClock } from "../../simulator/clock/real.ts";
import { SeededRng } from "../../simulator/clock/rng.ts";

export interface EngineCommandOptions {
  kubeconfig: string;
  context?: string;
  namespace: string;
  webhookPort?: string;
  webhookSecret?: string;
  notifyUrl?: string;
  pollInterval: string;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Run the engine until `stop` resolves. Throws GtbError (exit 2) for bad input or an unreachable cluster. */
export async function runEngine(opts: EngineCommandOptions, stop: Promise<void>): Promise<void> {
  if (!existsSync(opts.kubeconfig)) {
    throw new GtbError("GTB_ENGINE_BAD_KUBECONFIG", `kubeconfig ${opts.kubeconfig} does not exist`, {
      file: opts.kubeconfig,
      hint: "pass --kubeconfig with a kubeconfig file (e.g. from `gitops-testbed cluster serve`)",
    });
  }
  // loaded here, not at the CLI's start: only this command and `rollouts` talk to a cluster over HTTP
  const [{ HttpKubeClient }, { default: Fastify }] = await Promise.all([
    import("../../engine/kube/http-client.ts"),
    import("fastify"),
  ]);
  let client: HttpKubeClient;
  try {
    client = new HttpKubeClient({
      kubeconfig: opts.kubeconfig,
      ...(opts.context !== undefined ? { context: opts.context } : {}),
    });
  } catch (e) {
    throw new GtbError(
      "GTB_ENGINE_BAD_KUBECONFIG",
      `cannot load kubeconfig ${opts.kubeconfig}: ${(e as Error).message}`,
      {
        file: opts.kubeconfig,
        hint: "check the file is a valid kubeconfig (clusters, users, contexts, current-context)",
      },
    );
  }
  try {
    await client.list("argoproj.io/v1alpha1", "Application", { namespace: opts.namespace, limit: 1 });
  } catch (e) {
    throw new GtbError(
      "GTB_ENGINE_CLUSTER_UNREACHABLE",
      `cannot list Applications: ${(e as Error).message}`,
      {
        file: opts.kubeconfig,
        hint: "check the cluster is running and serves the argoproj.io/v1alpha1 Application CRD",
        exitCode: EXIT_BAD_INPUT,
      },
    );
  }
  let pollIntervalMs: number;
  try {
    pollIntervalMs = parseDuration(opts.pollInterval);
  } catch {
    throw new GtbError("GTB_ENGINE_BAD_OPTION", `--poll-interval ${opts.pollInterval} is not a duration`, {
      hint: "use e.g. 120s or 3m",
    });
  }
  const port = opts.webhookPort === undefined ? undefined : Number(opts.webhookPort);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
    throw new GtbError("GTB_ENGINE_BAD_OPTION", `--webhook-port ${opts.webhookPort} is not a port number`);
  }
  if (port !== undefined && (opts.webhookSecret === undefined || opts.webhookSecret === "")) {
    throw new GtbError("GTB_ENGINE_BAD_OPTION", "--webhook-port needs --webhook-secret", {
      hint: "set the same secret as the Git host's webhook; unsigned pushes are refused",
    });
  }
  const clock = new ScaledRealClock(1);
  const events: EventSink<EventBase> = {
    emit(e) {
      for (const line of auditTrail([e])) log(line);
      if (e.type === "sync.started") {
        const s = e as EventBase & { app?: string; revision?: string; trigger?: string };
        log(
          `${new Date(e.time).toISOString()}  ${s.app}  sync started ${String(s.revision).slice(0, 7)} via ${s.trigger}`,
        );
      }
    },
  };
  const engine = createEngine({
    client,
    clock,
    rng: new SeededRng(`engine/${opts.namespace}`),
    events,
    namespace: opts.namespace,
    pollIntervalMs,
    ...(opts.notifyUrl !== undefined ? { notifier: new HttpNotifier(opts.notifyUrl) } : {}),
    onError: (e, ctx) =>
      process.stderr.write(`warning: ${ctx}: ${e instanceof Error ? e.message : String(e)}\n`),
  });
  await engine.start();
  log(`engine watching Applications in namespace ${opts.namespace} as ${client.identity}`);
  const server = port === undefined ? undefined : Fastify();
  if (server !== undefined) {
    await server.register(webhookPlugin, { target: engine, secret: opts.webhookSecret });
    await server.listen({ port, host: "0.0.0.0" });
    const addr = server.server.address();
    log(`webhook listening on :${typeof addr === "object" && addr !== null ? addr.port : port}/api/webhook`);
  }
  try {
    await stop;
  } finally {
    await server?.close();
    await engine.stop();
    clock.dispose();
    log("engine stopped");
  }
}

export function register(program: Command): void {
  program
    .command("engine")
    .description(
      "run the GitOps engine (Application controller, notifications, push webhook) against a cluster",
    )
    .requiredOption("--kubeconfig <path>", "kubeconfig of the cluster")
    .option("--context <name>", "kubeconfig context (default: current-context)")
    .option("--namespace <ns>", "namespace of the Application objects", "argocd")
    .option("--webhook-port <n>", "serve POST /api/webhook (GitHub push) on this port")
    .option("--webhook-secret <s>", "shared secret for X-Hub-Signature-256")
    .option("--notify-url <url>", "Slack-compatible webhook URL for notifications")
    .option("--poll-interval <d>", "Git poll interval (plus 0-60 s jitter)", "120s")
    .action(async (opts: EngineCommandOptions) => {
      const stop = new Promise<void>((resolve) => {
        process.once("SIGTERM", () => resolve());
        process.once("SIGINT", () => resolve());
      });
      await runEngine(opts, stop);
    });
}
