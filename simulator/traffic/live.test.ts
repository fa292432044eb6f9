import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.ts";
import { LiveMetricsServer } from "./live.ts";
import { TrafficModel } from "./model.ts";

const T0 = Date.UTC(2026, 0, 5);
let server: LiveMetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Parse the text exposition format into "name{labels}" -> value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe("live /metrics", () => {
  it("serves the model's counters and histogram over HTTP, in Prometheus' text format", async () => {
    const clock = new VirtualClock(T0);
    const traffic = new TrafficModel({ clock, seed: 1 });
    traffic.addService({
      namespace: "shop",
      service: "cart",
      baseRps: 200,
      diurnalAmplitude: 0,
      weekendFactor: 1,
    });
    traffic.addService({ namespace: "shop", service: "idle", baseRps: 5 });
    traffic.setVersionBehaviour("cart", "abc123", { errorRatio: 0.05 });
    traffic.deploy("cart", "abc123");
    await clock.runFor(10 * 60_000);
    server = new LiveMetricsServer(traffic, { clock });
    const url = await server.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const res = await fetch(`${url}/metrics?service=cart`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain("# TYPE http_requests_total counter");
    expect(text).toContain("# TYPE http_request_duration_seconds histogram");
    const m = parseExposition(text);
    const key = (code: string) =>
      `http_requests_total{namespace="shop",service="cart",rollouts_pod_template_hash="abc123",code="${code}"}`;
    const ok = m.get(key("200"))!;
    const err = m.get(key("500"))! + (m.get(key("503")) ?? 0);
    expect(ok + err).toBeGreaterThan(0.8 * 200 * 600);
    expect(err / (ok + err)).toBeCloseTo(0.05, 2);
    const count = m.get(
      `http_request_duration_seconds_count{namespace="shop",service="cart",rollouts_pod_template_hash="abc123"}`,
    );
    const inf = m.get(
      `http_request_duration_seconds_bucket{namespace="shop",service="cart",rollouts_pod_template_hash="abc123",le="+Inf"}`,
    );
    expect(count).toBeGreaterThan(0);
    expect(inf).toBe(count);
    expect([...m.keys()].some((k) => k.includes('service="idle"'))).toBe(false);

    // the numbers are the model's latest scrape: the same the mock Prometheus would read
    const [s] = traffic.select([
      { name: "__name__", op: "=", value: "http_requests_total" },
      { name: "service", op: "=", value: "cart" },
      { name: "code", op: "=", value: "200" },
    ]);
    const b = s!.samples(clock.now() - 15_000, clock.now());
    expect(ok).toBe(b.v[b.v.length - 1]);

    // time moves: counters grow
    await clock.runFor(60_000);
    const later = parseExposition(await (await fetch(`${url}/metrics`)).text());
    expect(later.get(key("200"))).toBeGreaterThan(ok);
    expect([...later.keys()].some((k) => k.includes('service="idle"'))).toBe(false); // never deployed
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });
});
