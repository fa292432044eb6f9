import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GtbError } from "../../../engine/core/errors.ts";
import { HttpKubeClient } from "../../../engine/kube/http-client.ts";
import { type ApiResourceInfo, type KubeClient, KubeApiError } from "../../../engine/kube/types.ts";
import { VirtualClock } from "../../clock/virtual.ts";
import { EmbeddedCluster } from "../cluster.ts";
import {
  type CommandResult,
  type CommandRunner,
  dockerAvailable,
  EmbeddedProvider,
  ensureArgoCrds,
  K3sProvider,
  KindProvider,
  KubeconfigProvider,
  k3sRunArgs,
  kindCreateArgs,
  kindDeleteArgs,
  parseClusterSpec,
  publishedPort,
  REQUIRED_ARGO_KINDS,
  rewriteK3sKubeconfig,
} from "./index.ts";

/** A fake CLI: answers from a table keyed by "command arg0 arg1", records every call. */
function fakeRunner(answers: Record<string, CommandResult | CommandResult[]>): {
  run: CommandRunner;
  calls: string[];
} {
  const calls: string[] = [];
  const run: CommandRunner = async (command, args) => {
    const line = [command, ...args].join(" ");
    calls.push(line);
    const key = Object.keys(answers).find((k) => line.startsWith(k));
    const a = key === undefined ? undefined : answers[key];
    if (Array.isArray(a)) return a.length > 1 ? (a.shift() as CommandResult) : (a[0] as CommandResult);
    return a ?? { code: 0, stdout: "", stderr: "" };
  };
  return { run, calls };
}

const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "" });
const noDaemon: CommandResult = {
  code: 1,
  stdout: "",
  stderr:
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
};
const notInstalled: CommandResult = { code: -1, stdout: "", stderr: "spawn docker ENOENT" };

async function gtbError(p: Promise<unknown>): Promise<GtbError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof GtbError)) throw new Error(`expected a GtbError, got ${String(e)}`);
  return e;
}

describe("parseClusterSpec", () => {
  it.each([
    ["embedded", { kind: "embedded" }],
    ["kind", { kind: "kind" }],
    ["k3s", { kind: "k3s" }],
    ["kubeconfig:/home/me/.kube/config", { kind: "kubeconfig", path: "/home/me/.kube/config" }],
    ["kubeconfig:rel/kc:with-colon", { kind: "kubeconfig", path: "rel/kc:with-colon" }],
  ])("%s", (value, want) => {
    expect(parseClusterSpec(value)).toEqual(want);
  });

  it.each(["minikube", "kubeconfig:", "", "KIND"])("rejects %j with GTB_USAGE", (value) => {
    expect(() => parseClusterSpec(value)).toThrowError(expect.objectContaining({ code: "GTB_USAGE" }));
  });
});

describe("argument building", () => {
  it("kind create/delete", () => {
    expect(kindCreateArgs("gtb", "/tmp/kc")).toEqual([
      "create",
      "cluster",
      "--name",
      "gtb",
      "--kubeconfig",
      "/tmp/kc",
      "--wait",
      "120s",
    ]);
    expect(kindCreateArgs("gtb", "/tmp/kc", { image: "kindest/node:v1.32.0", wait: "5m" }).slice(6)).toEqual([
      "--wait",
      "5m",
      "--image",
      "kindest/node:v1.32.0",
    ]);
    expect(kindDeleteArgs("gtb")).toEqual(["delete", "cluster", "--name", "gtb"]);
  });

  it("k3s docker run publishes 6443 on a free loopback port", () => {
    const args = k3sRunArgs("k", "rancher/k3s:v1.31.0-k3s1");
    expect(args.slice(0, 7)).toEqual([
      "run",
      "--detach",
      "--privileged",
      "--name",
      "k",
      "--publish",
      "127.0.0.1::6443",
    ]);
    expect(args[7]).toBe("rancher/k3s:v1.31.0-k3s1");
    expect(args[8]).toBe("server");
  });

  it.each([
    ["127.0.0.1:49153\n", 49153],
    ["0.0.0.0:32768\n[::]:32768\n", 32768],
    ["", undefined],
  ])("publishedPort(%j) = %s", (out, port) => {
    expect(publishedPort(out)).toBe(port);
  });

  it("rewrites the k3s kubeconfig's server to the published port", () => {
    const text = [
      "apiVersion: v1",
      "clusters:",
      "- cluster:",
      "    certificate-authority-data: Q0E=",
      "    server: https://127.0.0.1:6443",
      "  name: default",
      "kind: Config",
    ].join("\n");
    const doc = rewriteK3sKubeconfig(text, 49153) as { clusters: Array<{ cluster: Record<string, string> }> };
    expect(doc.clusters[0]?.cluster).toEqual({
      "certificate-authority-data": "Q0E=",
      server: "https://127.0.0.1:49153",
    });
    expect(() => rewriteK3sKubeconfig("kind: Config\n", 1)).toThrowError(
      expect.objectContaining({ code: "GTB_PROVIDER_KUBECONFIG" }),
    );
  });
});

describe("Docker detection", () => {
  it.each([
    ["no daemon", noDaemon, /docker info` failed: Cannot connect to the Docker daemon/],
    ["no docker CLI", notInstalled, /the docker CLI is not installed/],
  ])("kind and k3s fail with GTB_PROVIDER_NO_DOCKER (%s) and run nothing else", async (_n, answer, msg) => {
    for (const make of [
      (run: CommandRunner) => new KindProvider({ run }),
      (run: CommandRunner) => new K3sProvider({ run }),
    ]) {
      const f = fakeRunner({ "docker info": answer });
      const e = await gtbError(make(f.run).start());
      expect(e.code).toBe("GTB_PROVIDER_NO_DOCKER");
      expect(e.message).toMatch(msg);
      expect(e.hint).toMatch(/--cluster embedded/);
      expect(f.calls).toEqual(["docker info --format {{.ServerVersion}}"]);
    }
  });

  it("dockerAvailable follows `docker info`", async () => {
    expect(await dockerAvailable(fakeRunner({ "docker info": ok("27.3.1") }).run)).toBe(true);
    expect(await dockerAvailable(fakeRunner({ "docker info": noDaemon }).run)).toBe(false);
  });
});

describe("kind and k3s lifecycles (fake CLI)", () => {
  it("kind: create with a kubeconfig path, delete on close (once)", async () => {
    const f = fakeRunner({ "docker info": ok("27.3.1") });
    const conn = await new KindProvider({ run: f.run, name: "gtb-test" }).start();
    expect(typeof conn.kubeconfig).toBe("string");
    expect(f.calls[1]).toBe(
      `kind create cluster --name gtb-test --kubeconfig ${String(conn.kubeconfig)} --wait 120s`,
    );
    await conn.close();
    await conn.close();
    expect(f.calls.slice(2)).toEqual(["kind delete cluster --name gtb-test"]);
  });

  it("kind: a failed create is a GTB_PROVIDER_COMMAND with kind's message", async () => {
    const f = fakeRunner({
      "docker info": ok("27.3.1"),
      "kind create": {
        code: 1,
        stdout: "",
        stderr: 'ERROR: node(s) already exist for a cluster with the name "gtb"',
      },
    });
    const e = await gtbError(new KindProvider({ run: f.run, name: "gtb" }).start());
    expect(e.code).toBe("GTB_PROVIDER_COMMAND");
    expect(e.message).toContain("already exist");
  });

  it("k3s: run, find the port, wait for the kubeconfig, remove on close", async () => {
    const k3sYaml =
      "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";
    const f = fakeRunner({
      "docker info": ok("27.3.1"),
      "docker port": ok("127.0.0.1:40001\n"),
      "docker exec": [
        { code: 1, stdout: "", stderr: "cat: can't open '/etc/rancher/k3s/k3s.yaml'" },
        ok(k3sYaml),
      ],
    });
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const conn = await new K3sProvider({ run: f.run, name: "k", sleep }).start();
    expect(f.calls[1]).toBe(`docker ${k3sRunArgs("k").join(" ")}`);
    expect(f.calls.filter((c) => c.startsWith("docker exec k cat"))).toHaveLength(2);
    expect(slept).toEqual([1000]);
    expect(
      (conn.kubeconfig as { clusters: Array<{ cluster: { server: string } }> }).clusters[0]?.cluster.server,
    ).toBe("https://127.0.0.1:40001");
    await conn.close();
    expect(f.calls.at(-1)).toBe("docker rm --force --volumes k");
  });

  it("k3s: no kubeconfig in time -> GTB_PROVIDER_TIMEOUT and the container is removed", async () => {
    const f = fakeRunner({
      "docker info": ok("27.3.1"),
      "docker port": ok("127.0.0.1:40001\n"),
      "docker exec": { code: 1, stdout: "", stderr: "not yet" },
    });
    const e = await gtbError(
      new K3sProvider({ run: f.run, name: "k", timeoutMs: 3000, sleep: async () => {} }).start(),
    );
    expect(e.code).toBe("GTB_PROVIDER_TIMEOUT");
    expect(e.hint).toBe("see `docker logs k`");
    expect(f.calls.at(-1)).toBe("docker rm --force --volumes k");
  });
});

describe("real Docker (skipped without an engine)", async () => {
  const docker = await dockerAvailable();
  if (!docker)
    console.log("skipping real kind/k3s tests: `docker info` failed (no Docker engine on this machine)");
  it.skipIf(!docker)(
    "k3s serves the Argo CRDs after ensureArgoCrds",
    async () => {
      const conn = await new K3sProvider({ name: "gtb-provider-test" }).start();
      try {
        const client = new HttpKubeClient({ kubeconfig: conn.kubeconfig });
        await ensureArgoCrds(client, "k3s");
        expect(await ensureArgoCrds(client, "k3s")).toEqual([]);
      } finally {
        await conn.close();
      }
    },
    300_000,
  );
});

/** A KubeClient that only knows discovery and apply (the two calls ensureArgoCrds makes). */
function discoveryClient(kinds: string[], apply: (name: string) => void): KubeClient {
  const resources: ApiResourceInfo[] = kinds.map((kind) => ({
    group: "argoproj.io",
    version: "v1alpha1",
    kind,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    namespaced: true,
  }));
  const unused = () => Promise.reject(new Error("not used"));
  return {
    identity: "test",
    get: unused,
    list: unused,
    create: unused,
    replace: unused,
    replaceStatus: unused,
    patch: unused,
    delete: unused,
    watch: unused,
    resources: async () => resources,
    apply: async (obj) => {
      apply(String(obj.metadata?.name));
      return obj as never;
    },
  } as KubeClient;
}

describe("kubeconfig provider and the Argo CRDs", () => {
  it("a missing kubeconfig file is GTB_PROVIDER_KUBECONFIG", async () => {
    const e = await gtbError(new KubeconfigProvider("/nonexistent/kubeconfig").start());
    expect(e.code).toBe("GTB_PROVIDER_KUBECONFIG");
    expect(e.file).toBe("/nonexistent/kubeconfig");
  });

  it("applies only the missing CRDs", async () => {
    const applied: string[] = [];
    const installed = await ensureArgoCrds(
      discoveryClient(["Rollout", "AnalysisTemplate"], (n) => applied.push(n)),
      "x",
    );
    expect(installed).toEqual(["Application", "AnalysisRun", "ClusterAnalysisTemplate"]);
    expect(applied.sort()).toEqual([
      "analysisruns.argoproj.io",
      "applications.argoproj.io",
      "clusteranalysistemplates.argoproj.io",
    ]);
    expect(
      await ensureArgoCrds(
        discoveryClient([...REQUIRED_ARGO_KINDS], () => {}),
        "x",
      ),
    ).toEqual([]);
  });

  it("names the missing CRDs when applying them is forbidden", async () => {
    const forbidden = discoveryClient(["Application"], () => {
      throw new KubeApiError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message:
          'customresourcedefinitions.apiextensions.k8s.io is forbidden: User "dev" cannot create resource "customresourcedefinitions"',
        reason: "Forbidden",
        code: 403,
      });
    });
    const e = await gtbError(ensureArgoCrds(forbidden, "/home/dev/.kube/config"));
    expect(e.code).toBe("GTB_PROVIDER_CRDS_MISSING");
    expect(e.message).toContain("Rollout, AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate");
    expect(e.message).toContain("cannot create resource");
    expect(e.hint).toMatch(/argo-rollouts/);
  });

  it("an unreachable API is GTB_PROVIDER_UNREACHABLE", async () => {
    const down = {
      ...discoveryClient([], () => {}),
      resources: () => Promise.reject(new Error("connect ECONNREFUSED")),
    };
    const e = await gtbError(ensureArgoCrds(down, "the k3s cluster"));
    expect(e.code).toBe("GTB_PROVIDER_UNREACHABLE");
    expect(e.message).toContain("ECONNREFUSED");
  });
});

describe("embedded provider over HTTPS", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("one token per identity; system identities bypass the write policy, people do not", async () => {
    const cluster = new EmbeddedCluster({ clock: new VirtualClock(Date.UTC(2026, 0, 5)) });
    const provider = new EmbeddedProvider(cluster);
    const conn = await provider.start();
    try {
      cluster.setPolicy({ rules: [], default: "deny" });
      const admin = new HttpKubeClient({ kubeconfig: conn.kubeconfig });
      expect(await ensureArgoCrds(admin, "embedded")).toEqual([]);
      const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } };
      const alice = new HttpKubeClient({ kubeconfig: provider.kubeconfigFor("alice", false) });
      const err = await alice.create(ns).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KubeApiError);
      expect((err as KubeApiError).status.code).toBe(403);
      const engine = new HttpKubeClient({
        kubeconfig: provider.kubeconfigFor("system:serviceaccount:argocd:x", true),
      });
      await engine.create(ns);
      expect((await alice.get({ apiVersion: "v1", kind: "Namespace", name: "team-a" })).metadata?.name).toBe(
        "team-a",
      );
      const tokens = new Set(cluster.userList.map((u) => u.token));
      expect(tokens.size).toBe(cluster.userList.length);
      // the same kubeconfig as a file works through the kubeconfig provider
      const dir = await mkdtemp(join(tmpdir(), "gtb-prov-"));
      dirs.push(dir);
      await cluster.writeKubeconfig(join(dir, "kc"), { user: "alice" });
      const viaFile = await new KubeconfigProvider(join(dir, "kc")).start();
      const again = new HttpKubeClient({ kubeconfig: viaFile.kubeconfig });
      expect(again.identity).toBe("alice");
      expect((await again.list("v1", "Namespace")).items.map((n) => n.metadata?.name)).toContain("team-a");
    } finally {
      await conn.close();
    }
  });
});
