import { describe, expect, it } from "vitest";
import { FunctionProvider, type MetricsProvider, PrometheusProvider, bindPromResult } from "./provider.ts";
import { stepAnalysisRun } from "./runner.ts";
import type { AnalysisRunSpec, AnalysisRunStatus, MetricValue } from "./types.ts";
import { validateAnalysisSpec } from "./validate.ts";

const T0 = Date.parse("2026-01-05T00:00:00Z");

/** Drive a run step by step until it completes or `untilMs`; returns status and measurement times. */
async function drive(spec: AnalysisRunSpec, provider: MetricsProvider, untilMs = T0 + 3_600_000) {
  let status: AnalysisRunStatus | undefined;
  let now = T0;
  const times: Array<[string, number, string]> = [];
  for (let i = 0; i < 1000; i++) {
    const r = await stepAnalysisRun(spec, status, now, provider);
    status = r.status;
    for (const t of r.taken) times.push([t.metric, (now - T0) / 1000, t.measurement.phase]);
    if (r.nextAtMs === undefined || r.nextAtMs > untilMs) break;
    now = r.nextAtMs;
  }
  return { status: status!, times };
}

const values = (seq: Array<MetricValue | Error>) => {
  let i = 0;
  return new FunctionProvider(() => {
    const v = seq[Math.min(i++, seq.length - 1)]!;
    if (v instanceof Error) throw v;
    return v;
  });
};

describe("stepAnalysisRun", () => {
  it("schedules initialDelay, interval and count; succeeds when count is reached", async () => {
    const spec: AnalysisRunSpec = {
      metrics: [
        {
          name: "m",
          initialDelay: "30s",
          interval: "1m",
          count: 3,
          successCondition: "result[0] < 1",
          provider: { prometheus: { query: "q" } },
        },
      ],
    };
    const { status, times } = await drive(spec, values([[0.1]]));
    expect(times).toEqual([
      ["m", 30, "Successful"],
      ["m", 90, "Successful"],
      ["m", 150, "Successful"],
    ]);
    expect(status.phase).toBe("Successful");
  });

  it("retries 10 s after an Error and errors the run after 5 consecutive errors", async () => {
    const spec: AnalysisRunSpec = {
      metrics: [
        {
          name: "m",
          interval: "1m",
          successCondition: "result[0] < 1",
          provider: { prometheus: { query: "q" } },
        },
      ],
    };
    const { status, times } = await drive(spec, values([new Error("connection refused")]));
    expect(times.map((t) => t[1])).toEqual([0, 10, 20, 30, 40]);
    expect(status.phase).toBe("Error");
    expect(status.message).toBe(
      'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: connection refused"',
    );
  });

  it("fails at the first failed measurement with the default failureLimit and stops measuring", async () => {
    const spec: AnalysisRunSpec = {
      metrics: [
        {
          name: "error-rate",
          interval: "1m",
          successCondition: "result[0] < 0.005",
          provider: { prometheus: { query: "e" } },
        },
        {
          name: "p99",
          interval: "1m",
          successCondition: "result[0] < 0.5",
          provider: { prometheus: { query: "p" } },
        },
      ],
    };
    const provider = new FunctionProvider((m, t) =>
      m.provider.prometheus!.query === "e" ? [t >= T0 + 120_000 ? 0.02 : 0.001] : [0.2],
    );
    const { status, times } = await drive(spec, provider);
    expect(status.phase).toBe("Failed");
    expect(status.message).toBe('Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)');
    expect(times.filter((t) => t[0] === "error-rate").map((t) => t[1])).toEqual([0, 60, 120]);
    expect(status.metricResults!.find((r) => r.name === "p99")!.phase).toBe("Successful");
  });

  it("dry-run metrics never fail the run; retention keeps the last N", async () => {
    const spec: AnalysisRunSpec = {
      metrics: [
        {
          name: "noisy",
          interval: "1m",
          count: 12,
          successCondition: "result[0] < 0",
          provider: { prometheus: { query: "q" } },
        },
        { name: "ok", interval: "1m", count: 12, provider: { prometheus: { query: "q" } } },
      ],
      dryRun: [{ metricName: "noisy" }],
      measurementRetention: [{ metricName: "ok", limit: 3 }],
    };
    const { status } = await drive(spec, values([[1]]));
    expect(status.phase).toBe("Successful");
    const ok = status.metricResults!.find((r) => r.name === "ok")!;
    expect(ok.measurements).toHaveLength(3);
    expect(status.metricResults!.find((r) => r.name === "noisy")!).toMatchObject({
      phase: "Failed",
      dryRun: true,
    });
    expect(status.dryRunSummary).toMatchObject({ failed: 1 });
  });

  it("substitutes args in queries and count strings", async () => {
    const seen: string[] = [];
    const spec: AnalysisRunSpec = {
      args: [
        { name: "svc", value: "checkout" },
        { name: "n", value: "2" },
      ],
      metrics: [
        {
          name: "m",
          interval: "1m",
          count: "{{args.n}}",
          provider: { prometheus: { query: 'rate(x{service="{{args.svc}}"}[5m])' } },
        },
      ],
    };
    const { status, times } = await drive(
      spec,
      new FunctionProvider((m) => {
        seen.push(m.provider.prometheus!.query);
        return [1];
      }),
    );
    expect(times).toHaveLength(2);
    expect(seen[0]).toBe('rate(x{service="checkout"}[5m])');
    expect(status.phase).toBe("Successful");
  });

  it("an unresolved arg errors the run", async () => {
    const spec: AnalysisRunSpec = {
      metrics: [{ name: "m", provider: { prometheus: { query: "{{args.missing}}" } } }],
    };
    const { status } = await drive(spec, values([[1]]));
    expect(status).toMatchObject({
      phase: "Error",
      message: "Unable to resolve metric arguments: failed to resolve {{args.missing}}",
    });
  });

  it("terminate stops an indefinite run as Successful", async () => {
    const spec: AnalysisRunSpec = {
      metrics: [{ name: "m", interval: "1m", provider: { prometheus: { query: "q" } } }],
    };
    const first = await stepAnalysisRun(spec, undefined, T0, values([[1]]));
    const second = await stepAnalysisRun(
      { ...spec, terminate: true },
      first.status,
      T0 + 5_000,
      values([[1]]),
    );
    expect(second.status).toMatchObject({ phase: "Successful", message: "Run Terminated" });
    expect(second.taken).toHaveLength(0);
  });
});

describe("Prometheus binding and provider errors", () => {
  it("binds scalar, vector, matrix and empty results", () => {
    expect(bindPromResult({ resultType: "scalar", result: [1, "0.5"] })).toBe(0.5);
    expect(bindPromResult({ resultType: "vector", result: [] })).toEqual([]);
    expect(
      bindPromResult({
        resultType: "vector",
        result: [
          { metric: {}, value: [1, "NaN"] },
          { metric: {}, value: [1, "+Inf"] },
        ],
      }),
    ).toEqual([Number.NaN, Number.POSITIVE_INFINITY]);
    expect(
      bindPromResult({
        resultType: "matrix",
        result: [
          {
            metric: {},
            values: [
              [1, "1"],
              [2, "2"],
            ],
          },
          { metric: {}, values: [[1, "3"]] },
        ],
      }),
    ).toEqual([1, 2, 3]);
    expect(() => bindPromResult({ resultType: "string", result: [1, "x"] })).toThrow(
      "Prometheus metric type not supported",
    );
  });

  it("turns API failures into Error measurements", async () => {
    const provider = new PrometheusProvider({
      apiFor: () => ({
        query: async () => {
          throw new Error('Post "http://prom:9090/api/v1/query": connect ECONNREFUSED');
        },
      }),
    });
    const r = await provider.measure({ name: "m", provider: { prometheus: { query: "up" } } }, T0);
    expect(r).toEqual({ ok: false, error: 'Post "http://prom:9090/api/v1/query": connect ECONNREFUSED' });
    const none = new PrometheusProvider({ apiFor: () => undefined });
    expect(await none.measure({ name: "m", provider: { prometheus: { query: "up" } } }, T0)).toEqual({
      ok: false,
      error: "prometheus address is not configured",
    });
  });
});

describe("validateAnalysisSpec", () => {
  const p = { prometheus: { query: "q" } };
  const table: Array<[string, AnalysisRunSpec, string[]]> = [
    ["valid", { metrics: [{ name: "m", interval: "1m", count: 5, failureLimit: 2, provider: p }] }, []],
    ["no metrics", { metrics: [] }, ["spec.metrics: no metrics specified"]],
    [
      "duplicate names",
      {
        metrics: [
          { name: "m", provider: p },
          { name: "m", provider: p },
        ],
      },
      ["spec.metrics[1].name: duplicate name 'm'"],
    ],
    [
      "count < failureLimit",
      { metrics: [{ name: "m", count: 1, failureLimit: 2, provider: p }] },
      ["spec.metrics[0].count: count must be >= failureLimit"],
    ],
    [
      "count < inconclusiveLimit",
      { metrics: [{ name: "m", count: 1, inconclusiveLimit: 2, provider: p }] },
      ["spec.metrics[0].count: count must be >= inconclusiveLimit"],
    ],
    [
      "count < failureLimit + consecutiveSuccessLimit",
      {
        metrics: [
          { name: "m", interval: "1m", count: 3, failureLimit: 2, consecutiveSuccessLimit: 2, provider: p },
        ],
      },
      ["spec.metrics[0].count: count must be >= failureLimit + consecutiveSuccessLimit"],
    ],
    [
      "count > 1 needs interval",
      { metrics: [{ name: "m", count: 2, provider: p }] },
      ["spec.metrics[0].interval: interval must be specified when count > 1"],
    ],
    [
      "both limits disabled",
      { metrics: [{ name: "m", interval: "1m", failureLimit: -1, provider: p }] },
      ["spec.metrics[0].failureLimit: failureLimit and consecutiveSuccessLimit cannot be both disabled"],
    ],
    [
      "no provider",
      { metrics: [{ name: "m", provider: {} }] },
      ["spec.metrics[0].provider: no provider specified"],
    ],
    [
      "two providers",
      { metrics: [{ name: "m", provider: { prometheus: { query: "q" }, web: { url: "x" } } }] },
      ["spec.metrics[0].provider: multiple providers specified"],
    ],
    [
      "bad interval",
      { metrics: [{ name: "m", interval: "5 minutes", provider: p }] },
      ['spec.metrics[0].interval: invalid interval string: invalid duration "5 minutes"'],
    ],
    [
      "malformed condition with position",
      { metrics: [{ name: "m", successCondition: "result[0] <", provider: p }] },
      ["spec.metrics[0].successCondition: invalid expression: unexpected end of expression (1:12)"],
    ],
    [
      "templated count is checked later",
      { metrics: [{ name: "m", interval: "1m", count: "{{args.n}}", provider: p }] },
      [],
    ],
    [
      "dry-run rule matching nothing",
      { metrics: [{ name: "m", provider: p }], dryRun: [{ metricName: "other" }] },
      ["spec.dryRun[0].metricName: dryRun[0]: Rule didn't match any metric name(s)"],
    ],
  ];
  it.each(table)("%s", (_n, spec, want) => {
    expect(validateAnalysisSpec(spec).map((i) => `${i.path}: ${i.message}`)).toEqual(want);
  });
});
