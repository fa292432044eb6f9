/**
 * engine/notify: Argo CD notifications (triggers on-sync-succeeded, on-sync-failed, on-sync-running,
 * on-sync-status-unknown, on-health-degraded, on-deployed, on-created, on-deleted, on-drift-detected,
 * on-drift-healed), subscriptions by annotation `notifications.argoproj.io/subscribe.<trigger>.slack`,
 * Slack-compatible payloads through the Notifier port (HttpNotifier, MemoryNotifier), retries on the
 * clock, sent state in the `notified.notifications.argoproj.io` annotation. Events: notification.sent/failed.
 */
export { HttpNotifier, MemoryNotifier } from "./adapters.ts";
export { NotificationController, type NotificationControllerOptions } from "./controller.ts";
export type { NotificationFailedEvent, NotificationSentEvent, NotifyEvent } from "./events.ts";
export {
  NOTIFIED_ANNOTATION,
  SUBSCRIBE_PREFIX,
  subscriptions,
  TRIGGERS,
  type TriggerDef,
} from "./triggers.ts";
export type { Notifier, SlackAttachment, SlackMessage } from "./types.ts";
