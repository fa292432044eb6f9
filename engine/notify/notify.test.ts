import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import type { Application } from "../apps/types.ts";
import { MemoryEventLog } from "../core/events.ts";
import { MemoryNotifier } from "./adapters.ts";
import { NotificationController } from "./controller.ts";
import type { NotifyEvent } from "./events.ts";
import { NOTIFIED_ANNOTATION } from "./triggers.ts";

async function setup() {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock });
  const client = cluster.adminClient();
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "argocd" } });
  const app: Application = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name: "web",
      namespace: "argocd",
      annotations: {
        "notifications.argoproj.io/subscribe.on-sync-succeeded.slack": "ops",
        "notifications.argoproj.io/subscribe.on-deployed.slack": "deploys",
        "notifications.argoproj.io/subscribe.on-health-degraded.slack": "alerts",
      },
    },
    spec: {
      source: { repoURL: "file:///r", path: "web" },
      destination: { server: "https://kubernetes.default.svc" },
    },
  };
  await client.create(app);
  const notifier = new MemoryNotifier();
  const events = new MemoryEventLog<NotifyEvent>();
  const make = () => new NotificationController({ client, clock, notifier, events, namespace: "argocd" });
  return { clock, client, app, notifier, events, make };
}

function withStatus(
  app: Application,
  phase: string,
  health: string,
  revision: string,
  startedAt = "2026-01-05T00:00:00Z",
): Application {
  return {
    ...app,
    status: {
      sync: { status: "Synced", revision },
      health: { status: health as "Healthy" },
      operationState: {
        operation: { sync: {}, initiatedBy: { automated: true } },
        phase: phase as "Succeeded",
        message: "",
        startedAt,
        syncResult: { revision, resources: [] },
      },
    },
  };
}

describe("notifications", () => {
  it("fires when a condition becomes true; once-per triggers fire once per revision", async () => {
    const { clock, app, notifier, make } = await setup();
    const n = make();
    n.onApp(withStatus(app, "Running", "Progressing", "aaa"));
    n.onApp(withStatus(app, "Succeeded", "Progressing", "aaa"));
    n.onApp(withStatus(app, "Succeeded", "Healthy", "aaa"));
    n.onApp(withStatus(app, "Succeeded", "Healthy", "aaa"));
    await clock.runFor(100);
    expect(notifier.sent.map((m) => m.channel)).toEqual(["ops", "deploys"]);
    // a new sync: Running clears on-sync-succeeded; on-deployed waits for a new revision
    n.onApp(withStatus(app, "Running", "Progressing", "aaa"));
    n.onApp(withStatus(app, "Succeeded", "Healthy", "aaa"));
    n.onApp(withStatus(app, "Succeeded", "Degraded", "bbb"));
    n.onApp(withStatus(app, "Succeeded", "Healthy", "bbb"));
    await clock.runFor(100);
    expect(notifier.sent.map((m) => m.channel)).toEqual(["ops", "deploys", "ops", "alerts", "deploys"]);
    expect(notifier.sent[0]).toMatchObject({
      text: expect.stringContaining("Application web has been successfully synced"),
      attachments: [{ color: "#18be52", title: "web" }],
    });
    expect(notifier.sent[3]?.attachments?.[0]?.color).toBe("#f4c030");
  });

  it("retries failed deliveries with backoff on the clock and records the outcome", async () => {
    const { clock, app, notifier, events, make } = await setup();
    notifier.failNext(2);
    make().onApp(withStatus(app, "Succeeded", "Progressing", "aaa"));
    await clock.runFor(0);
    expect(events.events.map((e) => [e.type, e.attempts, e.time - clock.now()])).toEqual([
      ["notification.failed", 1, 0],
    ]);
    await clock.runFor(999);
    expect(events.events).toHaveLength(1);
    await clock.runFor(1);
    await clock.runFor(2_000);
    expect(events.events.map((e) => [e.type, e.attempts])).toEqual([
      ["notification.failed", 1],
      ["notification.failed", 2],
      ["notification.sent", 3],
    ]);
    expect(notifier.sent).toHaveLength(1);
  });

  it("remembers what it sent in the annotation, so a restart does not re-send", async () => {
    const { clock, client, app, notifier, make } = await setup();
    make().onApp(withStatus(app, "Succeeded", "Healthy", "aaa"));
    await clock.runFor(100);
    expect(notifier.sent).toHaveLength(2);
    const stored = await client.get<Application>({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      name: "web",
      namespace: "argocd",
    });
    expect(
      Object.keys(JSON.parse(stored.metadata.annotations?.[NOTIFIED_ANNOTATION] ?? "{}")).sort(),
    ).toEqual(["on-deployed:aaa:slack:deploys", "on-sync-succeeded::slack:ops"]);
    make().onApp(withStatus(stored, "Succeeded", "Healthy", "aaa"));
    await clock.runFor(100);
    expect(notifier.sent).toHaveLength(2);
  });
});
