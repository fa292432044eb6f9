/**
 * Argo Rollouts notifications: the rollout triggers (on-rollout-updated,
 * -step-completed, -paused, -completed, -aborted, on-analysis-run-running,
 * -failed, -error) as Slack-compatible messages, built by pure functions from
 * the typed rollout/analysis events, and delivered through engine/notify's
 * Notifier port with retries on the clock.
 */
import { type Clock, rfc3339 } from "../core/clock.ts";
import type { EventSink } from "../core/events.ts";
import type { AnalysisCompletedEvent, AnalysisEvent, AnalysisMeasurementEvent } from "../analysis/events.ts";
import type { Notifier, SlackAttachment, SlackMessage } from "../notify/types.ts";
import type { RolloutAbortedEvent, RolloutEvent } from "./events.ts";

export type RolloutTrigger =
  | "on-rollout-updated"
  | "on-rollout-step-completed"
  | "on-rollout-paused"
  | "on-rollout-completed"
  | "on-rollout-aborted"
  | "on-analysis-run-running"
  | "on-analysis-run-failed"
  | "on-analysis-run-error";

export const ROLLOUT_TRIGGERS: readonly RolloutTrigger[] = [
  "on-rollout-updated",
  "on-rollout-step-completed",
  "on-rollout-paused",
  "on-rollout-completed",
  "on-rollout-aborted",
  "on-analysis-run-running",
  "on-analysis-run-failed",
  "on-analysis-run-error",
];

/** Colours of upstream's notification catalog (aborted is #E01E5A). */
export const COLORS: Record<RolloutTrigger, string> = {
  "on-rollout-updated": "#0DADEA",
  "on-rollout-step-completed": "#0DADEA",
  "on-rollout-paused": "#f4c030",
  "on-rollout-completed": "#18be52",
  "on-rollout-aborted": "#E01E5A",
  "on-analysis-run-running": "#0DADEA",
  "on-analysis-run-failed": "#E01E5A",
  "on-analysis-run-error": "#E01E5A",
};

/** What the notifier knows about a rollout's current analysis (from analysis events). */
export interface AnalysisSummary {
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** Last value and phase per metric. */
  metrics: Array<{ name: string; value: string | undefined; phase: string }>;
}

function tag(image: string | undefined): string {
  if (image === undefined || image === "") return "-";
  const i = image.lastIndexOf(":");
  return i > image.lastIndexOf("/") ? image.slice(i + 1) : image;
}

/** Go-style duration ("10m0s", "1m30s", "45s"). */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

function field(title: string, value: string, short = true): { title: string; value: string; short: boolean } {
  return { title, value, short };
}

function metricsText(a: AnalysisSummary | undefined): string {
  if (a === undefined || a.metrics.length === 0) return "-";
  return a.metrics.map((m) => `${m.name} = ${m.value ?? "-"} (${m.phase})`).join("\n");
}

function analysisDuration(a: AnalysisSummary | undefined, now: number): string {
  if (a?.startedAt === undefined) return "-";
  return formatDuration((a.finishedAt ?? now) - a.startedAt);
}

/** Build the Slack message of a rollout trigger (pure). */
export function rolloutMessage(
  trigger: RolloutTrigger,
  ev: RolloutEvent,
  analysis: AnalysisSummary | undefined,
  channel: string,
): SlackMessage {
  const who = `${ev.namespace}/${ev.service}`;
  const oldTag = tag(ev.stableImages[0]);
  const newTag = tag(ev.canaryImages[0]);
  const headline: Record<string, string> = {
    "on-rollout-updated": `Rollout ${who} is updating to revision ${ev.revision} (${oldTag} -> ${newTag}).`,
    "on-rollout-step-completed": `Rollout ${who} completed a step${ev.type === "rollout.step" ? ` (${ev.stepIndex + 1}/${ev.steps}: ${ev.step})` : ""}.`,
    "on-rollout-paused": `Rollout ${who} is paused${ev.type === "rollout.paused" ? ` (${ev.reason})` : ""}.`,
    "on-rollout-completed": `Rollout ${who} completed: ${newTag} is now stable.`,
    "on-rollout-aborted": `Rollout ${who} was aborted: all traffic is back on ${oldTag}.`,
  };
  const fields = [
    field("Service", ev.service),
    field("Revision", String(ev.revision)),
    field("Old image", oldTag),
    field("New image", newTag),
    field("Canary weight", `${ev.weight}%`),
    field("Analysis duration", analysisDuration(analysis, ev.time)),
    field("Metrics evaluated", metricsText(analysis), false),
  ];
  if (ev.type === "rollout.completed" && ev.durationMs !== undefined)
    fields.push(field("Rollout duration", formatDuration(ev.durationMs)));
  if (ev.type === "rollout.aborted") fields.push(field("Abort cause", abortCause(ev), false));
  const attachment: SlackAttachment = {
    title: ev.service,
    color: COLORS[trigger],
    text: headline[trigger] ?? "",
    fields,
  };
  return { channel, text: headline[trigger] ?? trigger, attachments: [attachment] };
}

function abortCause(ev: RolloutAbortedEvent): string {
  if (ev.metric === undefined) return ev.message;
  return `${ev.metric} = ${ev.metricValue ?? "-"}: ${ev.message}`;
}

/** Build the Slack message of an analysis trigger (pure). */
export function analysisMessage(
  trigger: RolloutTrigger,
  ev: AnalysisMeasurementEvent | AnalysisCompletedEvent,
  analysis: AnalysisSummary | undefined,
  channel: string,
): SlackMessage {
  const who = `${ev.namespace}/${ev.run}`;
  const text =
    trigger === "on-analysis-run-running"
      ? `Analysis run ${who} is running.`
      : `Analysis run ${who} ${ev.phase === "Error" ? "errored" : "failed"}${ev.type === "analysis.completed" && ev.message !== "" ? `: ${ev.message}` : ""}.`;
  const fields = [
    field("Service", ev.service ?? "-"),
    field("Revision", ev.revision ?? "-"),
    field("Analysis duration", analysisDuration(analysis, ev.time)),
    field("Metrics evaluated", metricsText(analysis), false),
  ];
  return { channel, text, attachments: [{ title: ev.run, color: COLORS[trigger], text, fields }] };
}

export interface RolloutNotificationsOptions {
  notifier: Notifier;
  clock: Clock;
  /** Slack channel for every message (default "#deployments"). */
  channel?: string;
  /** Triggers to send (default: all). */
  triggers?: readonly RolloutTrigger[];
  maxAttempts?: number;
  retryBaseMs?: number;
  /** Delivery outcome (for the event log / tests). */
  onDelivery?: (msg: SlackMessage, ok: boolean, error?: string) => void;
}

/**
 * An EventSink that turns rollout and analysis events into notifications.
 * Put it beside the event log (e.g. a tee sink) of the RolloutsManager.
 */
export class RolloutNotifications implements EventSink<RolloutEvent | AnalysisEvent> {
  private readonly analyses = new Map<string, AnalysisSummary>();
  private readonly running = new Set<string>();
  private readonly triggers: ReadonlySet<RolloutTrigger>;
  private inFlight = 0;

  constructor(private readonly opts: RolloutNotificationsOptions) {
    this.triggers = new Set(opts.triggers ?? ROLLOUT_TRIGGERS);
  }

  get pending(): number {
    return this.inFlight;
  }

  emit(ev: RolloutEvent | AnalysisEvent): void {
    const channel = this.opts.channel ?? "#deployments";
    switch (ev.type) {
      case "analysis.measurement": {
        const key = `${ev.namespace}/${ev.service ?? ev.run}`;
        let a = this.analyses.get(key);
        if (a === undefined || !this.running.has(ev.run)) {
          a = { startedAt: ev.time, finishedAt: undefined, metrics: [] };
          this.analyses.set(key, a);
        }
        const m = a.metrics.find((x) => x.name === ev.metric);
        if (m === undefined) a.metrics.push({ name: ev.metric, value: ev.value, phase: ev.phase });
        else {
          m.value = ev.value;
          m.phase = ev.phase;
        }
        if (!this.running.has(ev.run)) {
          this.running.add(ev.run);
          this.send("on-analysis-run-running", analysisMessage("on-analysis-run-running", ev, a, channel));
        }
        return;
      }
      case "analysis.completed": {
        const a = this.analyses.get(`${ev.namespace}/${ev.service ?? ev.run}`);
        if (a !== undefined) a.finishedAt = ev.time;
        this.running.delete(ev.run);
        if (ev.phase === "Failed")
          this.send("on-analysis-run-failed", analysisMessage("on-analysis-run-failed", ev, a, channel));
        if (ev.phase === "Error")
          this.send("on-analysis-run-error", analysisMessage("on-analysis-run-error", ev, a, channel));
        return;
      }
      case "rollout.timedout":
        // upstream's notification catalogue has no trigger for it (an abort it causes has one)
        return;
      default: {
        const trigger: RolloutTrigger =
          ev.type === "rollout.updated"
            ? "on-rollout-updated"
            : ev.type === "rollout.step"
              ? "on-rollout-step-completed"
              : ev.type === "rollout.paused"
                ? "on-rollout-paused"
                : ev.type === "rollout.completed"
                  ? "on-rollout-completed"
                  : "on-rollout-aborted";
        const key = `${ev.namespace}/${ev.service}`;
        if (ev.type === "rollout.updated") this.analyses.delete(key);
        this.send(trigger, rolloutMessage(trigger, ev, this.analyses.get(key), channel));
      }
    }
  }

  private send(trigger: RolloutTrigger, msg: SlackMessage): void {
    if (!this.triggers.has(trigger)) return;
    const max = this.opts.maxAttempts ?? 5;
    const base = this.opts.retryBaseMs ?? 1000;
    this.inFlight++;
    const attempt = (n: number) => {
      this.opts.clock.track(this.opts.notifier.send(msg)).then(
        () => {
          this.inFlight--;
          this.opts.onDelivery?.(msg, true);
        },
        (e: unknown) => {
          if (n + 1 >= max) {
            this.inFlight--;
            this.opts.onDelivery?.(
              msg,
              false,
              `${e instanceof Error ? e.message : String(e)} (at ${rfc3339(this.opts.clock.now())})`,
            );
            return;
          }
          this.opts.clock.setTimeout(() => attempt(n + 1), base * 2 ** n);
        },
      );
    };
    attempt(0);
  }
}
