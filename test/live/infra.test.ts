/**
 * Infra in live mode: HTTPS clients with one bearer token per identity (people
 * subject to the write policy, system components in system:masters), the mock
 * Prometheus over HTTP, runUntil on the scaled clock, stop() closes the servers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpKubeClient } from "../../engine/kube/http-client.ts";
import { KubeApiError } from "../../engine/kube/types.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import type { ClusterSpec } from "../../simulator/cluster/providers/types.ts";
import { parseScenario } from "../../simulator/scenario/load.ts";
import { fleetFor } from "../../simulator/scenario/run.ts";
import { Infra } from "../../simulator/world/infra.ts";
import { drawPlan } from "../../simulator/world/plan.ts";

const YAML = `apiVersion: gitops-testbed.dev/v1alpha1
kind: Scenario
metadata: { name: live-infra }
spec:
  seed: 3
  start: "2026-01-05T09:00:00Z"
  duration: 10m
  fleet: { services: 1, naming: indexed }
  worlds: [{ name: gitops, model: gitops }]
  changes: { perServicePerWeek: 0 }
  drift: { perWeek: 0 }
`;

function liveInfra(mode: "live" | "virtual", cluster?: ClusterSpec): Infra {
  const scenario = parseScenario("live-infra.yaml", YAML);
  const services = fleetFor(scenario);
  return new Infra({
    scenario,
    world: scenario.worlds[0]!,
    services,
    plan: drawPlan(scenario, services),
    sink: { emit: () => undefined },
    workDir: "/nonexistent",
    mode,
    timeScale: 600,
    ...(cluster === undefined ? {} : { cluster }),
  });
}

const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe("Infra live mode", () => {
  let infra: Infra | undefined;
  afterEach(async () => {
    await infra?.stop();
    infra = undefined;
  });

  it("serves the cluster and Prometheus; clients are HTTP with per-identity tokens", async () => {
    const i = liveInfra("live");
    infra = i;
    expect(i.endpoints).toBeUndefined();
    await i.startControllers();
    const ep = i.endpoints;
    expect(ep?.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const viaKubeconfig = new HttpKubeClient({ kubeconfig: ep?.kubeconfig ?? {} });

    await i.admin.create(ns("team-a"));
    expect(
      (await viaKubeconfig.get({ apiVersion: "v1", kind: "Namespace", name: "team-a" })).metadata?.name,
    ).toBe("team-a");
    i.cluster.setPolicy({ rules: [{ users: ["oncall"], namespaces: ["*"] }], default: "deny" });
    const denied = await failure(i.client("alice").create(ns("by-alice")));
    expect(denied).toBeInstanceOf(KubeApiError);
    expect((denied as KubeApiError).status.code).toBe(403);
    await i.client("oncall").create(ns("by-oncall"));
    await i
      .systemClient("system:serviceaccount:argocd:argocd-application-controller")
      .create(ns("by-engine"));
    const users = i.cluster.userList.map((u) => u.name).sort();
    expect(users).toEqual(
      expect.arrayContaining([
        "alice",
        "oncall",
        "platform-admin",
        "system:serviceaccount:argocd:argocd-application-controller",
      ]),
    );
    expect(new Set(i.cluster.userList.map((u) => u.token)).size).toBe(i.cluster.userList.length);

    const res = await i.prometheusApi().query("vector(1)", i.clock.now(), { timeoutMs: 5000, headers: {} });
    expect(res.data.resultType).toBe("vector");

    const t = i.clock.now() + 60_000;
    await i.runUntil(t);
    expect(i.clock.now()).toBeGreaterThanOrEqual(t);

    await i.stop();
    infra = undefined;
    // the clients went over the sockets: with the servers closed they fail
    expect(await failure(i.admin.get({ apiVersion: "v1", kind: "Namespace", name: "team-a" }))).toBeDefined();
    expect(await failure(fetch(`${ep?.prometheusUrl}/api/v1/query?query=vector(1)`))).toBeDefined();
  }, 60_000);

  it("virtual mode stays in-process: no endpoints, clients work without sockets", async () => {
    const i = liveInfra("virtual");
    infra = i;
    await i.startControllers();
    expect(i.endpoints).toBeUndefined();
    await i.admin.create(ns("team-v"));
    await i.stop();
    infra = undefined;
    expect((await i.admin.get({ apiVersion: "v1", kind: "Namespace", name: "team-v" })).metadata?.name).toBe(
      "team-v",
    );
  });

  it("--cluster kubeconfig:PATH: every client talks to that cluster, whose controllers are its own", async () => {
    const external = new EmbeddedCluster({ clock: new VirtualClock(Date.UTC(2026, 0, 5)) });
    await external.listen();
    const dir = await mkdtemp(join(tmpdir(), "gtb-ext-"));
    try {
      const path = join(dir, "kubeconfig");
      await external.writeKubeconfig(path);
      const i = liveInfra("live", { kind: "kubeconfig", path });
      infra = i;
      await i.startControllers();
      expect(i.endpoints?.kubeconfig).toBe(path);
      await i.client("alice").create(ns("on-external"));
      const seen = await external
        .adminClient()
        .get({ apiVersion: "v1", kind: "Namespace", name: "on-external" });
      expect(seen.metadata?.name).toBe("on-external");
      // nothing was written to the world's own (unserved) embedded cluster
      expect(
        await failure(
          i.cluster.adminClient().get({ apiVersion: "v1", kind: "Namespace", name: "on-external" }),
        ),
      ).toBeInstanceOf(KubeApiError);
      await i.stop();
      infra = undefined;
      // stop() leaves a cluster it did not create running
      const after = new HttpKubeClient({ kubeconfig: path });
      expect((await after.list("v1", "Namespace")).items.map((n) => n.metadata?.name)).toContain(
        "on-external",
      );
    } finally {
      await external.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
