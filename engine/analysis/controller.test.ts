/**
 * The AnalysisRun controller against the embedded API server in virtual time
 * with a provider that takes time on the same clock (a slow Prometheus): no
 * deadlock, measurements start when the query goes out and finish when it
 * returns, the next is due an interval after that, and a query past the metric's
 * timeout is an Error measurement (5 in a row fail the run, as upstream).
 */
import { strictManager } from "../rollouts/test-fixtures.ts";
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { advance } from "../../test/rollouts/harness.ts";
import type { Clock } from "../core/clock.ts";
import type { KubeClient } from "../kube/types.ts";
import { type MetricsProvider, type PrometheusApi, PrometheusProvider } from "./provider.ts";
import type { AnalysisRun, Measurement } from "./types.ts";

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** A Prometheus API that answers `[value]` after `delayMs` of `clock` time (and ignores the timeout). */
function slowApi(clock: Clock, delayMs: number, value = "0.001"): PrometheusApi {
  return {
    async query(_expr, timeMs) {
      await clock.sleep(delayMs);
      return { data: { resultType: "vector", result: [{ metric: {}, value: [timeMs / 1000, value] }] } };
    },
  };
}

const RUN: AnalysisRun = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "AnalysisRun",
  metadata: { name: "slo", namespace: "default" },
  spec: {
    metrics: [
      {
        name: "error-rate",
        interval: "60s",
        count: 3,
        successCondition: "result[0] < 0.01",
        provider: { prometheus: { address: "http://prometheus:9090", query: "q", timeout: 30 } },
      },
    ],
  },
};

async function runWith(
  makeProvider: (clock: VirtualClock) => MetricsProvider,
  forMs: number,
): Promise<{ run: AnalysisRun; t0: number }> {
  const clock = new VirtualClock();
  const cluster = new EmbeddedCluster({ clock, seed: "analysis-controller-test" });
  await cluster.start();
  const client: KubeClient = cluster.adminClient("argo-rollouts");
  const manager = strictManager({
    client,
    clock,
    provider: makeProvider(clock),
  });
  stop = async () => {
    manager.stop();
    await cluster.close();
  };
  await manager.start();
  const t0 = clock.now();
  await client.create(RUN);
  await advance(clock, forMs);
  const run = await client.get<AnalysisRun>({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AnalysisRun",
    namespace: "default",
    name: "slo",
  });
  return { run, t0 };
}

/** [startedAt, finishedAt] of each measurement, in seconds after t0. */
function spans(run: AnalysisRun, t0: number): Array<[number, number, string]> {
  const ms: Measurement[] = run.status?.metricResults?.[0]?.measurements ?? [];
  return ms.map((m) => [
    (Date.parse(m.startedAt ?? "") - t0) / 1000,
    (Date.parse(m.finishedAt ?? "") - t0) / 1000,
    m.phase,
  ]);
}

describe("AnalysisRun controller with a provider that takes time", () => {
  const cases: Array<{
    name: string;
    delayS: number;
    /** Enforce the timeout on the clock in the provider (else only the API could). */
    clockTimeout: boolean;
    phase: string;
    spans: Array<[number, number, string]>;
  }> = [
    {
      name: "20 s queries (under the 30 s timeout) take 20 s each; the next starts 60 s after the last finished",
      delayS: 20,
      clockTimeout: true,
      phase: "Successful",
      spans: [
        [0, 20, "Successful"],
        [80, 100, "Successful"],
        [160, 180, "Successful"],
      ],
    },
    {
      name: "45 s queries time out at 30 s: Error measurements retried 10 s later, the 5th in a row fails the run",
      delayS: 45,
      clockTimeout: true,
      phase: "Error",
      spans: [
        [0, 30, "Error"],
        [40, 70, "Error"],
        [80, 110, "Error"],
        [120, 150, "Error"],
        [160, 190, "Error"],
      ],
    },
    {
      name: "without a clock deadline the provider waits for the API: a 45 s query is a late success",
      delayS: 45,
      clockTimeout: false,
      phase: "Successful",
      spans: [
        [0, 45, "Successful"],
        [105, 150, "Successful"],
        [210, 255, "Successful"],
      ],
    },
  ];

  it.each(cases)("$name", async (c) => {
    const { run, t0 } = await runWith(
      (clock) =>
        new PrometheusProvider({
          apiFor: () => slowApi(clock, c.delayS * 1000),
          ...(c.clockTimeout ? { clock } : {}),
        }),
      10 * 60_000,
    );
    expect(run.status?.phase).toBe(c.phase);
    expect(spans(run, t0)).toEqual(c.spans);
    if (c.phase === "Error") {
      const last = run.status?.metricResults?.[0]?.measurements?.at(-1);
      expect(last?.message).toBe('Post "http://prometheus:9090/api/v1/query": context deadline exceeded');
      expect(run.status?.message).toMatch(
        /^Metric "error-rate" assessed Error due to consecutiveErrors \(5\) > consecutiveErrorLimit \(4\)/,
      );
    }
  });
});
