/** `gitops-testbed engine`: bad input exits 2; against a served embedded cluster it syncs and stops cleanly. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runEngine } from "../../cli/commands/engine.ts";
import { main } from "../../cli/main.ts";
import type { Application } from "../../engine/apps/types.ts";
import { ScaledRealClock } from "../../simulator/clock/real.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { GitFixture } from "./git-fixture.ts";
import { appManifest, cm } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "gtb-cli-engine-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function captureStderr(fn: () => Promise<number>): Promise<{ code: number; err: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await fn(), err: chunks.join("") };
  } finally {
    process.stderr.write = write;
  }
}

describe("engine command", () => {
  it("exits 2 with a coded error for a missing kubeconfig", async () => {
    const r = await captureStderr(() => main(["engine", "--kubeconfig", join(dir, "nope")]));
    expect(r.code).toBe(2);
    expect(r.err).toContain("GTB_ENGINE_BAD_KUBECONFIG");
  });

  it("exits 2 when the cluster is unreachable", async () => {
    const kc = join(dir, "unreachable");
    writeFileSync(
      kc,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "c", cluster: { server: "https://127.0.0.1:1", "insecure-skip-tls-verify": true } },
        ],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const r = await captureStderr(() => main(["engine", "--kubeconfig", kc]));
    expect(r.code).toBe(2);
    expect(r.err).toContain("GTB_ENGINE_CLUSTER_UNREACHABLE");
  });

  it("syncs an Application over HTTPS and stops on request", async () => {
    const clock = new ScaledRealClock(1);
    const cluster = new EmbeddedCluster({ clock, controllers: true });
    const repo = new GitFixture();
    try {
      repo.commit({ "app/cm.yaml": cm("hello", { a: "1" }) });
      await cluster.listen();
      const kc = join(dir, "kubeconfig");
      await cluster.writeKubeconfig(kc);
      const admin = cluster.adminClient();
      await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "argocd" } });
      await admin.create(appManifest("hello", repo.url, "app", { namespace: "hello" }));
      let stop!: () => void;
      const stopped = new Promise<void>((r) => {
        stop = r;
      });
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((c: string) => {
        out.push(String(c));
        return true;
      }) as typeof process.stdout.write;
      const running = runEngine({ kubeconfig: kc, namespace: "argocd", pollInterval: "120s" }, stopped);
      let app: Application | undefined;
      for (let i = 0; i < 100; i++) {
        app = await admin.get<Application>({
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Application",
          name: "hello",
          namespace: "argocd",
        });
        if (app.status?.sync?.status === "Synced") break;
        await clock.sleep(100);
      }
      stop();
      await running;
      process.stdout.write = write;
      expect(app?.status?.sync?.status).toBe("Synced");
      expect(out.join("")).toMatch(/hello {2}deploy [0-9a-f]{7} Succeeded via automated/);
      expect(out.join("")).toContain("engine stopped");
    } finally {
      await cluster.close();
      clock.dispose();
      repo.remove();
    }
  }, 30_000);
});
