/**
 * Argo CD notification triggers (the upstream catalog) and their Slack
 * templates. A trigger's condition is evaluated on the Application; it fires
 * when the condition becomes true, once per `oncePer` value.
 */
import type { Application } from "../apps/types.ts";
import { memoByText } from "../core/memo.ts";

export interface TriggerDef {
  name: string;
  when(app: Application): boolean;
  /** Fire once per this value (never reset); without it the sent state resets when the condition turns false. */
  oncePer?: (app: Application) => string;
  template: (app: Application) => { text: string; color: string; title: string };
}

const phase = (a: Application) => a.status?.operationState?.phase;
const opRevision = (a: Application) =>
  a.status?.operationState?.syncResult?.revision ?? a.status?.sync?.revision ?? "";
const name = (a: Application) => a.metadata.name ?? "";

export const COLOR_GOOD = "#18be52";
export const COLOR_BAD = "#E96D76";
export const COLOR_RUNNING = "#0DADEA";
export const COLOR_WARN = "#f4c030";

/** The upstream trigger catalog (argo-cd notifications_catalog). */
export const TRIGGERS: TriggerDef[] = [
  {
    name: "on-created",
    when: () => true,
    oncePer: (a) => name(a),
    template: (a) => ({
      title: name(a),
      color: COLOR_GOOD,
      text: `Application ${name(a)} has been created.`,
    }),
  },
  {
    name: "on-deployed",
    when: (a) => phase(a) === "Succeeded" && a.status?.health?.status === "Healthy",
    oncePer: opRevision,
    template: (a) => ({
      title: name(a),
      color: COLOR_GOOD,
      text: `:white_check_mark: Application ${name(a)} is now running new version of deployments manifests.`,
    }),
  },
  {
    name: "on-health-degraded",
    when: (a) => a.status?.health?.status === "Degraded",
    template: (a) => ({
      title: name(a),
      color: COLOR_WARN,
      text: `:exclamation: Application ${name(a)} has degraded.`,
    }),
  },
  {
    name: "on-sync-failed",
    when: (a) => phase(a) === "Failed" || phase(a) === "Error",
    template: (a) => ({
      title: name(a),
      color: COLOR_BAD,
      text: `:exclamation: The sync operation of application ${name(a)} has failed at ${a.status?.operationState?.finishedAt ?? ""} with the following error: ${a.status?.operationState?.message ?? ""}`,
    }),
  },
  {
    name: "on-sync-running",
    when: (a) => phase(a) === "Running",
    template: (a) => ({
      title: name(a),
      color: COLOR_RUNNING,
      text: `The sync operation of application ${name(a)} has started at ${a.status?.operationState?.startedAt ?? ""}.`,
    }),
  },
  {
    name: "on-sync-status-unknown",
    when: (a) => a.status?.sync?.status === "Unknown",
    template: (a) => ({
      title: name(a),
      color: COLOR_BAD,
      text: `Application ${name(a)} sync is 'Unknown'.`,
    }),
  },
  {
    name: "on-sync-succeeded",
    when: (a) => phase(a) === "Succeeded",
    template: (a) => ({
      title: name(a),
      color: COLOR_GOOD,
      text: `:white_check_mark: Application ${name(a)} has been successfully synced at ${a.status?.operationState?.finishedAt ?? ""}.`,
    }),
  },
];

/** Triggers fired from events rather than status (drift, deletion). */
export const EVENT_TEMPLATES: Record<
  string,
  (app: Application, detail: string) => { text: string; color: string; title: string }
> = {
  "on-deleted": (a) => ({
    title: name(a),
    color: COLOR_BAD,
    text: `Application ${name(a)} has been deleted.`,
  }),
  "on-drift-detected": (a, d) => ({
    title: name(a),
    color: COLOR_WARN,
    text: `:warning: Drift detected in application ${name(a)}: ${d}`,
  }),
  "on-drift-healed": (a, d) => ({
    title: name(a),
    color: COLOR_GOOD,
    text: `:white_check_mark: Drift healed in application ${name(a)}: ${d}`,
  }),
};

export const SUBSCRIBE_PREFIX = "notifications.argoproj.io/subscribe.";
export const NOTIFIED_ANNOTATION = "notified.notifications.argoproj.io";

/** Slack channels subscribed to `trigger` (annotation `notifications.argoproj.io/subscribe.<trigger>.slack: a;b`). */
export function subscriptions(app: Application, trigger: string): readonly string[] {
  const v = app.metadata.annotations?.[`${SUBSCRIBE_PREFIX}${trigger}.slack`];
  if (v === undefined) return NONE;
  return channelsOf(v);
}

const NONE: readonly string[] = Object.freeze([]);
/** Channel lists by annotation value (checked on every status write of every app). */
const channelsOf = memoByText(
  (v): readonly string[] =>
    Object.freeze(
      v
        .split(/[;,]/)
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ),
  1000,
);
