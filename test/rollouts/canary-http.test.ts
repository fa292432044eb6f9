/**
 * The same canary in live mode: the rollouts manager talks to the embedded API
 * server over HTTPS (client-node adapter), queries the mock Prometheus over its
 * HTTP API, and runs on a real clock scaled x120; `kubectl get rollouts -A` and
 * `kubectl get analysisruns` show the state with upstream's columns. Waits are
 * on events (rollout.aborted / rollout.completed), not sleeps.
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../cli/main.ts";
import type { AnalysisEvent } from "../../engine/analysis/events.ts";
import { HttpPrometheusApi, PrometheusProvider } from "../../engine/analysis/provider.ts";
import { MemoryEventLog } from "../../engine/core/events.ts";
import { HttpKubeClient } from "../../engine/kube/http-client.ts";
import type { KubeClient } from "../../engine/kube/types.ts";
import type { RolloutEvent } from "../../engine/rollouts/events.ts";
import { RolloutsManager } from "../../engine/rollouts/manager.ts";
import { podTemplateHash } from "../../engine/rollouts/replicas.ts";
import type { Rollout } from "../../engine/rollouts/types.ts";
import { ScaledRealClock } from "../../simulator/clock/real.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { startPrometheusServer, type PrometheusServer } from "../../simulator/prometheus/http.ts";
import { MockPrometheus } from "../../simulator/prometheus/mock.ts";
import { followReplicaSets, type ReplicaSetFollower } from "../../simulator/traffic/cluster.ts";
import { TrafficModel } from "../../simulator/traffic/model.ts";
import { fixture } from "./harness.ts";

const SCALE = 120;
let hasKubectl = true;
try {
  execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
} catch {
  hasKubectl = false;
}

interface Live {
  clock: ScaledRealClock;
  cluster: EmbeddedCluster;
  client: KubeClient;
  prom: PrometheusServer;
  traffic: TrafficModel;
  follower: ReplicaSetFollower;
  manager: RolloutsManager;
  log: MemoryEventLog<RolloutEvent | AnalysisEvent>;
  kubeconfig: string;
  dir: string;
}

let live: Live;

beforeAll(async () => {
  const clock = new ScaledRealClock(SCALE, Date.UTC(2026, 0, 5));
  const cluster = new EmbeddedCluster({ clock, controllers: true, seed: "rollouts-http" });
  await cluster.listen();
  const dir = mkdtempSync(join(tmpdir(), "gtb-rollouts-"));
  const kubeconfig = join(dir, "kubeconfig");
  await cluster.writeKubeconfig(kubeconfig);
  const client = new HttpKubeClient({ kubeconfig: cluster.kubeconfig() });
  const traffic = new TrafficModel({ clock, seed: 11 });
  for (const service of ["checkout", "payments"]) {
    traffic.addService({
      namespace: "default",
      service,
      // enough canary traffic at 5% (100 rps) that a 2% error version shows in the first scrapes the
      // measurement sees, however late the scaled real clock lets the canary start serving
      baseRps: 2000,
      diurnalAmplitude: 0,
      noiseSd: 0,
      weekendFactor: 1,
    });
  }
  const mock = new MockPrometheus({ clock });
  mock.addProvider(traffic);
  const prom = await startPrometheusServer(mock, 0);
  const log = new MemoryEventLog<RolloutEvent | AnalysisEvent>();
  const manager = new RolloutsManager({
    client,
    clock,
    trafficRouter: traffic,
    provider: new PrometheusProvider({ apiFor: () => new HttpPrometheusApi(prom.url) }),
    events: log,
    onError: (e, where) => process.stderr.write(`rollouts manager: ${where}: ${String(e)}\n`),
  });
  const follower = await followReplicaSets(cluster.adminClient(), traffic);
  await manager.start();
  live = { clock, cluster, client, prom, traffic, follower, manager, log, kubeconfig, dir };
}, 60_000);

afterAll(async () => {
  live.manager.stop();
  live.follower.stop();
  live.clock.dispose();
  await live.prom.close();
  await live.cluster.close();
  rmSync(live.dir, { recursive: true, force: true });
});

function nextEvent<T extends (RolloutEvent | AnalysisEvent)["type"]>(
  type: T,
  service: string,
): Promise<Extract<RolloutEvent | AnalysisEvent, { type: T }>> {
  return new Promise((resolve) => {
    const off = live.log.subscribe((e) => {
      if (e.type === type && (e as { service?: string }).service === service) {
        off();
        resolve(e as Extract<RolloutEvent | AnalysisEvent, { type: T }>);
      }
    });
  });
}

/** Resolves when the Rollout satisfies `pred` (a watch on the cluster, no polling). */
async function rolloutState(name: string, pred: (r: Rollout) => boolean): Promise<Rollout> {
  const admin = live.cluster.adminClient();
  return new Promise((resolve) => {
    let done = false;
    void admin
      .watch<Rollout>("argoproj.io/v1alpha1", "Rollout", { namespace: "default" }, (ev) => {
        if (!done && ev.object.metadata.name === name && pred(ev.object)) {
          done = true;
          resolve(ev.object);
        }
      })
      .then((h) => {
        const stop = setInterval(() => {
          if (done) {
            h.stop();
            clearInterval(stop);
          }
        }, 50);
      });
  });
}

async function deploy(name: string, errorRatio: number): Promise<string> {
  const objs = fixture("rollout-canary.yaml");
  const ro = objs[0] as Rollout;
  ro.metadata.name = name;
  ro.spec.selector = { matchLabels: { app: name } };
  ro.spec.template!.metadata = { labels: { app: name } };
  ro.spec.strategy!.canary!.analysis!.args = [
    { name: "service", value: name },
    { name: "canary-hash", valueFrom: { podTemplateHashValue: "Latest" } },
  ];
  const stable = rolloutState(name, (r) => r.status?.stableRS !== undefined && r.status.phase === "Healthy");
  await live.client.create(ro);
  await stable;
  const tpl = structuredClone(ro.spec.template!);
  (tpl.spec as { containers: Array<{ image: string }> }).containers[0]!.image =
    `registry.example.com/${name}:2.0.0`;
  const hash = podTemplateHash(tpl);
  live.traffic.setVersionBehaviour({ namespace: "default", service: name }, hash, { errorRatio });
  await live.client.patch(
    { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name, namespace: "default" },
    { spec: { template: tpl } },
    "merge",
  );
  return hash;
}

describe("canary over HTTP with a scaled real clock (x120)", () => {
  it("setup: the SLO template is served", async () => {
    for (const o of fixture("analysis-template-slo.yaml")) await live.client.create(o);
    const t = await live.client.get({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AnalysisTemplate",
      name: "slo",
      namespace: "default",
    });
    expect(t.metadata.name).toBe("slo");
  });

  it("aborts a 2% error version at its first measurement and sends all traffic back to stable", async () => {
    const aborted = nextEvent("rollout.aborted", "checkout");
    const bad = await deploy("checkout", 0.02);
    const ev = await aborted;
    expect(ev).toMatchObject({ canaryHash: bad, metric: "error-rate" });
    expect(ev.message).toContain('Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)');
    const w = live.traffic.getWeights({ namespace: "default", service: "checkout" })!;
    expect(w.canaryWeight).toBe(0);
    const runs = live.log
      .ofType("analysis.measurement")
      .filter((m) => m.service === "checkout" && m.metric === "error-rate");
    expect(runs.map((m) => m.phase)).toEqual(["Failed"]);
  }, 60_000);

  it("promotes a good version after all steps", async () => {
    const completed = nextEvent("rollout.completed", "payments");
    const good = await deploy("payments", 0.001);
    const ev = await completed;
    expect(ev.canaryHash).toBe(good);
    const ro = await live.client.get<Rollout>({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      name: "payments",
      namespace: "default",
    });
    expect(ro.status!.stableRS).toBe(good);
  }, 60_000);

  it.skipIf(!hasKubectl)(
    "kubectl get rollouts -A and kubectl get analysisruns show the state with upstream's columns",
    async () => {
      const env = { ...process.env, KUBECONFIG: live.kubeconfig };
      // async: the API server answering kubectl runs in this process
      const run = promisify(execFile);
      const ro = (await run("kubectl", ["get", "rollouts", "-A"], { env, encoding: "utf8" })).stdout;
      const lines = ro.trim().split("\n");
      expect(lines[0]!.split(/\s{2,}/)).toEqual([
        "NAMESPACE",
        "NAME",
        "DESIRED",
        "CURRENT",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
      ]);
      expect(lines.some((l) => /^default\s+checkout\s+10\s/.test(l))).toBe(true);
      const ar = (await run("kubectl", ["get", "analysisruns"], { env, encoding: "utf8" })).stdout;
      const arLines = ar.trim().split("\n");
      expect(arLines[0]!.split(/\s{2,}/)).toEqual(["NAME", "STATUS", "AGE"]);
      expect(arLines.some((l) => /^checkout-\S+\s+Failed\s/.test(l))).toBe(true);
      expect(arLines.some((l) => /^payments-\S+\s+Successful\s/.test(l))).toBe(true);
    },
  );

  it("gitops-testbed rollouts status / retry speak to the cluster over its kubeconfig", async () => {
    let out = "";
    let err = "";
    const o = vi.spyOn(process.stdout, "write").mockImplementation((x: string | Uint8Array) => {
      out += String(x);
      return true;
    });
    const e = vi.spyOn(process.stderr, "write").mockImplementation((x: string | Uint8Array) => {
      err += String(x);
      return true;
    });
    try {
      expect(await main(["rollouts", "status", "checkout", "--kubeconfig", live.kubeconfig])).toBe(0);
      expect(await main(["rollouts", "retry", "payments", "--kubeconfig", live.kubeconfig])).toBe(1);
    } finally {
      o.mockRestore();
      e.mockRestore();
      process.exitCode = undefined;
    }
    expect(out).toMatch(
      /Status: +Degraded \(RolloutAborted: Rollout aborted update to revision 2: Metric "error-rate"/,
    );
    expect(out).toMatch(/Step: +0\/6/);
    expect(err).toContain("GTB_ROLLOUT_NOT_ABORTED");
  });
});
