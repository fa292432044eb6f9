/**
 * Conformance: the real kubectl (v1.32, on PATH) against a served
 * EmbeddedCluster. Asserts what a real cluster prints: table headers and
 * columns, verbs' messages, Status errors. Skipped, with the reason printed,
 * when kubectl is not installed.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { MASTERS } from "../../simulator/cluster/policy.ts";

function kubectlVersion(): string | undefined {
  try {
    return execFileSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  } catch {
    return undefined;
  }
}

const version = kubectlVersion();
if (version === undefined) process.stdout.write("test/kubectl: skipped: no kubectl binary on PATH\n");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), "gtb-kubectl-"));
const adminConfig = join(dir, "admin.kubeconfig");
const aliceConfig = join(dir, "alice.kubeconfig");

function kubectl(
  args: string[],
  opts: { config?: string; input?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      args,
      { env: { ...process.env, KUBECONFIG: opts.config ?? adminConfig, ...opts.env }, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const DEPLOY = (image: string, env = true) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: ${image}
${env ? '        env:\n        - {name: MODE, value: "blue"}\n' : ""}`;

const header = (out: string) => (out.split("\n")[0] ?? "").trim().split(/\s{2,}/);

describe.skipIf(version === undefined)("kubectl v1.32 against the embedded API server", () => {
  const cluster = new EmbeddedCluster({
    clock: new VirtualClock(),
    users: [
      { name: "admin", token: "admin-token", groups: [MASTERS] },
      { name: "alice", token: "alice-token", groups: ["developers"] },
    ],
  });

  beforeAll(async () => {
    await cluster.listen({ port: 0 });
    await cluster.writeKubeconfig(adminConfig, { user: "admin" });
    await cluster.writeKubeconfig(aliceConfig, { user: "alice" });
    const admin = cluster.adminClient();
    for (const ns of ["prod", "dev"])
      await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  });
  afterAll(() => cluster.close());

  it("client-side apply creates, leaves unchanged, updates and removes a field", async () => {
    expect((await kubectl(["apply", "-f", file("d1.yaml", DEPLOY("nginx:1.0"))])).stdout).toBe(
      "deployment.apps/web created\n",
    );
    expect((await kubectl(["apply", "-f", file("d1.yaml", DEPLOY("nginx:1.0"))])).stdout).toBe(
      "deployment.apps/web unchanged\n",
    );
    const r = await kubectl(["apply", "-f", file("d2.yaml", DEPLOY("nginx:2.0", false))]);
    expect(r.stdout).toBe("deployment.apps/web configured\n");
    const live = JSON.parse((await kubectl(["get", "deploy", "web", "-o", "json"])).stdout) as {
      metadata: { generation: number };
      spec: { template: { spec: { containers: Array<{ image: string; env?: unknown }> } } };
    };
    expect(live.spec.template.spec.containers[0]!.image).toBe("nginx:2.0");
    expect(live.spec.template.spec.containers[0]!.env).toBeUndefined();
    expect(live.metadata.generation).toBe(2);
  });

  it("prints upstream's table columns for built-ins, across namespaces, and YAML", async () => {
    const deploy = await kubectl(["get", "deployments"]);
    expect(header(deploy.stdout)).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    expect(deploy.stdout).toMatch(/^web\s+0\/2\s+0\s+0\s+\d+s$/m);
    const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: dev}\nspec:\n  containers: [{name: c, image: busybox}]\n`;
    expect((await kubectl(["apply", "-f", file("pod.yaml", pod)])).stdout).toBe("pod/p1 created\n");
    const pods = await kubectl(["get", "pods", "-A"]);
    expect(header(pods.stdout)).toEqual(["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    expect(pods.stdout).toMatch(/^dev\s+p1\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    const ns = await kubectl(["get", "ns"]);
    expect(header(ns.stdout)).toEqual(["NAME", "STATUS", "AGE"]);
    expect(ns.stdout).toMatch(/^prod\s+Active\s+/m);
    const yaml = await kubectl(["get", "deploy", "web", "-o", "yaml"]);
    expect(yaml.stdout).toMatch(/^kind: Deployment$/m);
    expect(yaml.stdout).toMatch(/^ {2}creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);
  });

  it("server-side apply reports a field manager conflict and --force-conflicts takes over", async () => {
    expect((await kubectl(["scale", "deployment/web", "--replicas=5"])).stdout).toBe(
      "deployment.apps/web scaled\n",
    );
    const conflict = await kubectl([
      "apply",
      "--server-side",
      "-f",
      file("d2.yaml", DEPLOY("nginx:2.0", false)),
    ]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(
      /^error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1 at \S+: \.spec\.replicas$/m,
    );
    const forced = await kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      "-f",
      file("d2.yaml", DEPLOY("nginx:2.0", false)),
    ]);
    expect(forced.stdout).toBe("deployment.apps/web serverside-applied\n");
    const replicas = await kubectl(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]);
    expect(replicas.stdout).toBe("2");
  });

  it("patches with all three types", async () => {
    expect(
      (await kubectl(["patch", "deploy", "web", "--type=merge", "-p", '{"metadata":{"labels":{"m":"1"}}}']))
        .stdout,
    ).toBe("deployment.apps/web patched\n");
    await kubectl([
      "patch",
      "deploy",
      "web",
      "--type=json",
      "-p",
      '[{"op":"add","path":"/metadata/labels/j","value":"2"}]',
    ]);
    await kubectl([
      "patch",
      "deploy",
      "web",
      "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:3.0"}]}}}}',
    ]);
    const out = await kubectl([
      "get",
      "deploy",
      "web",
      "-o",
      "jsonpath={.metadata.labels.m}{.metadata.labels.j} {.spec.template.spec.containers[*].image}",
    ]);
    expect(out.stdout).toBe("12 nginx:3.0");
  });

  it("edits through KUBE_EDITOR", async () => {
    await kubectl([
      "apply",
      "-f",
      file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: blue}\n"),
    ]);
    const editor = file("editor.sh", '#!/bin/sh\nsed -i "s/color: blue/color: green/" "$1"\n');
    execFileSync("chmod", ["+x", editor]);
    const r = await kubectl(["edit", "configmap", "settings"], { env: { KUBE_EDITOR: editor } });
    expect(r.stdout).toBe("configmap/settings edited\n");
    expect((await kubectl(["get", "cm", "settings", "-o", "jsonpath={.data.color}"])).stdout).toBe("green");
  });

  it("watches with get -w", async () => {
    const cm = (name: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: dev}\ndata: {a: b}\n`;
    await kubectl(["apply", "-f", file("w0.yaml", cm("first"))]);
    const child = spawn("kubectl", ["get", "configmaps", "-n", "dev", "-w"], {
      env: { ...process.env, KUBECONFIG: adminConfig },
    });
    let out = "";
    const waiters: Array<() => void> = [];
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      for (const w of [...waiters]) w();
    });
    const waitFor = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!re.test(out)) return;
          waiters.splice(waiters.indexOf(check), 1);
          resolve();
        };
        waiters.push(check);
        check();
      });
    try {
      await waitFor(/^first\s+1\s+/m);
      await kubectl(["apply", "-f", file("w1.yaml", cm("second"))]);
      await waitFor(/^second\s+1\s+/m);
    } finally {
      if (child.pid !== undefined) process.kill(child.pid);
    }
    expect(header(out)).toEqual(["NAME", "DATA", "AGE"]);
    expect(out.split("\n").filter((l) => l.startsWith("NAME"))).toHaveLength(1);
  });

  it("serves the Argo CRDs: get rollouts -A, scale a Rollout", async () => {
    const ro = `apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: checkout, namespace: prod}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: checkout}}\n  template:\n    metadata: {labels: {app: checkout}}\n    spec: {containers: [{name: app, image: checkout:1}]}\n  strategy: {canary: {steps: [{setWeight: 20}]}}\n`;
    expect((await kubectl(["apply", "-f", file("ro.yaml", ro)])).stdout).toBe(
      "rollout.argoproj.io/checkout created\n",
    );
    expect((await kubectl(["scale", "rollout/checkout", "-n", "prod", "--replicas=4"])).stdout).toBe(
      "rollout.argoproj.io/checkout scaled\n",
    );
    const list = await kubectl(["get", "rollouts", "-A"]);
    expect(header(list.stdout)).toEqual([
      "NAMESPACE",
      "NAME",
      "DESIRED",
      "CURRENT",
      "UP-TO-DATE",
      "AVAILABLE",
      "AGE",
    ]);
    expect(list.stdout).toMatch(/^prod\s+checkout\s+4\s+/m);
    const apps = await kubectl(["get", "applications", "-A"]);
    expect(apps.stderr).toBe("No resources found\n");
  });

  it("creates a CRD and serves its kind with its printer columns at once", async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
`;
    expect((await kubectl(["apply", "-f", file("crd.yaml", crd)])).stdout).toBe(
      "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n",
    );
    const w = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n";
    expect((await kubectl(["apply", "-f", file("w1.yaml", w)])).stdout).toBe(
      "widget.example.com/w1 created\n",
    );
    const got = await kubectl(["get", "wd"]);
    expect(header(got.stdout)).toEqual(["NAME", "SIZE"]);
    expect(got.stdout).toMatch(/^w1\s+3$/m);
  });

  it("deletes, then reports NotFound like a real server", async () => {
    expect((await kubectl(["delete", "deployment", "web"])).stdout).toBe('deployment.apps "web" deleted\n');
    const r = await kubectl(["get", "deployment", "web"]);
    expect(r.stderr).toBe('Error from server (NotFound): deployments.apps "web" not found\n');
  });

  it("answers a revoked identity's write with Forbidden", async () => {
    const cm = file(
      "alice.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hotfix, namespace: prod}\ndata: {a: b}\n",
    );
    expect((await kubectl(["apply", "-f", cm], { config: aliceConfig })).stdout).toBe(
      "configmap/hotfix created\n",
    );
    cluster.setPolicy({ rules: [{ groups: ["developers"], namespaces: ["dev"] }] });
    const denied = await kubectl(
      ["patch", "cm", "hotfix", "-n", "prod", "--type=merge", "-p", '{"data":{"a":"c"}}'],
      {
        config: aliceConfig,
      },
    );
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): configmaps "hotfix" is forbidden: User "alice" cannot patch resource "configmaps" in API group "" in the namespace "prod"\n',
    );
    expect(
      cluster.audit().some((a) => a.identity === "alice" && a.code === 403 && a.namespace === "prod"),
    ).toBe(true);
  });

  it("explains the protobuf bodies of generator commands", async () => {
    const r = await kubectl(["create", "configmap", "gen", "--from-literal=a=b"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("kubectl create ... --dry-run=client -o yaml | kubectl apply -f -");
  });
});
