/**
 * The GitOps engine facade: an Argo CD-style Application controller with
 * notifications, usable against any KubeClient (in-process in virtual time,
 * or HTTP against a real or embedded API server).
 *
 *   const engine = createEngine({ client, clock, rng, events, source, renderers?, namespace?,
 *                                 notifier?, auditLookup?, pollIntervalMs?, pollJitterMs? });
 *   await engine.start();  ...  engine.deliverPush(payload);  await engine.sync("app");  await engine.stop();
 *
 * The HTTP push webhook is `webhookPlugin` (engine/source/webhook.ts) with `{ target: engine, secret }`.
 */
import { AppController, type AppControllerOptions } from "./apps/controller.ts";
import type { AppEvent } from "./apps/events.ts";
import type { Application } from "./apps/types.ts";
import type { Clock } from "./core/clock.ts";
import type { EventBase, EventSink } from "./core/events.ts";
import type { Rng } from "./core/rng.ts";
import type { HealthRegistry } from "./health/registry.ts";
import type { KubeClient } from "./kube/types.ts";
import { NotificationController } from "./notify/controller.ts";
import type { Notifier } from "./notify/types.ts";
import { createDefaultRenderers, type RendererSet } from "./render/select.ts";
import type { Renderer } from "./render/types.ts";
import { LocalGitSource } from "./source/git.ts";
import type { GitSource } from "./source/types.ts";
import { deliverPush, type PushPayload, type PushTarget } from "./source/webhook.ts";
import type { AuditLookup } from "./apps/audit.ts";
import { withClientGoRetries } from "./kube/retry.ts";

export type { AuditLookup, AuditRecord } from "./apps/audit.ts";
export { AppController } from "./apps/controller.ts";
export type * from "./apps/events.ts";
export type * from "./apps/types.ts";
export {
  type AppChange,
  ClusterCache,
  type ClusterCacheOptions,
  keyOf,
  trackedApp,
} from "./kube/cluster-cache.ts";
export type { NotifyEvent } from "./notify/events.ts";
export { HttpNotifier, MemoryNotifier } from "./notify/adapters.ts";
export type { Notifier, SlackMessage } from "./notify/types.ts";
export { LocalGitSource } from "./source/git.ts";
export type { CommitInfo, GitSource } from "./source/types.ts";
export { type PushPayload, signPayload, webhookPlugin } from "./source/webhook.ts";

export interface EngineOptions {
  client: KubeClient;
  clock: Clock;
  rng: Rng;
  events: EventSink<EventBase>;
  /** Git access (default: LocalGitSource over local paths / file:// URLs). */
  source?: GitSource;
  /** Renderers (default: directory, kustomize, helm binary or `builtinHelm`). */
  renderers?: RendererSet;
  /** The built-in chart renderer used when no helm binary is on PATH (engine/render/helm/). */
  builtinHelm?: Renderer;
  namespace?: string;
  notifier?: Notifier;
  auditLookup?: AuditLookup;
  pollIntervalMs?: number;
  pollJitterMs?: number;
  statusProcessors?: number;
  operationProcessors?: number;
  selfHealBackoff?: AppControllerOptions["selfHealBackoff"];
  health?: HealthRegistry;
  onError?: (e: unknown, context: string) => void;
}

export class Engine implements PushTarget {
  private controllerRef: AppController | undefined;
  private notifications: NotificationController | undefined;
  private readonly ownSource: LocalGitSource | undefined;
  private readonly source: GitSource;

  constructor(private readonly opts: EngineOptions) {
    this.ownSource = opts.source === undefined ? new LocalGitSource({ clock: opts.clock }) : undefined;
    this.source = opts.source ?? this.ownSource!;
  }

  get controller(): AppController {
    if (this.controllerRef === undefined) throw new Error("engine not started");
    return this.controllerRef;
  }

  async start(): Promise<void> {
    if (this.controllerRef !== undefined) return;
    const o = this.opts;
    const renderers =
      o.renderers ??
      (await createDefaultRenderers({
        clock: o.clock,
        rng: o.rng,
        ...(o.builtinHelm !== undefined ? { builtinHelm: o.builtinHelm } : {}),
      }));
    const namespace = o.namespace ?? "argocd";
    // Argo CD talks to the API through client-go, which waits out 429s (and 5xx) carrying Retry-After
    const client = withClientGoRetries(o.client, o.clock);
    const notifications =
      o.notifier !== undefined
        ? new NotificationController({
            client,
            clock: o.clock,
            notifier: o.notifier,
            events: o.events,
            namespace,
          })
        : undefined;
    this.notifications = notifications;
    const events: EventSink<EventBase> =
      notifications === undefined
        ? o.events
        : {
            emit(e: EventBase) {
              o.events.emit(e);
              notifications.onEvent(e as AppEvent);
            },
          };
    const copts: AppControllerOptions = {
      client,
      clock: o.clock,
      rng: o.rng,
      events,
      source: this.source,
      renderers,
      namespace,
    };
    if (o.auditLookup !== undefined) copts.auditLookup = o.auditLookup;
    if (o.pollIntervalMs !== undefined) copts.pollIntervalMs = o.pollIntervalMs;
    if (o.pollJitterMs !== undefined) copts.pollJitterMs = o.pollJitterMs;
    if (o.statusProcessors !== undefined) copts.statusProcessors = o.statusProcessors;
    if (o.operationProcessors !== undefined) copts.operationProcessors = o.operationProcessors;
    if (o.selfHealBackoff !== undefined) copts.selfHealBackoff = o.selfHealBackoff;
    if (o.health !== undefined) copts.health = o.health;
    if (o.onError !== undefined) copts.onError = o.onError;
    if (notifications !== undefined) {
      copts.onStatus = (app: Application) => notifications.onApp(app);
      copts.onDeleted = (app: Application) => notifications.onDeleted(app);
    }
    this.controllerRef = new AppController(copts);
    await this.controllerRef.start();
  }

  async stop(): Promise<void> {
    this.controllerRef?.stop();
    this.controllerRef = undefined;
    await this.ownSource?.close();
  }

  /** PushTarget: refresh the apps a push matches. */
  onPush(push: { repoURLs: string[]; revision: string; touchedHead: boolean }): string[] {
    return this.controller.onPush(push);
  }

  /** Deliver a GitHub push payload in-process (virtual time; no signature needed). */
  deliverPush(payload: PushPayload): string[] {
    return deliverPush(this, payload);
  }

  refresh(app: string, opts: { hard?: boolean } = {}): void {
    this.controller.refresh(app, opts);
  }

  sync(app: string, opts: Parameters<AppController["sync"]>[1] = {}): Promise<void> {
    return this.controller.sync(app, opts);
  }

  rollback(app: string, id: number): Promise<void> {
    return this.controller.rollback(app, id);
  }

  /** Resolves when no reconcile, operation or notification delivery is running. */
  async idle(): Promise<void> {
    await this.controller.idle();
  }

  get pendingNotifications(): number {
    return this.notifications?.pending ?? 0;
  }
}

export function createEngine(opts: EngineOptions): Engine {
  return new Engine(opts);
}
