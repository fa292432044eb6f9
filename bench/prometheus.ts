/**
 * Mock Prometheus latency vs the real Prometheus on the same data: the case study's two SLO
 * queries (error ratio and P99 over 5m, the canary series of one service selected by
 * rollouts_pod_template_hash) against 200 services (counters by code and hash + an 11-bucket
 * histogram, 15 s scrapes). In-process and HTTP p50/p99, memory, and the real `prometheus`
 * (2.42, backfilled with `promtool tsdb create-blocks-from openmetrics`) side by side.
 * BENCH_PROM_HOURS sets the data span (default 1); BENCH_PROM_REAL=0 skips the real server;
 * BENCH_PROM_YOUNG_MB gives the mock server's thread that young generation (V8's
 * maxYoungGenerationSizeMb; default: V8's own), to see how much of the HTTP tail is scavenges.
 * Where the tail comes from: the same client against a trivial node:http server in a thread
 * (the floor: client, loopback, thread wake-ups), and for each request slower than 1 ms whether a
 * GC pause of the server's thread or of the client overlapped it.
 */
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { constants, PerformanceObserver, performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { join } from "node:path";
import { startPrometheusServer } from "../simulator/prometheus/http.ts";
import { MockPrometheus, toData } from "../simulator/prometheus/mock.ts";
import type { Labels } from "../simulator/prometheus/types.ts";
import { percentile, report } from "./report.ts";

const BENCH = "prometheus";
const SERVICES = 200;
const SCRAPE_MS = 15_000;
const LES = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"];
const HASHES = ["stable", "canary"];
const CODES = ["200", "404", "500", "503"];

/** Deterministic xorshift32 (the bench needs no seeded RNG port). */
function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
}

interface Series {
  labels: Labels;
  values: Float64Array;
}

/** Generate all series: cumulative counters and histogram buckets, one sample per scrape. */
function generate(points: number): Series[] {
  const out: Series[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const service = `svc-${String(s).padStart(3, "0")}`;
    const rnd = xorshift(s * 7919 + 13);
    const rps = 1 + rnd() * 200;
    for (const hash of HASHES) {
      const share = hash === "canary" ? 0.1 : 0.9;
      const errRate = hash === "canary" && s % 10 === 0 ? 0.08 : 0.005;
      const mix: Record<string, number> = {
        "200": 1 - errRate - 0.01,
        "404": 0.01,
        "500": errRate * 0.7,
        "503": errRate * 0.3,
      };
      for (const code of CODES) {
        const v = new Float64Array(points);
        let acc = 0;
        for (let i = 0; i < points; i++) {
          acc += Math.round(rps * share * mix[code]! * 15 * (0.8 + 0.4 * rnd()));
          v[i] = acc;
        }
        out.push({
          labels: { __name__: "http_requests_total", service, code, rollouts_pod_template_hash: hash },
          values: v,
        });
      }
      const slow = hash === "canary" && s % 10 === 0 ? 3 : 1;
      const cdf = LES.map((le) => (le === "+Inf" ? 1 : 1 - Math.exp(-Number(le) / (0.08 * slow))));
      const buckets = LES.map(() => new Float64Array(points));
      const counts = LES.map(() => 0);
      for (let i = 0; i < points; i++) {
        const n = Math.round(rps * share * 15 * (0.8 + 0.4 * rnd()));
        for (let b = 0; b < LES.length; b++) {
          counts[b]! += Math.round(n * cdf[b]!);
          buckets[b]![i] = counts[b]!;
        }
      }
      LES.forEach((le, b) => {
        out.push({
          labels: {
            __name__: "http_request_duration_seconds_bucket",
            service,
            rollouts_pod_template_hash: hash,
            le,
          },
          values: buckets[b]!,
        });
      });
    }
  }
  return out;
}

const QUERIES: Record<string, string> = {
  error_ratio:
    'sum(rate(http_requests_total{service="svc-040",rollouts_pod_template_hash="canary",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="svc-040",rollouts_pod_template_hash="canary"}[5m]))',
  p99: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="svc-040",rollouts_pod_template_hash="canary"}[5m])))',
};

function stats(samples: number[]): { p50: number; p99: number } {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** One keep-alive connection per target (the same client for the mock and the real server). */
function getter(base: string): { get: (path: string) => Promise<string>; close: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(`${base}${path}`, { agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
  return { get, close: () => agent.destroy() };
}

interface Latencies {
  lat: number[];
  /** Start of each request (ms since the Unix epoch, sub-ms: performance.timeOrigin based). */
  at: number[];
  first: unknown;
}

async function httpLatency(base: string, q: string, times: number[], n: number): Promise<Latencies> {
  const lat: number[] = [];
  const at: number[] = [];
  let first: unknown;
  const client = getter(base);
  try {
    for (let i = 0; i < n; i++) {
      const t = times[i % times.length]! / 1000;
      const path = `/api/v1/query?query=${encodeURIComponent(q)}&time=${t}`;
      const t0 = performance.now();
      const body = await client.get(path);
      lat.push(performance.now() - t0);
      at.push(performance.timeOrigin + t0);
      if (i === 0) first = (JSON.parse(body) as { data?: { result?: unknown } }).data?.result;
    }
  } finally {
    client.close();
  }
  return { lat, at, first };
}

/** A GC pause: start (ms since the epoch), duration (ms), major (mark-compact) or not. */
type Pause = [number, number, boolean];

/** GC pauses of this thread while recording. */
function gcRecorder(): { take: () => Pause[] } {
  let pauses: Pause[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      pauses.push([
        performance.timeOrigin + e.startTime,
        e.duration,
        kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      ]);
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  return {
    take: () => {
      const out = pauses;
      pauses = [];
      return out;
    },
  };
}

/** Requests slower than 1 ms, and how many of them a GC pause of the server or the client overlapped. */
function tailCauses(r: Latencies, server: Pause[], client: Pause[]): Record<string, number> {
  const overlaps = (pauses: Pause[], a: number, b: number) => pauses.some(([s, d]) => s < b && s + d > a);
  let slow = 0;
  let serverGc = 0;
  let clientGc = 0;
  let neither = 0;
  for (let i = 0; i < r.lat.length; i++) {
    if (r.lat[i]! <= 1) continue;
    slow++;
    const a = r.at[i]!;
    const b = a + r.lat[i]!;
    const sg = overlaps(server, a, b);
    const cg = overlaps(client, a, b);
    if (sg) serverGc++;
    if (cg) clientGc++;
    if (!sg && !cg) neither++;
  }
  const sum = (p: Pause[]) => Number(p.reduce((x, [, d]) => x + d, 0).toFixed(1));
  const majors = (p: Pause[]) => p.filter((x) => x[2]).length;
  return {
    slow,
    slow_with_server_gc: serverGc,
    slow_with_client_gc: clientGc,
    slow_without_gc: neither,
    server_gc_pauses: server.length,
    server_gc_ms: sum(server),
    server_gc_major: majors(server),
    client_gc_pauses: client.length,
    client_gc_ms: sum(client),
    client_gc_major: majors(client),
  };
}

/** Ask a bench thread for its GC pauses since the last ask. */
function threadGc(worker: Worker): Promise<Pause[]> {
  return new Promise((resolve) => {
    worker.once("message", (m: Pause[]) => resolve(m));
    worker.postMessage("gc");
  });
}

function labelText(l: Labels): string {
  const { __name__: name, ...rest } = l;
  return `${name}{${Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;
}

async function realPrometheus(
  series: Series[],
  startMs: number,
  times: number[],
  n: number,
): Promise<Record<string, Latencies> | string> {
  if (
    spawnSync("promtool", ["--version"]).status !== 0 ||
    spawnSync("prometheus", ["--version"]).status !== 0
  ) {
    return "prometheus/promtool not on PATH (apt-get install -y prometheus)";
  }
  const dir = mkdtempSync(join(tmpdir(), "gtb-bench-prom-"));
  try {
    const om = join(dir, "data.om");
    const w = createWriteStream(om);
    const write = (s: string) =>
      new Promise<void>((res) => (w.write(s) ? res() : w.once("drain", () => res())));
    // OpenMetrics wants each family's samples together
    for (const family of ["http_requests_total", "http_request_duration_seconds_bucket"]) {
      for (const s of series) {
        if (s.labels.__name__ !== family) continue;
        const lt = labelText(s.labels);
        let chunk = "";
        for (let i = 0; i < s.values.length; i++)
          chunk += `${lt} ${s.values[i]} ${(startMs + i * SCRAPE_MS) / 1000}\n`;
        await write(chunk);
      }
    }
    await write("# EOF\n");
    await new Promise<void>((res) => w.end(res));
    const t0 = performance.now();
    const bf = spawnSync("promtool", ["tsdb", "create-blocks-from", "openmetrics", om, join(dir, "tsdb")], {
      encoding: "utf8",
    });
    if (bf.status !== 0) return `backfill failed: ${bf.stderr.slice(0, 500)}`;
    report(BENCH, "real_backfill", performance.now() - t0, "ms", { series: series.length });
    rmSync(om);
    writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 15s\n");
    const port = 19_000 + (process.pid % 1000);
    const proc = spawn(
      "prometheus",
      [
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--config.file=${join(dir, "prometheus.yml")}`,
        "--storage.tsdb.retention.time=10y",
      ],
      { stdio: "ignore" },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      let ready = false;
      for (let i = 0; i < 150 && !ready; i++) {
        try {
          ready = (await fetch(`${base}/-/ready`)).status === 200;
        } catch {
          // not listening yet
        }
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      if (!ready) return "real prometheus did not become ready within 30 s";
      const out: Record<string, Latencies> = {};
      for (const [name, q] of Object.entries(QUERIES)) {
        await httpLatency(base, q, times, 500); // warm-up
        out[name] = await httpLatency(base, q, times, n);
      }
      return out;
    } finally {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const WORKER_ROLE = "gtb-bench-mock-prometheus";
const FLOOR_ROLE = "gtb-bench-trivial-server";

/** Load the same data into a MockPrometheus (deterministic generator). */
function buildMock(series: Series[], startMs: number, points: number): MockPrometheus {
  const prom = new MockPrometheus();
  for (const s of series) {
    const stored = prom.store.getOrCreate(s.labels);
    for (let i = 0; i < points; i++) stored.append(startMs + i * SCRAPE_MS, s.values[i]!, false);
  }
  return prom;
}

const role = isMainThread ? undefined : (workerData as { role?: string } | null)?.role;
if (role === WORKER_ROLE || role === FLOOR_ROLE) {
  let url: string;
  if (role === WORKER_ROLE) {
    const { hours, startMs } = workerData as { hours: number; startMs: number };
    const points = Math.round((hours * 3_600_000) / SCRAPE_MS) + 1;
    url = (await startPrometheusServer(buildMock(generate(points), startMs, points), 0)).url;
  } else {
    // the floor: a fixed answer of the same size, no routing, no parsing, no evaluation
    const body = (workerData as { body: string }).body;
    const srv = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(body);
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const addr = srv.address();
    url = `http://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}`;
  }
  const gc = gcRecorder();
  parentPort!.on("message", () => parentPort!.postMessage(gc.take()));
  parentPort!.postMessage(url);
}

/** Start a bench server thread; resolves with its URL. */
async function serverThread(
  data: Record<string, unknown>,
  limits: { maxYoungGenerationSizeMb?: number } = {},
): Promise<{ worker: Worker; url: string }> {
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: data, resourceLimits: limits });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once("message", (m: string) => resolve(m));
    worker.once("error", reject);
  });
  return { worker, url };
}

export async function run(): Promise<void> {
  const hours = Number(process.env.BENCH_PROM_HOURS ?? "1");
  const points = Math.round((hours * 3_600_000) / SCRAPE_MS) + 1;
  // recent data so the real server's retention keeps it; aligned to the scrape interval
  const startMs = Math.floor((Date.now() - hours * 3_600_000 - 600_000) / SCRAPE_MS) * SCRAPE_MS;
  const series = generate(points);
  global.gc?.();
  const before = process.memoryUsage();
  const prom = buildMock(series, startMs, points);
  global.gc?.();
  const after = process.memoryUsage();
  const samples = series.length * points;
  report(BENCH, "store_series", series.length, "series", { hours, samples });
  report(
    BENCH,
    "store_memory",
    (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1e6,
    "MB",
    {
      bytes_per_sample: Number(
        ((after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / samples).toFixed(1),
      ),
      note: "heapUsed + arrayBuffers delta",
    },
  );
  const endMs = startMs + (points - 1) * SCRAPE_MS;
  const times: number[] = [];
  for (let t = startMs + 600_000; t <= endMs; t += SCRAPE_MS) times.push(t);

  const inProc: Record<string, { p50: number; p99: number }> = {};
  for (const [name, q] of Object.entries(QUERIES)) {
    for (let i = 0; i < 2000; i++) prom.evaluate(q, times[i % times.length]!);
    const lat: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const t = times[i % times.length]!;
      const t0 = performance.now();
      prom.evaluate(q, t);
      lat.push(performance.now() - t0);
    }
    inProc[name] = stats(lat);
    report(BENCH, `inproc_${name}_p50`, inProc[name].p50, "ms", { target: "<= 0.1 ms" });
    report(BENCH, `inproc_${name}_p99`, inProc[name].p99, "ms");
  }

  const N = 2000;
  const clientGc = gcRecorder();
  /** Warm up, then N requests, their tail's causes and each event loop's active (wall) time per request. */
  const measured = async (worker: Worker, url: string, q: string) => {
    await httpLatency(url, q, times, 500);
    await threadGc(worker);
    clientGc.take();
    const server0 = worker.performance.eventLoopUtilization();
    const client0 = performance.eventLoopUtilization();
    const r = await httpLatency(url, q, times, N);
    const serverBusy = worker.performance.eventLoopUtilization(server0).active;
    const clientBusy = performance.eventLoopUtilization(client0).active;
    const causes = tailCauses(r, await threadGc(worker), clientGc.take());
    const busy = {
      server_loop_active_us_per_request: Number(((serverBusy * 1000) / N).toFixed(1)),
      client_loop_active_us_per_request: Number(((clientBusy * 1000) / N).toFixed(1)),
    };
    return { r, s: stats(r.lat), extra: { ...busy, ...causes } };
  };
  // the floor: the same client against a trivial server thread answering the same bytes
  {
    const body = JSON.stringify({
      status: "success",
      data: toData(prom.evaluate(QUERIES.error_ratio!, endMs)),
    });
    const floor = await serverThread({ role: FLOOR_ROLE, body });
    try {
      const { s, extra } = await measured(floor.worker, floor.url, QUERIES.error_ratio!);
      report(BENCH, "http_floor_p50", s.p50, "ms", { note: "same client, trivial node:http server thread" });
      report(BENCH, "http_floor_p99", s.p99, "ms", extra);
    } finally {
      await floor.worker.terminate();
    }
  }
  // the mock server runs in its own thread, like the real server runs in its own process
  const young = Number(process.env.BENCH_PROM_YOUNG_MB ?? "0");
  const { worker, url } = await serverThread(
    { role: WORKER_ROLE, hours, startMs },
    young > 0 ? { maxYoungGenerationSizeMb: young } : {},
  );
  const mockHttp: Record<string, Latencies> = {};
  try {
    for (const [name, q] of Object.entries(QUERIES)) {
      const { r, s, extra } = await measured(worker, url, q);
      mockHttp[name] = r;
      report(BENCH, `http_${name}_p50`, s.p50, "ms");
      report(BENCH, `http_${name}_p99`, s.p99, "ms", { target: "<= 2 ms", ...extra });
    }
  } finally {
    await worker.terminate();
  }

  const real =
    process.env.BENCH_PROM_REAL === "0"
      ? "disabled with BENCH_PROM_REAL=0"
      : await realPrometheus(series, startMs, times, N);
  if (typeof real === "string") {
    report(BENCH, "real_prometheus", Number.NaN, "skipped", { reason: real });
    return;
  }
  for (const [name] of Object.entries(QUERIES)) {
    const r = stats(real[name]!.lat);
    const m = stats(mockHttp[name]!.lat);
    report(BENCH, `real_http_${name}_p50`, r.p50, "ms", {
      mock_http_p50: m.p50,
      mock_inproc_p50: inProc[name]!.p50,
    });
    report(BENCH, `real_http_${name}_p99`, r.p99, "ms", {
      mock_http_p99: m.p99,
      mock_inproc_p99: inProc[name]!.p99,
    });
    report(BENCH, `speedup_http_${name}_p50`, r.p50 / m.p50, "x", { faster: m.p50 < r.p50 });
    const agree = JSON.stringify(real[name]!.first) === JSON.stringify(mockHttp[name]!.first);
    report(BENCH, `same_answer_${name}`, agree ? 1 : 0, "bool", {
      real: real[name]!.first,
      mock: mockHttp[name]!.first,
    });
  }
}
