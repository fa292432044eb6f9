/**
 * EmbeddedCluster: an in-memory Kubernetes API server. Use it in-process
 * (`cluster.client("alice")`, virtual time, no sockets) or serve it over
 * HTTPS to kubectl and client-node (`await cluster.listen()`), or both at
 * once: every client sees the same store.
 *
 * The constructor does no I/O and starts nothing; `start()` starts the
 * built-in controllers when asked for (`controllers: true`), `listen()`
 * opens the socket, `close()` stops everything.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { FastifyInstance } from "fastify";
import { stringify as toYaml } from "yaml";
import type { Clock } from "../../engine/core/clock.ts";
import type { EventSink } from "../../engine/core/events.ts";
import type { KubeClient } from "../../engine/kube/types.ts";
import { ApiServer } from "./api.ts";
import type { AuditWriteEvent } from "./events.ts";
import type { TlsMaterial } from "./http/tls.ts";
import { InProcessClient } from "./inprocess-client.ts";
import { type ClusterUser, MASTERS, type WritePolicy } from "./policy.ts";

export interface EmbeddedClusterOptions {
  clock: Clock;
  /** Run the built-in controllers (Deployment -> ReplicaSet -> Pods ...) once started. */
  controllers?: boolean;
  /** Options handed to the built-in controllers. */
  controllerOptions?: Record<string, unknown>;
  /** Bearer-token users of the HTTP API. */
  users?: ClusterUser[];
  /** Which identities may write where (none = everyone everywhere). */
  policy?: WritePolicy;
  /** Receives "audit.write" events. */
  sink?: EventSink;
  /** Seed for uids and generateName suffixes (default "gitops-testbed"). */
  seed?: string;
  /** Watch history window in events (default 10,000). */
  historySize?: number;
  /** Clock ms between watch BOOKMARKs (default 60,000). */
  bookmarkIntervalMs?: number;
  /** Create namespaces on first use instead of 404 (default false, like a real cluster). */
  autoCreateNamespaces?: boolean;
  /** Audit records kept in memory, oldest dropped first (default 100,000). */
  auditLimit?: number;
  /** Clock ms after its last write that an Event is deleted (kube-apiserver --event-ttl; default 1h; 0: never). */
  eventTtlMs?: number;
}

export interface ListenOptions {
  /** TCP port; 0 (default) = any free port. */
  port?: number;
  /** Interface to bind (default 127.0.0.1: the server is for this machine only). */
  host?: string;
  /** Reuse TLS material (from generateTls()) instead of generating a CA and certificate now. */
  tls?: TlsMaterial;
}

export interface ServeInfo {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  host: string;
  /** PEM of the CA that signed the server certificate (certificate-authority-data in kubeconfigs). */
  caPem: string;
  /** The fastify app (for app.inject() in tests). */
  app: FastifyInstance;
}

/** Name of the user created when no users are configured (group system:masters). */
export const DEFAULT_ADMIN = "admin";

/** The identity the built-in controllers write as. */
export const CONTROLLER_IDENTITY = "system:kube-controller-manager";

interface ControllersModule {
  startBuiltinControllers(client: KubeClient, clock: Clock, opts: Record<string, unknown>): { stop(): void };
}

function isControllersModule(m: unknown): m is ControllersModule {
  return (
    m !== null &&
    typeof m === "object" &&
    typeof (m as Record<string, unknown>).startBuiltinControllers === "function"
  );
}

/** B's controllers module, or undefined while it is not part of the tree. */
async function loadControllers(): Promise<ControllersModule | undefined> {
  const spec = "./controllers/index.ts";
  try {
    const m: unknown = await import(spec);
    return isControllersModule(m) ? m : undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || (e instanceof Error && /Cannot find module/.test(e.message)))
      return undefined;
    throw e;
  }
}

export class EmbeddedCluster {
  readonly api: ApiServer;
  readonly clock: Clock;
  private readonly opts: EmbeddedClusterOptions;
  private users: ClusterUser[];
  private controllers: { stop(): void } | undefined;
  private started = false;
  private closers: Array<() => Promise<void> | void> = [];
  private served: ServeInfo | undefined;

  constructor(opts: EmbeddedClusterOptions) {
    this.opts = opts;
    this.clock = opts.clock;
    this.users = [...(opts.users ?? [])];
    const apiOpts: ConstructorParameters<typeof ApiServer>[0] = { clock: opts.clock };
    if (opts.seed !== undefined) apiOpts.seed = opts.seed;
    if (opts.historySize !== undefined) apiOpts.historySize = opts.historySize;
    if (opts.bookmarkIntervalMs !== undefined) apiOpts.bookmarkIntervalMs = opts.bookmarkIntervalMs;
    if (opts.sink !== undefined) apiOpts.sink = opts.sink;
    if (opts.policy !== undefined) apiOpts.policy = opts.policy;
    if (opts.autoCreateNamespaces !== undefined) apiOpts.autoCreateNamespaces = opts.autoCreateNamespaces;
    if (opts.auditLimit !== undefined) apiOpts.auditLimit = opts.auditLimit;
    if (opts.eventTtlMs !== undefined) apiOpts.eventTtlMs = opts.eventTtlMs;
    this.api = new ApiServer(apiOpts);
  }

  /** An in-process client acting as `identity` (groups from the users list, or `groups`). */
  client(identity: string, groups?: string[]): KubeClient {
    const user = this.users.find((u) => u.name === identity);
    return new InProcessClient(this.api, { user: identity, groups: groups ?? user?.groups ?? [] });
  }

  /** A client in group system:masters (never denied by the write policy). */
  adminClient(identity = "system:admin"): KubeClient {
    return new InProcessClient(this.api, { user: identity, groups: [MASTERS] });
  }

  /**
   * Start the built-in controllers when `controllers: true` and the module
   * (simulator/cluster/controllers) is present. Returns whether they run.
   */
  async start(): Promise<boolean> {
    if (this.started) return this.controllers !== undefined;
    this.started = true;
    if (this.opts.controllers !== true) return false;
    const m = await loadControllers();
    if (m === undefined) return false;
    this.controllers = m.startBuiltinControllers(
      this.adminClient(CONTROLLER_IDENTITY),
      this.clock,
      this.opts.controllerOptions ?? {},
    );
    return true;
  }

  /** Whether the built-in controllers are running. */
  get controllersRunning(): boolean {
    return this.controllers !== undefined;
  }

  /** Audit records of every write (allowed and denied), oldest first. */
  audit(): readonly AuditWriteEvent[] {
    return this.api.auditRecords();
  }

  /** How many writes were audited since the start, including records the log no longer keeps. */
  auditTotal(): number {
    return this.api.auditTotal;
  }

  get policy(): WritePolicy | undefined {
    return this.api.policy;
  }

  /** Replace the write policy at run time (undefined: everyone may write everywhere). */
  setPolicy(policy: WritePolicy | undefined): void {
    this.api.policy = policy;
  }

  /** Users of the HTTP API (bearer tokens). */
  get userList(): readonly ClusterUser[] {
    return this.users;
  }

  addUser(user: ClusterUser): void {
    this.users = [...this.users.filter((u) => u.name !== user.name), user];
  }

  /**
   * Serve the API over HTTPS (self-signed CA generated now). Starts the
   * controllers first when asked for. With no users configured, creates
   * user "admin" (group system:masters) with a random token.
   */
  async listen(opts: ListenOptions = {}): Promise<ServeInfo> {
    if (this.served !== undefined) return this.served;
    await this.start();
    if (this.users.length === 0)
      this.users.push({
        name: DEFAULT_ADMIN,
        token: randomBytes(24).toString("base64url"),
        groups: [MASTERS],
      });
    // the HTTPS server (fastify, node-forge) is loaded by the clusters that serve: a world in
    // virtual time only uses the in-process client
    const [{ buildServer }, { generateTls }] = await Promise.all([
      import("./http/server.ts"),
      import("./http/tls.ts"),
    ]);
    const host = opts.host ?? "127.0.0.1";
    const tls =
      opts.tls ??
      generateTls(
        host === "127.0.0.1" || host === "localhost"
          ? ["127.0.0.1", "localhost"]
          : [host, "127.0.0.1", "localhost"],
      );
    const app = buildServer({
      api: this.api,
      users: () => this.users,
      https: { key: tls.keyPem, cert: tls.certPem },
    });
    await app.listen({ port: opts.port ?? 0, host });
    const addr = app.server.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : (opts.port ?? 0);
    const urlHost = host.includes(":") ? `[${host}]` : host;
    this.served = { url: `https://${urlHost}:${port}`, port, host, caPem: tls.caPem, app };
    this.onClose(async () => {
      this.served = undefined;
      await app.close();
    });
    return this.served;
  }

  /** A kubeconfig (as an object) for `user` against the served URL. */
  kubeconfig(user: string = this.users[0]?.name ?? DEFAULT_ADMIN): Record<string, unknown> {
    const served = this.served;
    if (served === undefined) throw new Error("kubeconfig(): call listen() first");
    const u = this.users.find((x) => x.name === user);
    if (u === undefined) throw new Error(`kubeconfig(): no user named "${user}"`);
    const name = "gitops-testbed";
    return {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name,
          cluster: {
            server: served.url,
            "certificate-authority-data": Buffer.from(served.caPem).toString("base64"),
          },
        },
      ],
      users: [{ name: u.name, user: { token: u.token } }],
      contexts: [
        { name: `${u.name}@${name}`, context: { cluster: name, user: u.name, namespace: "default" } },
      ],
      "current-context": `${u.name}@${name}`,
      preferences: {},
    };
  }

  /** Write a kubeconfig for `user` (mode 0600, parent directories created). */
  async writeKubeconfig(path: string, opts: { user?: string } = {}): Promise<void> {
    const doc = this.kubeconfig(opts.user);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, toYaml(doc), { mode: 0o600 });
  }

  /** Register something to shut down with the cluster (servers register themselves). */
  onClose(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }

  /** Stop controllers and close servers. */
  async close(): Promise<void> {
    this.controllers?.stop();
    this.api.stop();
    this.controllers = undefined;
    const closers = this.closers;
    this.closers = [];
    for (const c of closers.reverse()) await c();
  }
}
