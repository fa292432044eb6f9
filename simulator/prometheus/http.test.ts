import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.ts";
import { buildPrometheusApp, parseApiDuration, parseApiTime, startPrometheusServer } from "./http.ts";
import { MockPrometheus } from "./mock.ts";
import { parseSeriesFile } from "./series-file.ts";

const FILE = parseSeriesFile(
  "interval: 15s\ninput_series:\n  - series: 'req{code=\"200\"}'\n    values: '0+15x20'\n  - series: 'req{code=\"500\"}'\n    values: '0+3x20'\n  - series: 'zero'\n    values: '0x20'\n",
  "inline",
);

describe("Prometheus HTTP API", () => {
  const clock = new VirtualClock(60_000);
  const prom = new MockPrometheus({ clock });
  prom.loadSeries(FILE);
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildPrometheusApp(prom);
  });
  afterAll(() => app.close());

  it("GET /api/v1/query returns the success envelope with string values", async () => {
    const res = await app.inject({ method: "GET", url: "/api/v1/query?query=req&time=30" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: "success",
      data: {
        resultType: "vector",
        result: [
          { metric: { __name__: "req", code: "200" }, value: [30, "30"] },
          { metric: { __name__: "req", code: "500" }, value: [30, "6"] },
        ],
      },
    });
  });

  it("POST form-encoded, default time from the clock, NaN as a string", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/query",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "query=sum(rate(zero%5B1m%5D))%2Fsum(rate(zero%5B1m%5D))",
    });
    expect(res.json()).toEqual({
      status: "success",
      data: { resultType: "vector", result: [{ metric: {}, value: [60, "NaN"] }] },
    });
  });

  it("scalars, +Inf and RFC 3339 times", async () => {
    const res = await app.inject({ url: "/api/v1/query?query=1%2F0&time=1970-01-01T00:01:30Z" });
    expect(res.json().data).toEqual({ resultType: "scalar", result: [90, "+Inf"] });
  });

  it("query_range with a duration step", async () => {
    const res = await app.inject({
      url: '/api/v1/query_range?query=req{code="500"}&start=0&end=30&step=15s',
    });
    expect(res.json().data).toEqual({
      resultType: "matrix",
      result: [
        {
          metric: { __name__: "req", code: "500" },
          values: [
            [0, "0"],
            [15, "3"],
            [30, "6"],
          ],
        },
      ],
    });
  });

  it.each([
    ["/api/v1/query?query=sum(", 400, "bad_data", /invalid parameter "query": 1:\d+: parse error/],
    [
      "/api/v1/query?query=req&time=yesterday",
      400,
      "bad_data",
      /invalid parameter "time": cannot parse "yesterday"/,
    ],
    ["/api/v1/query_range?query=req&start=0&end=100000&step=1", 400, "bad_data", /11,000 points/],
    [
      "/api/v1/query_range?query=req&start=10&end=0&step=1",
      400,
      "bad_data",
      /end timestamp must not be before start/,
    ],
    ["/api/v1/query_range?query=req&start=0&end=10&step=0", 400, "bad_data", /zero or negative/],
    ["/api/v1/query?query=req%2Bon()req", 422, "execution", /many-to-many/],
    ["/api/v1/series", 400, "bad_data", /no match\[\] parameter provided/],
  ])("%s -> %d %s", async (url, code, type, re) => {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(code);
    const body = res.json();
    expect(body.status).toBe("error");
    expect(body.errorType).toBe(type);
    expect(body.error).toMatch(re);
  });

  it("series, labels and label values", async () => {
    expect((await app.inject({ url: '/api/v1/series?match[]=req{code="200"}' })).json()).toEqual({
      status: "success",
      data: [{ __name__: "req", code: "200" }],
    });
    expect((await app.inject({ url: "/api/v1/labels" })).json().data).toEqual(["__name__", "code"]);
    expect((await app.inject({ url: "/api/v1/label/code/values" })).json().data).toEqual(["200", "500"]);
    expect((await app.inject({ url: "/api/v1/label/__name__/values" })).json().data).toEqual(["req", "zero"]);
  });

  it("unavailable fault: 503 and not ready", async () => {
    prom.setFault({ kind: "unavailable" });
    try {
      const res = await app.inject({ url: "/api/v1/query?query=req" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: "error", errorType: "unavailable" });
      expect((await app.inject({ url: "/-/ready" })).statusCode).toBe(503);
    } finally {
      prom.clearFault();
    }
    const ready = await app.inject({ url: "/-/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.body).toBe("Prometheus Server is Ready.\n");
    expect((await app.inject({ url: "/-/healthy" })).body).toBe("Prometheus Server is Healthy.\n");
  });

  it("timeout -> 503 timeout", async () => {
    prom.setFault({ kind: "slow", delayMs: 10_000 });
    try {
      const pending = app.inject({ url: "/api/v1/query?query=req&timeout=2s" });
      await clock.runFor(2000);
      const res = await pending;
      expect(res.statusCode).toBe(503);
      expect(res.json().errorType).toBe("timeout");
    } finally {
      prom.clearFault();
    }
  });
});

describe("API parameter parsing", () => {
  it.each([
    ["1.5", 1500],
    ["1700000000.123", 1_700_000_000_123],
    ["2026-01-05T00:00:00Z", Date.UTC(2026, 0, 5)],
    ["2026-01-05T01:00:00.5+01:00", Date.UTC(2026, 0, 5) + 500],
    ["nope", undefined],
  ])("time %s", (s, want) => {
    expect(parseApiTime(s)).toBe(want);
  });
  it.each([
    ["15", 15_000],
    ["0.5", 500],
    ["1m30s", 90_000],
    ["1.5m", undefined],
  ])("duration %s", (s, want) => {
    expect(parseApiDuration(s)).toBe(want);
  });
});

describe("Prometheus server on a socket", () => {
  it("binds 127.0.0.1 and serves the API", async () => {
    const prom = new MockPrometheus();
    prom.loadSeries(FILE);
    const srv = await startPrometheusServer(prom, 0);
    try {
      expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${srv.url}/api/v1/query?query=count(req)&time=15`);
      expect(await res.json()).toEqual({
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [15, "2"] }] },
      });
    } finally {
      await srv.close();
    }
  });
});
