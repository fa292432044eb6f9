/** Notifier adapters: HTTP (fetch POST of the Slack payload to a webhook URL) and in-memory. */
import { GtbError } from "../core/errors.ts";
import type { Notifier, SlackMessage } from "./types.ts";

export class HttpNotifier implements Notifier {
  constructor(private readonly url: string) {
    try {
      new URL(url);
    } catch {
      throw new GtbError(
        "GTB_NOTIFY_BAD_URL",
        `notification webhook URL ${JSON.stringify(url)} is not a URL`,
        {
          hint: "pass an http(s) URL such as https://hooks.slack.com/services/...",
        },
      );
    }
  }

  async send(message: SlackMessage): Promise<void> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status} ${res.statusText}`);
  }
}

/** Records messages; `failNext(n)` makes the next n sends throw (delivery-retry tests, fault injection). */
export class MemoryNotifier implements Notifier {
  readonly sent: SlackMessage[] = [];
  private failures = 0;

  failNext(n: number): void {
    this.failures = n;
  }

  async send(message: SlackMessage): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("simulated delivery failure");
    }
    this.sent.push(message);
  }
}
