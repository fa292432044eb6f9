/**
 * The embedded API server's throughput and latency:
 * - in-process writes/s (ConfigMap creates through the in-process KubeClient),
 * - HTTPS writes/s with 16 concurrent keep-alive clients (node:https, JSON bodies) in a child
 *   process, and the server's CPU per write,
 * - watch delivery latency p50/p99 to 50 HTTPS watchers in a child process (write sent by another
 *   child -> event line received; both read the monotonic clock), closed loop (each write sent when
 *   the last is answered: saturation) and paced at 100 writes/s (BENCH_API_WATCH_RATE), each also
 *   against a floor server that does nothing but the fan-out (same TLS, same clients),
 * - resident memory holding ~2,000 objects (200 services x Deployment, ReplicaSet, 5 Pods,
 *   Service, ConfigMap, Rollout).
 * Targets on 2 cores: >= 50,000 in-process writes/s, >= 3,000 HTTPS writes/s, watch p99 <= 10 ms.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { KubeObject } from "../engine/kube/types.ts";
import { VirtualClock } from "../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../simulator/cluster/cluster.ts";
import { generateTls } from "../simulator/cluster/http/tls.ts";
import { percentile, report } from "./report.ts";

const BENCH = "api";
const IN_PROCESS_WRITES = Number(process.env.BENCH_API_INPROC ?? 50_000);
const HTTP_WRITES = Number(process.env.BENCH_API_HTTP ?? 12_000);
const CLIENTS = 16;
const WATCHERS = 50;
const WATCH_WRITES = 300;
const WATCH_PACED_RATE = Number(process.env.BENCH_API_WATCH_RATE ?? 100);
const WATCH_WARMUP = 100;

const cm = (name: string, ns = "default"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels: { app: "bench" } },
  data: { key: "value", other: "x".repeat(64) },
});

async function inProcess(): Promise<void> {
  const cluster = new EmbeddedCluster({ clock: new VirtualClock() });
  const client = cluster.client("bench");
  for (let i = 0; i < 2_000; i++) await client.create(cm(`warm-${i}`));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < IN_PROCESS_WRITES; i++) await client.create(cm(`c-${i}`));
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  report(BENCH, "inprocess_writes_per_s", IN_PROCESS_WRITES / s, "writes/s", {
    target: 50_000,
    writes: IN_PROCESS_WRITES,
    loadavg: loadavg()[0],
  });
  // wall time suffers on a loaded machine; writes per CPU second does much less
  report(BENCH, "inprocess_writes_per_cpu_s", IN_PROCESS_WRITES / cpuS, "writes/s", {
    cpuUsPerWrite: Number(((cpuS * 1e6) / IN_PROCESS_WRITES).toFixed(1)),
  });
  await statusPatches(cluster);
  await cluster.close();
}

const IN_PROCESS_PATCHES = Number(process.env.BENCH_API_PATCHES ?? 20_000);

/** A kubelet-style status merge patch: the whole status, one condition and the container flipping. */
function podStatus(ready: boolean, i: number): Record<string, unknown> {
  const s = ready ? "True" : "False";
  const at = `2026-01-05T00:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`;
  const cond = (type: string, status: string) => ({
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: at,
  });
  return {
    status: {
      phase: "Running",
      conditions: [
        cond("PodReadyToStartContainers", "True"),
        cond("Initialized", "True"),
        cond("Ready", s),
        cond("ContainersReady", s),
        cond("PodScheduled", "True"),
      ],
      hostIP: "10.0.0.11",
      podIP: "10.244.0.7",
      startTime: "2026-01-05T00:00:00Z",
      containerStatuses: [
        { name: "app", image: "registry.example.com/web:1.0.0", ready, restartCount: 0, started: true },
      ],
    },
  };
}

/**
 * Status merge patches to the /status subresource (the writes the simulated
 * kubelet and controllers make most), per CPU second.
 */
async function statusPatches(cluster: EmbeddedCluster): Promise<void> {
  const client = cluster.client("bench");
  const pods = 500;
  for (let i = 0; i < pods; i++)
    await client.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `p-${i}`, namespace: "default", labels: { app: "bench" } },
      spec: { containers: [{ name: "app", image: "registry.example.com/web:1.0.0" }] },
    });
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < IN_PROCESS_PATCHES; i++) {
    const ref = { apiVersion: "v1", kind: "Pod", namespace: "default", name: `p-${i % pods}` };
    const patch = podStatus(Math.floor(i / pods) % 2 === 0, i);
    await client.patch(ref, patch, "merge", { subresource: "status", fieldManager: "kubelet" });
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  report(BENCH, "inprocess_status_patches_per_cpu_s", IN_PROCESS_PATCHES / cpuS, "writes/s", {
    patches: IN_PROCESS_PATCHES,
    cpuUsPerWrite: Number(((cpuS * 1e6) / IN_PROCESS_PATCHES).toFixed(1)),
  });
}

/**
 * The HTTPS clients run in a child process (as kubectl and controllers do), so
 * the figures are the server's: it has this process to itself. Plain
 * JavaScript for `node -e`; configuration in the environment.
 */
const CLIENT_JS = String.raw`
const https = require("node:https");
const { performance } = require("node:perf_hooks");
const c = JSON.parse(process.env.BENCH_API_CHILD);
const url = new URL(c.url);
const agent = new https.Agent({ keepAlive: true, maxSockets: c.clients * 2, ca: c.ca });
const body = (name, extra) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap",
  metadata: { name, namespace: "default", labels: { app: "bench" } },
  data: { key: "value", other: "x".repeat(64), ...extra } });
const post = (name, extra) => new Promise((resolve, reject) => {
  const data = body(name, extra);
  const req = https.request({ agent, host: url.hostname, port: url.port, method: "POST",
    path: "/api/v1/namespaces/default/configmaps",
    headers: { authorization: "Bearer " + c.token, accept: "application/json",
      "content-type": "application/json", "content-length": Buffer.byteLength(data) } }, (res) => {
    res.resume();
    res.on("end", () => resolve(res.statusCode));
  });
  req.on("error", reject);
  req.end(data);
});
async function writes() {
  for (let i = 0; i < 200; i++) await post("warm-" + i);
  let next = 0, failures = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c.clients }, async () => {
    for (let i = next++; i < c.writes; i = next++) if ((await post("h-" + i)) !== 201) failures++;
  }));
  return { seconds: (performance.now() - t0) / 1000, failures };
}
// watchers and the writer are separate processes (as controllers and kubectl are), so a
// latency is the server's delivery, not the writer's event loop busy with 50 streams; the
// writer stamps each object with the monotonic clock, which all processes share
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const SENT_AT = Buffer.from('"sentAt":"');
async function watchers() {
  const latencies = [];
  const expected = c.writes * c.watchers;
  const watchAgent = new https.Agent({ keepAlive: true, maxSockets: c.watchers + 4, ca: c.ca });
  const streams = [];
  let done;
  const all = new Promise((r) => { done = r; });
  await new Promise((allReady) => {
    let ready = 0;
    for (let w = 0; w < c.watchers; w++) {
      const req = https.request({ agent: watchAgent, host: url.hostname, port: url.port,
        path: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1000000000",
        headers: { authorization: "Bearer " + c.token } }, (res) => {
        // lines are scanned as bytes (no UTF-8 decoding, no string per line): a Go client decodes a
        // watch stream in place too, and this process reads 50 streams, so its own cost is kept small
        let carry = null;
        res.on("data", (chunk) => {
          const now = nowMs();
          const buf = carry === null ? chunk : Buffer.concat([carry, chunk]);
          let start = 0;
          let nl = buf.indexOf(10, start);
          while (nl >= 0) {
            const m = buf.indexOf(SENT_AT, start);
            if (m >= 0 && m < nl) {
              const from = m + SENT_AT.length;
              latencies.push(now - Number(buf.toString("latin1", from, buf.indexOf(34, from))));
            }
            start = nl + 1;
            nl = buf.indexOf(10, start);
          }
          carry = start < buf.length ? buf.subarray(start) : null;
          if (latencies.length >= expected) done();
        });
        if (++ready === c.watchers) allReady();
      });
      req.end();
      streams.push(req);
    }
  });
  process.send("ready");
  await Promise.race([all, new Promise((r) => process.once("message", () => setTimeout(r, 2000)))]);
  for (const s of streams) s.destroy();
  watchAgent.destroy();
  return { latencies };
}
async function writer() {
  // warm-up writes (no sentAt: the watchers deliver them but do not time them), so the figures are
  // steady-state ones, as the other parts' are: the first tens of events run through three processes'
  // cold code (the server's write and fan-out, TLS, both clients) and made up most of the tail
  for (let i = 0; i < c.warmup; i++) await post("warm-w-" + i);
  // closed loop (c.rate 0): the next write as soon as the last is answered, so writes queue behind
  // the fan-out of the ones before; paced: one write every 1000/c.rate ms, as a latency SLO is read
  const gap = c.rate > 0 ? 1000 / c.rate : 0;
  const t0 = nowMs();
  for (let i = 0; i < c.writes; i++) {
    const due = t0 + i * gap;
    const wait = due - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await post("w-" + i, { sentAt: String(nowMs()) });
  }
  return {};
}
({ watchers, writer, writes }[c.mode])().then((r) => {
  agent.destroy();
  process.stdout.write(JSON.stringify(r), () => process.exit(0));
}, (e) => { console.error(e); process.exit(1); });
`;

interface ChildConfig {
  mode: "writes" | "watchers" | "writer";
  writes: number;
  /** Untimed writes before the timed ones (watch part). */
  warmup?: number;
  clients: number;
  watchers: number;
  /** Watch part's writer: writes per second, 0 = closed loop. */
  rate?: number;
}

interface Served {
  cluster: { close(): Promise<void> };
  url: string;
  caPem: string;
}

/**
 * The watch floor: a trivial `node:https` server with the cluster's kind of TLS material that does
 * nothing but the fan-out (a POST's body goes to every open watch as one pre-framed chunk, written
 * to each socket, then the POST is answered), so the bench's clients measure the machine and TLS,
 * not the API server.
 */
async function serveFloor(): Promise<Served> {
  const tls = generateTls();
  const watches = new Set<Socket>();
  const server = createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      res.flushHeaders();
      const socket = res.socket;
      if (socket !== null) watches.add(socket);
      req.on("close", () => {
        if (socket !== null) watches.delete(socket);
      });
      return;
    }
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const body = Buffer.concat(parts).toString("utf8");
      const line = `{"type":"ADDED","object":${body}}\n`;
      const chunk = Buffer.from(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
      for (const w of watches) w.write(chunk);
      res.writeHead(201, { "content-type": "application/json" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: tls.caPem,
    cluster: {
      close: () =>
        new Promise<void>((resolve) => {
          for (const w of watches) w.destroy();
          server.close(() => resolve());
        }),
    },
  };
}

async function serve(): Promise<Served> {
  const cluster = new EmbeddedCluster({
    clock: new VirtualClock(),
    users: [{ name: "bench", token: "bench-token", groups: ["system:masters"] }],
  });
  const info = await cluster.listen({ port: 0 });
  return { cluster, url: info.url, caPem: info.caPem };
}

/** One client child (with an IPC channel); `ready` settles on its first message, `done` with its output. */
function client<T>(
  srv: Served,
  cfg: ChildConfig,
): { child: ChildProcess; ready: Promise<void>; done: Promise<T> } {
  const child = spawn(process.execPath, ["-e", CLIENT_JS], {
    env: {
      ...process.env,
      BENCH_API_CHILD: JSON.stringify({ ...cfg, url: srv.url, token: "bench-token", ca: srv.caPem }),
    },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (d: string) => {
    out += d;
  });
  const ready = new Promise<void>((resolve) => child.once("message", () => resolve()));
  const done = new Promise<T>((resolve, reject) =>
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`bench client exited with ${code}`)),
    ),
  );
  return { child, ready, done };
}

async function overHttp(): Promise<void> {
  const srv = await serve();
  const cpu0 = process.cpuUsage();
  const result = await client<{ seconds: number; failures: number }>(srv, {
    mode: "writes",
    writes: HTTP_WRITES,
    clients: CLIENTS,
    watchers: 0,
  }).done;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  await srv.cluster.close();
  report(BENCH, "https_writes_per_s", HTTP_WRITES / result.seconds, "writes/s", {
    target: 3_000,
    clients: CLIENTS,
    writes: HTTP_WRITES,
    failures: result.failures,
    loadavg: loadavg()[0],
  });
  // the server's CPU (this process; the clients are another) per write, TLS included
  report(BENCH, "https_server_writes_per_cpu_s", (HTTP_WRITES + 200) / cpuS, "writes/s", {
    cpuUsPerWrite: Number(((cpuS * 1e6) / (HTTP_WRITES + 200)).toFixed(1)),
  });
}

/**
 * Watch delivery: 300 timed writes (after 100 warm-up writes), each to 50 HTTPS watchers. Closed
 * loop (`rate` 0: the writer sends the next write when the last is answered, so at saturation the
 * figure is mostly queueing behind earlier fan-outs) or paced at `rate` writes/s.
 */
async function watchLatency(rate = 0, floor = false): Promise<void> {
  const srv = floor ? await serveFloor() : await serve();
  const cfg = { writes: WATCH_WRITES, warmup: WATCH_WARMUP, clients: 1, watchers: WATCHERS, rate };
  const figure = `${floor ? "watch_floor" : "watch"}${rate > 0 ? `_paced_${rate}_per_s` : ""}`;
  const watching = client<{ latencies: number[] }>(srv, { ...cfg, mode: "watchers" });
  await watching.ready;
  const cpu0 = process.cpuUsage();
  await client<unknown>(srv, { ...cfg, mode: "writer" }).done;
  const cpu = process.cpuUsage(cpu0);
  // (the watchers may have seen every event and exited already)
  if (watching.child.connected) watching.child.send("writer done", () => undefined);
  const { latencies } = await watching.done;
  await srv.cluster.close();
  report(BENCH, `${figure}_latency_p50`, percentile(latencies, 50), "ms", {
    watchers: WATCHERS,
    warmupWrites: WATCH_WARMUP,
    writesPerSecond: rate > 0 ? rate : "closed loop",
    events: latencies.length,
    expected: WATCH_WRITES * WATCHERS,
  });
  report(BENCH, `${figure}_latency_p99`, percentile(latencies, 99), "ms", {
    watchers: WATCHERS,
    target: 10,
    loadavg: loadavg()[0],
  });
  // the server's CPU per write delivered to every watcher
  // (warm-up writes included: the writer's run is measured as a whole)
  report(
    BENCH,
    `${figure}_server_cpu_per_write`,
    (cpu.user + cpu.system) / 1e3 / (WATCH_WRITES + WATCH_WARMUP),
    "ms",
    {
      watchers: WATCHERS,
    },
  );
}

function fleetObjects(i: number): KubeObject[] {
  const name = `svc-${String(i).padStart(3, "0")}`;
  const ns = `team-${i % 10}`;
  const labels = { app: name, "app.kubernetes.io/part-of": "fleet" };
  const podSpec = {
    containers: [
      { name: "app", image: `registry.example.com/${name}:1.0.${i}`, ports: [{ containerPort: 8080 }] },
    ],
  };
  const template = { metadata: { labels }, spec: podSpec };
  const objs: KubeObject[] = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, labels },
      spec: { replicas: 5, selector: { matchLabels: labels }, template },
    },
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: `${name}-7d9f8c6b5d`, namespace: ns, labels },
      spec: { replicas: 5, selector: { matchLabels: labels }, template },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: ns, labels },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: { "app.yaml": "log: info\nfeature: on\n" },
    },
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name: `${name}-canary`, namespace: ns, labels },
      spec: {
        replicas: 5,
        selector: { matchLabels: labels },
        template,
        strategy: { canary: { steps: [{ setWeight: 5 }, { pause: { duration: "2m" } }] } },
      },
    },
  ];
  for (let p = 0; p < 5; p++)
    objs.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${name}-7d9f8c6b5d-${p}`, namespace: ns, labels },
      spec: podSpec,
    });
  return objs;
}

async function memory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const cluster = new EmbeddedCluster({ clock: new VirtualClock() });
  const client = cluster.adminClient();
  for (let n = 0; n < 10; n++)
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: `team-${n}` } });
  let count = 0;
  for (let i = 0; i < 200; i++)
    for (const o of fleetObjects(i)) {
      await client.create(o);
      count++;
    }
  gc?.();
  const after = process.memoryUsage();
  report(BENCH, "rss_with_objects", after.rss / 2 ** 20, "MiB", {
    objects: count,
    services: 200,
    gcExposed: gc !== undefined,
  });
  report(BENCH, "heap_per_object", (after.heapUsed - before.heapUsed) / count / 1024, "KiB", {
    objects: count,
  });
  await cluster.close();
}

const PARTS: Record<string, () => Promise<void>> = {
  inprocess: inProcess,
  http: overHttp,
  watch: () => watchLatency(),
  // the same at a steady 100 writes/s (5,000 deliveries/s): latency at load, not at saturation
  watchPaced: () => watchLatency(WATCH_PACED_RATE),
  // the same clients against a server that does nothing but the fan-out: what TLS and the machine cost
  watchFloor: () => watchLatency(0, true),
  watchFloorPaced: () => watchLatency(WATCH_PACED_RATE, true),
  memory,
};

/** BENCH_API_ONLY=http,watch runs some of the parts (default: all, in this order). */
export async function run(): Promise<void> {
  const only = process.env.BENCH_API_ONLY?.split(",").map((s) => s.trim());
  for (const [name, part] of Object.entries(PARTS))
    if (only === undefined || only.includes(name)) await part();
}
