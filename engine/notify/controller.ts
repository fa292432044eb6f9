/**
 * Notification controller: evaluates the trigger catalog on every
 * Application status change (and on drift / deletion events), sends the
 * Slack message to each subscribed channel through the Notifier port with
 * retries on the clock (never blocking reconciliation), and remembers what
 * it sent in the `notified.notifications.argoproj.io` annotation so a
 * restart does not re-send.
 */
import type { AppEvent } from "../apps/events.ts";
import { APP_API_VERSION, APP_KIND, type Application } from "../apps/types.ts";
import type { Clock } from "../core/clock.ts";
import { rfc3339 } from "../core/clock.ts";
import type { EventBase, EventSink } from "../core/events.ts";
import type { KubeClient } from "../kube/types.ts";
import type { NotifyEvent } from "./events.ts";
import { EVENT_TEMPLATES, NOTIFIED_ANNOTATION, subscriptions, TRIGGERS } from "./triggers.ts";
import type { Notifier, SlackMessage } from "./types.ts";

export interface NotificationControllerOptions {
  client: KubeClient;
  clock: Clock;
  notifier: Notifier;
  events: EventSink<EventBase>;
  namespace: string;
  /** Delivery attempts (default 5) and first retry delay (default 1 s, doubling). */
  maxAttempts?: number;
  retryBaseMs?: number;
}

type SentState = Record<string, number>;

function parseState(app: Application): SentState {
  const raw = app.metadata.annotations?.[NOTIFIED_ANNOTATION];
  if (raw === undefined) return {};
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === "object" && v !== null ? (v as SentState) : {};
  } catch {
    return {};
  }
}

/** Channels per trigger (in TRIGGERS' order) by frozen annotations object (status writes keep it). */
const SUBSCRIBED = new WeakMap<object, ReadonlyArray<readonly string[]>>();
const UNSUBSCRIBED: ReadonlyArray<readonly string[]> = TRIGGERS.map(() => []);

/** The channels each status trigger of the catalog notifies for an Application. */
function subscribedChannels(app: Application): ReadonlyArray<readonly string[]> {
  const a = app.metadata.annotations;
  if (a === undefined) return UNSUBSCRIBED;
  let channels = SUBSCRIBED.get(a);
  if (channels === undefined) {
    channels = TRIGGERS.map((t) => subscriptions(app, t.name));
    if (Object.isFrozen(a)) SUBSCRIBED.set(a, channels);
  }
  return channels;
}

export class NotificationController {
  private readonly state = new Map<string, SentState>();
  private readonly apps = new Map<string, Application>();
  /** Deliveries in flight (tests and shutdown wait for them). */
  private inFlight = 0;

  constructor(private readonly opts: NotificationControllerOptions) {}

  get pending(): number {
    return this.inFlight;
  }

  /** Evaluate status-based triggers for an Application. */
  onApp(app: Application): void {
    const name = app.metadata.name ?? "";
    this.apps.set(name, app);
    let st = this.state.get(name);
    if (st === undefined) {
      st = parseState(app);
      this.state.set(name, st);
    }
    let changed = false;
    const subscribed = subscribedChannels(app);
    for (let i = 0; i < TRIGGERS.length; i++) {
      const t = TRIGGERS[i]!;
      const channels = subscribed[i]!;
      if (channels.length === 0) continue;
      const once = t.oncePer?.(app) ?? "";
      const fired = t.when(app);
      for (const channel of channels) {
        const key = `${t.name}:${once}:slack:${channel}`;
        if (!fired) {
          if (t.oncePer === undefined && key in st) {
            delete st[key];
            changed = true;
          }
          continue;
        }
        if (key in st) continue;
        st[key] = Math.floor(this.opts.clock.now() / 1000);
        changed = true;
        this.deliver(app, t.name, channel, t.template(app));
      }
    }
    if (changed) this.persist(name, st);
  }

  /** Event-driven triggers: on-drift-detected, on-drift-healed. */
  onEvent(e: AppEvent): void {
    if (e.type !== "drift.detected" && e.type !== "drift.healed") return;
    const app = this.apps.get(e.app);
    if (app === undefined) return;
    const trigger = e.type === "drift.detected" ? "on-drift-detected" : "on-drift-healed";
    const r = e.resource;
    const detail =
      e.type === "drift.detected"
        ? `${r.kind}/${r.name} ${e.changes.map((c) => c.path).join(", ")}${e.identity !== undefined ? ` by ${e.identity}` : ""}`
        : `${r.kind}/${r.name}`;
    for (const channel of subscriptions(app, trigger)) {
      this.deliver(app, trigger, channel, EVENT_TEMPLATES[trigger]!(app, detail));
    }
  }

  onDeleted(app: Application): void {
    const name = app.metadata.name ?? "";
    for (const channel of subscriptions(app, "on-deleted")) {
      this.deliver(app, "on-deleted", channel, EVENT_TEMPLATES["on-deleted"]!(app, ""));
    }
    this.apps.delete(name);
    this.state.delete(name);
  }

  private message(
    app: Application,
    channel: string,
    t: { text: string; color: string; title: string },
  ): SlackMessage {
    const src = app.spec.source ?? app.spec.sources?.[0];
    const fields: Array<{ title: string; value: string; short: boolean }> = [
      { title: "Sync Status", value: app.status?.sync?.status ?? "Unknown", short: true },
      { title: "Health Status", value: app.status?.health?.status ?? "Unknown", short: true },
    ];
    if (src !== undefined) fields.push({ title: "Repository", value: src.repoURL, short: true });
    const rev = app.status?.sync?.revision;
    if (rev !== undefined) fields.push({ title: "Revision", value: rev, short: true });
    return {
      channel,
      text: t.text,
      attachments: [
        { title: t.title, title_link: `/applications/${app.metadata.name ?? ""}`, color: t.color, fields },
      ],
    };
  }

  private deliver(
    app: Application,
    trigger: string,
    channel: string,
    t: { text: string; color: string; title: string },
  ): void {
    const msg = this.message(app, channel, t);
    const name = app.metadata.name ?? "";
    const max = this.opts.maxAttempts ?? 5;
    const base = this.opts.retryBaseMs ?? 1000;
    this.inFlight++;
    const attempt = (n: number): void => {
      this.opts.clock
        .track(this.opts.notifier.send(msg))
        .then(() => {
          this.inFlight--;
          this.emit({
            type: "notification.sent",
            time: this.opts.clock.now(),
            app: name,
            trigger,
            channel,
            attempts: n,
          });
        })
        .catch((e: unknown) => {
          const final = n >= max;
          this.emit({
            type: "notification.failed",
            time: this.opts.clock.now(),
            app: name,
            trigger,
            channel,
            attempts: n,
            error: e instanceof Error ? e.message : String(e),
            final,
          });
          if (final) this.inFlight--;
          else this.opts.clock.setTimeout(() => attempt(n + 1), base * 2 ** (n - 1));
        });
    };
    attempt(1);
  }

  private persist(name: string, st: SentState): void {
    const value = JSON.stringify(st);
    void this.opts.client
      .patch(
        { apiVersion: APP_API_VERSION, kind: APP_KIND, name, namespace: this.opts.namespace },
        { metadata: { annotations: { [NOTIFIED_ANNOTATION]: value } } },
        "merge",
      )
      .catch(() => undefined);
  }

  private emit(e: NotifyEvent): void {
    this.opts.events.emit(e);
  }

  /** For logs: when a trigger was last recorded as sent for an app. */
  sentAt(app: string, key: string): string | undefined {
    const t = this.state.get(app)?.[key];
    return t === undefined ? undefined : rfc3339(t * 1000);
  }
}
