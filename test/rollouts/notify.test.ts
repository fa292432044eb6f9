/** Rollout notifications: Slack messages from a real abort and promotion in virtual time. */
import { afterEach, describe, expect, it } from "vitest";
import { FunctionProvider } from "../../engine/analysis/provider.ts";
import { MemoryNotifier } from "../../engine/notify/adapters.ts";
import type { SlackMessage } from "../../engine/notify/types.ts";
import { formatDuration, RolloutNotifications } from "../../engine/rollouts/notify.ts";
import { type Harness, fixture, startHarness } from "./harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function fieldsOf(m: SlackMessage): Record<string, string> {
  return Object.fromEntries((m.attachments?.[0]?.fields ?? []).map((f) => [f.title, f.value]));
}

async function run(errorRate: number, minutes: number) {
  const notifier = new MemoryNotifier();
  let clockNow = () => 0;
  const notifications = new RolloutNotifications({
    notifier,
    clock: {
      now: () => clockNow(),
      setTimeout: () => ({ id: 0 }),
      clearTimeout: () => {},
      sleep: async () => {},
      track: (p) => p,
      io: (p) => p,
    },
    channel: "#team-checkout",
  });
  h = await startHarness({
    provider: new FunctionProvider((m) => (m.name === "error-rate" ? [errorRate] : [0.21])),
    objects: [...fixture("analysis-template-slo.yaml"), ...fixture("rollout-canary.yaml")],
    sink: notifications,
  });
  clockNow = () => h!.clock.now();
  await h.advance(60_000);
  await h.setImage("checkout", "registry.example.com/checkout:1.1.0");
  await h.advance(minutes * 60_000);
  return notifier.sent;
}

describe("rollout notifications", () => {
  it("an abort: updated, analysis running/failed, aborted in #E01E5A with the metric and value that caused it", async () => {
    const sent = await run(0.02, 3);
    // the run's failure and the rollout's abort are reported by two controllers: either may come first
    expect(
      sent
        .map(
          (m) => /(is updating|completed a step|is paused|is running|failed|was aborted)/.exec(m.text)?.[1],
        )
        .sort(),
    ).toEqual(["is updating", "completed a step", "is paused", "is running", "failed", "was aborted"].sort());
    const aborted = sent.find((m) => m.text.includes("was aborted"))!;
    expect(aborted.channel).toBe("#team-checkout");
    expect(aborted.attachments![0]!.color).toBe("#E01E5A");
    expect(fieldsOf(aborted)).toMatchObject({
      Service: "checkout",
      "Old image": "1.0.0",
      "New image": "1.1.0",
      "Canary weight": "5%",
      "Analysis duration": "0s",
      "Metrics evaluated": "error-rate = [0.02] (Failed)\np99-latency = [0.21] (Successful)",
      "Abort cause":
        'error-rate = [0.02]: Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
    });
  });

  it("a promotion: completed message with analysis duration and metrics", async () => {
    const sent = await run(0.001, 20);
    const done = sent.find((m) => m.text.includes("completed: 1.1.0 is now stable"))!;
    expect(done.attachments![0]!.color).toBe("#18be52");
    const f = fieldsOf(done);
    expect([f["Old image"], f["New image"], f["Canary weight"]]).toEqual(["1.0.0", "1.1.0", "100%"]);
    expect(f["Metrics evaluated"]).toBe(
      "error-rate = [0.001] (Successful)\np99-latency = [0.21] (Successful)",
    );
    expect(f["Analysis duration"]).toMatch(/^1[34]m\d+s$/);
    expect(sent.filter((m) => m.text.includes("completed a step"))).toHaveLength(6);
  });

  it("formats durations like Go", () => {
    expect([formatDuration(600_000), formatDuration(90_000), formatDuration(3_725_000)]).toEqual([
      "10m0s",
      "1m30s",
      "1h2m5s",
    ]);
  });
});
