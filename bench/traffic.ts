/**
 * `npm run bench -- traffic`: the synthetic traffic model and the fleet's Git monorepo.
 *  - traffic: cost of the first query on a version 9 weeks old (prefix sums from scratch), of the
 *    same query again (memoized), and of the case study's two SLO queries through the mock
 *    Prometheus for 200 services (canary + stable each).
 *  - fleet: generating 200 services; writing the monorepo and 2,000 commits with the three
 *    writers considered: our loose-object writer (chosen), isomorphic-git's object API, and one
 *    long-lived `git fast-import` (batch, and with a checkpoint per commit so readers see it).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import git from "isomorphic-git";
import { VirtualClock } from "../simulator/clock/virtual.ts";
import { fleetFiles, generateFleet, trafficSpec, writeFleetRepo } from "../simulator/fleet/index.ts";
import { MockPrometheus } from "../simulator/prometheus/mock.ts";
import { scratchBase } from "../simulator/scenario/run.ts";
import { TrafficModel } from "../simulator/traffic/model.ts";
import { percentile, report } from "./report.ts";

const B = "traffic";
const T0 = Date.UTC(2026, 0, 5);
const WEEK = 7 * 86_400_000;

async function trafficFigures(): Promise<void> {
  // one version, 9 weeks old, 1,000 rps
  {
    const clock = new VirtualClock(T0);
    const traffic = new TrafficModel({ clock, seed: 1 });
    traffic.addService({ namespace: "a", service: "big", baseRps: 1000 });
    traffic.deploy("a/big", "v1");
    await clock.runFor(9 * WEEK);
    const prom = new MockPrometheus({ clock });
    prom.addProvider(traffic);
    const q =
      'sum(rate(http_requests_total{service="big",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="big"}[5m]))';
    let t = performance.now();
    prom.evaluate(q, clock.now());
    const first = performance.now() - t;
    report(B, "first query on a 9-week-old version (prefix sums from scratch)", first, "ms", {
      intervals: traffic.stats.intervals,
    });
    report(
      B,
      "generation cost per scrape interval (one version, 17 series)",
      (first * 1000) / traffic.stats.intervals,
      "us",
    );
    await clock.runFor(60_000);
    t = performance.now();
    prom.evaluate(q, clock.now());
    report(B, "same query one minute later (memoized prefix sums)", performance.now() - t, "ms");
  }
  // 200 services, canary at 5% for an hour, the case study's two queries per service per minute
  {
    const clock = new VirtualClock(T0 + 10 * 3_600_000);
    const traffic = new TrafficModel({ clock, seed: 1 });
    const fleet = generateFleet({ seed: 1 });
    for (const s of fleet.services) {
      traffic.addService(trafficSpec(s));
      traffic.setWeight({ namespace: s.namespace, service: s.name }, undefined, "stable", 0);
    }
    await clock.runFor(6 * 3_600_000);
    for (const s of fleet.services)
      traffic.setWeight({ namespace: s.namespace, service: s.name }, "canary", "stable", 5);
    const prom = new MockPrometheus({ clock });
    prom.addProvider(traffic);
    const lat: number[] = [];
    const start = performance.now();
    for (let minute = 0; minute < 10; minute++) {
      await clock.runFor(60_000);
      for (const s of fleet.services) {
        for (const hash of ["canary", "stable"]) {
          const sel = `namespace="${s.namespace}",service="${s.name}",rollouts_pod_template_hash="${hash}"`;
          for (const q of [
            `(sum(rate(http_requests_total{${sel},code=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{${sel}}[5m]))`,
            `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`,
          ]) {
            const t = performance.now();
            prom.evaluate(q, clock.now());
            lat.push(performance.now() - t);
          }
        }
      }
    }
    const total = performance.now() - start;
    report(
      B,
      "SLO query latency p50, 200 services (canary+stable, error ratio+P99, lazy traffic)",
      percentile(lat, 50),
      "ms",
    );
    report(B, "SLO query latency p99", percentile(lat, 99), "ms", { queries: lat.length });
    report(B, "10 analysis minutes x 200 services x 4 queries, wall", total, "ms", {
      intervalsGenerated: traffic.stats.intervals,
      memoryMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    });
  }
}

function release(i: number, replicas: number): string {
  return `replicaCount: ${replicas}\nimage:\n  tag: "3.0.${i}"\n`;
}

async function fleetFigures(): Promise<void> {
  let t = performance.now();
  const fleet = generateFleet({ seed: 1 });
  report(B, "generateFleet 200 services", performance.now() - t, "ms");
  const files = fleetFiles(fleet);
  const root = fs.mkdtempSync(join(tmpdir(), "gtb-bench-fleet-"));
  try {
    // chosen: in-process loose objects, in a run's scratch directory (scratchBase(): /dev/shm when
    // it has room) and, for comparison, in the temp directory (a disk here); CPU includes the kernel's
    const shm = scratchBase();
    const bases = shm === tmpdir() ? [root] : [fs.mkdtempSync(join(shm, "gtb-bench-fleet-")), root];
    for (const base of bases) {
      const where = base === root ? tmpdir() : shm;
      t = performance.now();
      const repo = writeFleetRepo(fleet, { dir: join(base, "loose"), time: T0 });
      report(
        B,
        `loose-object writer in ${where}: initial commit (200 charts, 2,000+ files)`,
        performance.now() - t,
        "ms",
      );
      t = performance.now();
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < 2000; i++) {
        const s = fleet.services[i % 200]!;
        repo.commit({
          files: { [`charts/${s.name}/values-production.yaml`]: release(i, s.replicas) },
          message: `${s.name}: release 3.0.${i}`,
          author: s.owner,
          reviewer: { name: "Reviewer", email: "reviewer@example.com" },
          time: T0 + (i + 1) * 60_000,
        });
      }
      const loose = performance.now() - t;
      const cpu = process.cpuUsage(cpu0);
      report(B, `loose-object writer in ${where}: 2,000 commits`, loose / 1000, "s", {
        perCommitMs: loose / 2000,
        cpuPerCommitMs: (cpu.user + cpu.system) / 1000 / 2000,
        kernelPerCommitMs: cpu.system / 1000 / 2000,
        target: "< 10 s",
      });
      if (base !== root) fs.rmSync(base, { recursive: true, force: true });
    }

    // isomorphic-git object API (200 commits; per-commit cost)
    const iso = join(root, "iso");
    await git.init({ fs, dir: iso, defaultBranch: "main" });
    const gitdir = join(iso, ".git");
    const trees = new Map<string, Map<string, { mode: string; oid: string; type: "blob" | "tree" }>>();
    const dirOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
    const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);
    const setEntry = (dir: string, name: string, e: { mode: string; oid: string; type: "blob" | "tree" }) => {
      let m = trees.get(dir);
      if (m === undefined) {
        m = new Map();
        trees.set(dir, m);
      }
      m.set(name, e);
    };
    const writeUp = async (dir: string): Promise<string> => {
      const tree = [...(trees.get(dir) ?? new Map()).entries()].map(([path, e]) => ({ path, ...e }));
      const oid = await git.writeTree({ fs, gitdir, tree });
      if (dir !== "") {
        setEntry(dirOf(dir), base(dir), { mode: "040000", oid, type: "tree" });
        return writeUp(dirOf(dir));
      }
      return oid;
    };
    let parent: string | undefined;
    const isoCommit = async (changed: Record<string, string>, i: number) => {
      const dirs = new Set<string>();
      for (const [p, c] of Object.entries(changed)) {
        setEntry(dirOf(p), base(p), {
          mode: "100644",
          oid: await git.writeBlob({ fs, gitdir, blob: Buffer.from(c) }),
          type: "blob",
        });
        dirs.add(dirOf(p));
      }
      let tree = "";
      // deepest first so parents see their children's new oids
      for (const d of [...dirs].sort((a, b) => b.split("/").length - a.split("/").length))
        tree = await writeUp(d);
      const who = { name: "Bench", email: "bench@example.com", timestamp: T0 / 1000 + i, timezoneOffset: 0 };
      parent = await git.writeCommit({
        fs,
        gitdir,
        commit: {
          message: `c${i}\n`,
          tree,
          parent: parent === undefined ? [] : [parent],
          author: who,
          committer: who,
        },
      });
      await git.writeRef({ fs, gitdir, ref: "refs/heads/main", value: parent, force: true });
    };
    t = performance.now();
    await isoCommit(files, 0);
    report(B, "isomorphic-git object API: initial commit", performance.now() - t, "ms");
    t = performance.now();
    for (let i = 0; i < 200; i++) {
      const s = fleet.services[i % 200]!;
      await isoCommit({ [`charts/${s.name}/values-production.yaml`]: release(i, s.replicas) }, i + 1);
    }
    const isoMs = (performance.now() - t) / 200;
    report(B, "isomorphic-git object API: per commit (200 measured)", isoMs, "ms", {
      projected2000s: (isoMs * 2000) / 1000,
    });

    // git fast-import, one long-lived process
    for (const checkpointEach of [false, true]) {
      const dir = join(root, checkpointEach ? "fi-cp" : "fi");
      fs.mkdirSync(dir);
      await sh("git", ["init", "-q", "-b", "main", dir]);
      const n = checkpointEach ? 200 : 2000;
      t = performance.now();
      const proc = spawn("git", ["-C", dir, "fast-import", "--quiet"], {
        stdio: ["pipe", "ignore", "inherit"],
      });
      const done = new Promise<void>((resolve, reject) =>
        proc.on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`fast-import exit ${c}`)))),
      );
      const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
      const commit = (i: number, changed: Record<string, string>) => {
        let out = `commit refs/heads/main\nauthor Bench <bench@example.com> ${T0 / 1000 + i} +0000\ncommitter Bench <bench@example.com> ${T0 / 1000 + i} +0000\n${data(`c${i}`)}`;
        for (const [p, c] of Object.entries(changed)) out += `M 100644 inline ${p}\n${data(c)}`;
        return out;
      };
      proc.stdin.write(commit(0, files));
      for (let i = 0; i < n; i++) {
        const s = fleet.services[i % 200]!;
        const ok = proc.stdin.write(
          commit(i + 1, { [`charts/${s.name}/values-production.yaml`]: release(i, s.replicas) }),
        );
        if (checkpointEach) proc.stdin.write("checkpoint\n\n");
        if (!ok) await new Promise((r) => proc.stdin.once("drain", r));
      }
      proc.stdin.end("done\n");
      await done;
      const ms = performance.now() - t;
      report(
        B,
        checkpointEach
          ? "git fast-import with a checkpoint per commit (readers see each): per commit"
          : "git fast-import batch: 2,000 commits + initial",
        checkpointEach ? ms / n : ms / 1000,
        checkpointEach ? "ms" : "s",
      );
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function sh(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: "ignore" });
    p.on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`${cmd} exited ${c}`))));
  });
}

export async function run(): Promise<void> {
  await trafficFigures();
  await fleetFigures();
}
