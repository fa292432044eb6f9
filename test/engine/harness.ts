/**
 * Test harness for the engine: an embedded cluster, a generated Git repo of
 * Applications, an engine wired to them. Parameterized by adapter: the
 * in-process client in virtual time, or HTTP against the embedded server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditLookup, AuditRecord } from "../../engine/apps/audit.ts";
import type { Clock } from "../../engine/core/clock.ts";
import { HttpKubeClient } from "../../engine/kube/http-client.ts";
import type { AppEvent } from "../../engine/apps/events.ts";
import type { Application } from "../../engine/apps/types.ts";
import type { NotifyEvent } from "../../engine/notify/events.ts";
import { MemoryEventLog } from "../../engine/core/events.ts";
import { createEngine, type Engine } from "../../engine/index.ts";
import type { KubeClient, ObjectRef } from "../../engine/kube/types.ts";
import { MemoryNotifier } from "../../engine/notify/adapters.ts";
import { createHelmRenderer } from "../../engine/render/helm/index.ts";
import { createDirectoryRenderer } from "../../engine/render/directory.ts";
import { createKustomizeRenderer } from "../../engine/render/kustomize.ts";
import { LocalGitSource } from "../../engine/source/git.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { ScaledRealClock } from "../../simulator/clock/real.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { SeededRng } from "../../simulator/clock/rng.ts";
import { GitFixture } from "./git-fixture.ts";

export interface AuditRecordLike {
  identity: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  resourceVersion: string;
  fieldManager: string;
  time: number;
  code: number;
}

/** AuditLookup over the embedded cluster's audit records. */
export function auditLookupOf(records: () => readonly AuditRecordLike[]): AuditLookup {
  return {
    lookup(ref: ObjectRef, resourceVersion: string): AuditRecord | undefined {
      const all = records();
      for (let i = all.length - 1; i >= 0; i--) {
        const r = all[i]!;
        if (
          r.resourceVersion === resourceVersion &&
          r.kind === ref.kind &&
          r.name === ref.name &&
          (r.namespace ?? "") === (ref.namespace ?? "")
        ) {
          return { identity: r.identity, fieldManager: r.fieldManager, time: r.time };
        }
      }
      return undefined;
    },
  };
}

export const cm = (name: string, data: Record<string, string>, extra = "") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join("\n")}\n`;

export const svc = (name: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  selector:\n    app: ${name}\n  ports:\n  - port: 80\n    targetPort: 8080\n`;

export const deploy = (name: string, replicas: number, env: string, image = "nginx:1.27") =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: ${name}\n  template:\n    metadata:\n      labels:\n        app: ${name}\n    spec:\n      containers:\n      - name: app\n        image: ${image}\n        env:\n        - name: LOG_LEVEL\n          value: "${env}"\n`;

export function appManifest(
  name: string,
  repoURL: string,
  path: string,
  opts: {
    selfHeal?: boolean;
    prune?: boolean;
    automated?: boolean;
    namespace?: string;
    extraSpec?: Record<string, unknown>;
    annotations?: Record<string, string>;
  } = {},
): Application {
  const spec: Record<string, unknown> = {
    project: "default",
    source: { repoURL, path, targetRevision: "HEAD" },
    destination: { server: "https://kubernetes.default.svc", namespace: opts.namespace ?? "apps" },
    syncPolicy:
      opts.automated === false
        ? { syncOptions: ["CreateNamespace=true"] }
        : {
            automated: { prune: opts.prune ?? true, selfHeal: opts.selfHeal ?? true },
            syncOptions: ["CreateNamespace=true"],
          },
    ...(opts.extraSpec ?? {}),
  };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name,
      namespace: "argocd",
      ...(opts.annotations !== undefined ? { annotations: opts.annotations } : {}),
    },
    spec,
  } as Application;
}

export interface World {
  clock: Clock;
  transport: Transport;
  cluster: EmbeddedCluster;
  admin: KubeClient;
  user(identity: string): KubeClient;
  engine: Engine;
  events: MemoryEventLog<AppEvent | NotifyEvent>;
  /** Errors the engine reported (watch, status writes, reconciles). */
  errors: string[];
  notifier: MemoryNotifier;
  repo: GitFixture;
  /** Let clock time pass (engine timers, cluster controllers). */
  run(ms: number): Promise<void>;
  /** Let time pass in 500 ms steps until `pred` holds or `maxMs` of clock time passed; returns pred's last value. */
  until(pred: () => Promise<boolean> | boolean, maxMs: number): Promise<boolean>;
  app(name: string): Promise<Application>;
  close(): Promise<void>;
}

export type Transport = "in-process" | "https";

/** Time scale of the real clock in HTTPS mode (clock ms per wall ms). */
export const HTTPS_TIME_SCALE = 20;
export const ENGINE_IDENTITY = "system:serviceaccount:argocd:argocd-application-controller";

export async function makeWorld(
  opts: { pollIntervalMs?: number; transport?: Transport } = {},
): Promise<World> {
  const transport = opts.transport ?? "in-process";
  const virtual = transport === "in-process" ? new VirtualClock() : undefined;
  const real =
    virtual === undefined ? new ScaledRealClock(HTTPS_TIME_SCALE, Date.UTC(2026, 0, 5)) : undefined;
  const clock: Clock = virtual ?? real!;
  const cluster = new EmbeddedCluster({ clock, controllers: true });
  await cluster.start();
  let engineClient: KubeClient = cluster.client(ENGINE_IDENTITY);
  let kcDir: string | undefined;
  if (transport === "https") {
    await cluster.listen();
    cluster.addUser({ name: ENGINE_IDENTITY, token: "engine-test-token", groups: ["system:masters"] });
    kcDir = mkdtempSync(join(tmpdir(), "gtb-kc-"));
    await cluster.writeKubeconfig(join(kcDir, "kubeconfig"), { user: ENGINE_IDENTITY });
    engineClient = new HttpKubeClient({ kubeconfig: join(kcDir, "kubeconfig"), identity: ENGINE_IDENTITY });
  }
  const admin = cluster.adminClient();
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "argocd" } });
  const repo = new GitFixture("gtb-engine-");
  const events = new MemoryEventLog<AppEvent | NotifyEvent>();
  const errors: string[] = [];
  const notifier = new MemoryNotifier();
  const source = new LocalGitSource({ clock });
  const engine = createEngine({
    client: engineClient,
    clock,
    rng: new SeededRng("engine-test"),
    events,
    source,
    renderers: {
      directory: createDirectoryRenderer(),
      kustomize: createKustomizeRenderer({ clock }),
      helm: createHelmRenderer({ clock }),
    },
    notifier,
    auditLookup: auditLookupOf(() => cluster.audit() as unknown as readonly AuditRecordLike[]),
    pollIntervalMs: opts.pollIntervalMs ?? 180_000,
    pollJitterMs: 0,
    onError: (e, ctx) => errors.push(`${ctx}: ${e instanceof Error ? e.message : String(e)}`),
  });
  const world: World = {
    clock,
    cluster,
    admin,
    user: (identity) => cluster.client(identity),
    engine,
    events,
    errors,
    notifier,
    repo,
    transport,
    async run(ms) {
      if (virtual !== undefined) await virtual.runFor(ms);
      else await clock.sleep(ms);
    },
    async until(pred, maxMs) {
      for (let t = 0; t < maxMs; t += 500) {
        if (await pred()) return true;
        await world.run(500);
      }
      return pred();
    },
    async app(name) {
      return admin.get<Application>({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        name,
        namespace: "argocd",
      });
    },
    async close() {
      await engine.stop();
      await source.close();
      await cluster.close();
      real?.dispose();
      repo.remove();
      if (kcDir !== undefined) rmSync(kcDir, { recursive: true, force: true });
    },
  };
  return world;
}
