import type { EventBase } from "../core/events.ts";

export interface NotificationSentEvent extends EventBase {
  type: "notification.sent";
  app: string;
  trigger: string;
  channel: string;
  attempts: number;
}

export interface NotificationFailedEvent extends EventBase {
  type: "notification.failed";
  app: string;
  trigger: string;
  channel: string;
  attempts: number;
  error: string;
  /** false while retries remain. */
  final: boolean;
}

export type NotifyEvent = NotificationSentEvent | NotificationFailedEvent;
