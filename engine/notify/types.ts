/** The Notifier port: delivers one message to one destination (Slack-compatible webhook payloads). */
export interface SlackAttachment {
  title?: string;
  title_link?: string;
  color?: string;
  text?: string;
  fields?: Array<{ title: string; value: string; short: boolean }>;
}

export interface SlackMessage {
  channel: string;
  text: string;
  attachments?: SlackAttachment[];
  blocks?: unknown[];
}

export interface Notifier {
  send(message: SlackMessage): Promise<void>;
}
