/**
 * End-to-end: the engine against the embedded cluster with a real Git repo.
 * Virtual time with the in-process client.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { auditTrail } from "../../engine/apps/audit-trail.ts";
import { selfHealDelayMs } from "../../engine/apps/backoff.ts";
import { toJsonl } from "../../engine/core/events.ts";
import type { DriftDetectedEvent, SyncFinishedEvent } from "../../engine/apps/events.ts";
import { appManifest, cm, deploy, makeWorld, svc, type World } from "./harness.ts";

const CHART = {
  "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
  "charts/web/values.yaml": "replicas: 1\ngreeting: hello\n",
  "charts/web/templates/cm.yaml":
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
  "charts/web/templates/svc.yaml":
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports:\n  - port: 80\n",
};

function files(n: number): Record<string, string> {
  const out: Record<string, string> = { ...CHART };
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(2, "0")}`;
    out[`apps/${name}/cm.yaml`] = cm(`${name}-config`, { LOG_LEVEL: "info" });
    out[`apps/${name}/svc.yaml`] = svc(name);
    out[`apps/${name}/deploy.yaml`] = deploy(name, 2, "info");
  }
  out["kustomize/base/kustomization.yaml"] = "resources:\n- cm.yaml\n";
  out["kustomize/base/cm.yaml"] = cm("kcfg", { mode: "base" });
  out["kustomize/prod/kustomization.yaml"] = "resources:\n- ../base\nnamePrefix: prod-\n";
  return out;
}

const SYNCED_HEALTHY = { sync: { status: "Synced" }, health: { status: "Healthy" } };

/**
 * The same suite runs with the in-process client in virtual time and over HTTPS (engine/kube/http-client.ts
 * against EmbeddedCluster.listen) with a real clock scaled x20.
 */
describe.each(["in-process", "https"] as const)("engine end-to-end (%s)", (transport) => {
  let w: World;
  const appNames: string[] = [];

  beforeAll(async () => {
    w = await makeWorld({ transport });
    w.repo.commit(files(17), "initial fleet\n\nReviewed-by: Bo Rev <bo@example.com>");
    for (let i = 0; i < 17; i++) {
      const name = `svc-${String(i).padStart(2, "0")}`;
      appNames.push(name);
      await w.admin.create(appManifest(name, w.repo.url, `apps/${name}`, { namespace: name }));
    }
    await w.admin.create(appManifest("kust", w.repo.url, "kustomize/prod", { namespace: "kust" }));
    await w.admin.create(appManifest("chart-a", w.repo.url, "charts/web", { namespace: "chart-a" }));
    await w.admin.create(
      appManifest("chart-b", w.repo.url, "charts/web", {
        namespace: "chart-b",
        extraSpec: {
          source: {
            repoURL: w.repo.url,
            path: "charts/web",
            helm: { parameters: [{ name: "greeting", value: "hi-b" }] },
          },
        },
      }),
    );
    appNames.push("kust", "chart-a", "chart-b");
    await w.admin.create(
      appManifest("svc-00-notify", w.repo.url, "apps/svc-00", {
        namespace: "notify",
        annotations: {
          "notifications.argoproj.io/subscribe.on-deployed.slack": "deploys",
          "notifications.argoproj.io/subscribe.on-sync-succeeded.slack": "syncs;audit",
          "notifications.argoproj.io/subscribe.on-drift-detected.slack": "drift",
        },
      }),
    );
    await w.engine.start();
    await w.until(async () => {
      for (const name of appNames) {
        const s = (await w.app(name)).status;
        if (s?.sync?.status !== "Synced" || s.health?.status !== "Healthy") return false;
      }
      return true;
    }, 400_000);
  }, 90_000);

  afterAll(async () => {
    await w?.close();
  });

  it("syncs 20 Applications (directory, kustomize, helm) to Synced and Healthy", async () => {
    for (const name of appNames) {
      const app = await w.app(name);
      expect({ name, ...app.status }).toMatchObject({ name, ...SYNCED_HEALTHY });
    }
    const chartB = await w.admin.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "chart-b-cfg",
      namespace: "chart-b",
    });
    expect(chartB.data).toEqual({ greeting: "hi-b" });
    const kcfg = await w.admin.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "prod-kcfg",
      namespace: "kust",
    });
    expect(kcfg.metadata.annotations?.["argocd.argoproj.io/tracking-id"]).toBe(
      "kust:/ConfigMap:kust/prod-kcfg",
    );
    const finished = w.events.ofType("sync.finished") as SyncFinishedEvent[];
    expect(finished.filter((e) => e.phase === "Succeeded").length).toBeGreaterThanOrEqual(20);
    const first = finished.find((e) => e.app === "svc-00")!;
    expect(first).toMatchObject({
      author: "Ana Dev <ana@example.com>",
      reviewer: "Bo Rev <bo@example.com>",
      trigger: "automated",
    });
    const app = await w.app("svc-00");
    expect(app.status?.history?.[0]).toMatchObject({ id: 0, revision: first.revision });
  });

  it("detects a scale by another identity, reports fields and identity, and self-heals", async () => {
    const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "svc-01", namespace: "svc-01" };
    await w.user("alice").patch(ref, { spec: { replicas: 5 } }, "merge", { fieldManager: "kubectl-scale" });
    await w.until(() => w.events.ofType("drift.detected").some((e) => e.app === "svc-01"), 10_000);
    const drift = (w.events.ofType("drift.detected") as DriftDetectedEvent[]).find((e) => e.app === "svc-01");
    expect(drift).toMatchObject({
      resource: { group: "apps", kind: "Deployment", namespace: "svc-01", name: "svc-01" },
      identity: "alice",
      changes: [{ path: "spec.replicas", old: 2, new: 5 }],
    });
    await w.until(() => w.events.ofType("drift.healed").some((e) => e.app === "svc-01"), 30_000);
    const live = await w.admin.get(ref);
    expect((live.spec as { replicas: number }).replicas).toBe(2);
    expect(w.events.ofType("drift.healed").some((e) => (e as { app: string }).app === "svc-01")).toBe(true);
    const heal = (w.events.ofType("sync.finished") as SyncFinishedEvent[]).filter(
      (e) => e.app === "svc-01" && e.selfHeal,
    );
    expect(heal.length).toBeGreaterThan(0);
  });

  it("deploys a new commit at once on a push webhook, attributing it to the webhook", async () => {
    const sha = w.repo.commit(
      { "apps/svc-02/cm.yaml": cm("svc-02-config", { LOG_LEVEL: "debug" }) },
      "debug logs\n\nReviewed-by: Cy <cy@example.com>",
    );
    const refreshed = w.engine.deliverPush({
      ref: "refs/heads/main",
      after: sha,
      repository: { clone_url: `${w.repo.url}.git`, default_branch: "main" },
    });
    expect(refreshed).toContain("svc-02");
    expect(
      w.engine.deliverPush({
        ref: "refs/heads/feature",
        repository: { clone_url: w.repo.url, default_branch: "main" },
      }),
    ).toEqual([]);
    expect(
      w.engine.deliverPush({
        ref: "refs/heads/main",
        repository: { clone_url: "file:///elsewhere", default_branch: "main" },
      }),
    ).toEqual([]);
    await w.until(async () => (await w.app("svc-02")).status?.history?.at(-1)?.revision === sha, 20_000);
    const live = await w.admin.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "svc-02-config",
      namespace: "svc-02",
    });
    expect(live.data).toEqual({ LOG_LEVEL: "debug" });
    const fin = (w.events.ofType("sync.finished") as SyncFinishedEvent[]).filter(
      (e) => e.app === "svc-02" && e.revision === sha,
    );
    expect(fin).toHaveLength(1);
    expect(fin[0]).toMatchObject({
      trigger: "webhook",
      phase: "Succeeded",
      reviewer: "Cy <cy@example.com>",
      selfHeal: false,
    });
    expect(fin[0]!.changed).toEqual([
      { group: "", kind: "ConfigMap", namespace: "svc-02", name: "svc-02-config", status: "Synced" },
    ]);
    expect((await w.app("svc-02")).status?.history?.map((h) => h.revision).at(-1)).toBe(sha);
    // an app the push did not change keeps its history
    expect((await w.app("svc-04")).status?.history).toHaveLength(1);
  });

  it("a push with changed files refreshes the apps whose manifest-generate-paths it touched, and apps without one", async () => {
    const annotate = (name: string, paths: string) =>
      w.admin.patch(
        { apiVersion: "argoproj.io/v1alpha1", kind: "Application", name, namespace: "argocd" },
        { metadata: { annotations: { "argocd.argoproj.io/manifest-generate-paths": paths } } },
        "merge",
      );
    await annotate("svc-05", ".");
    await annotate("svc-06", "/apps/svc-05;.");
    await annotate("svc-07", "/shared");
    await w.run(1_000);
    const push = (...modified: string[]) =>
      w.engine.deliverPush({
        ref: "refs/heads/main",
        repository: { clone_url: w.repo.url, default_branch: "main" },
        commits: [{ id: "0".repeat(40), modified }],
      });
    const five = push("apps/svc-05/cm.yaml");
    expect(five).toEqual(expect.arrayContaining(["svc-05", "svc-06", "svc-08", "kust"]));
    expect(five).not.toContain("svc-07");
    const shared = push("shared/values.yaml", "apps/svc-06");
    expect(shared).toEqual(expect.arrayContaining(["svc-06", "svc-07", "svc-08"]));
    expect(shared).not.toContain("svc-05");
    // a sibling path that only starts like the prefix is not under it
    expect(push("apps/svc-05x/cm.yaml", "shared-2/x").filter((a) => /^svc-0[567]$/.test(a))).toEqual([]);
    await w.run(2_000);
  });

  it("prunes what left Git", async () => {
    const sha = w.repo.commit({ "apps/svc-03/svc.yaml": null }, "drop service");
    w.engine.deliverPush({
      ref: "refs/heads/main",
      after: sha,
      repository: { clone_url: w.repo.url, default_branch: "main" },
    });
    await w.until(
      async () =>
        (await w.app("svc-03")).status?.operationState?.syncResult?.revision === sha &&
        (await w.app("svc-03")).status?.operationState?.phase === "Succeeded",
      20_000,
    );
    await expect(
      w.admin.get({ apiVersion: "v1", kind: "Service", name: "svc-03", namespace: "svc-03" }),
    ).rejects.toMatchObject({ code: 404 });
    const fin = (w.events.ofType("sync.finished") as SyncFinishedEvent[]).find(
      (e) => e.app === "svc-03" && e.revision === sha,
    );
    expect(fin?.changed).toContainEqual({
      group: "",
      kind: "Service",
      namespace: "svc-03",
      name: "svc-03",
      status: "Pruned",
    });
    await w.until(async () => (await w.app("svc-03")).status?.sync?.status === "Synced", 10_000);
    expect((await w.app("svc-03")).status).toMatchObject(SYNCED_HEALTHY);
  });

  it("heals repeated drift with the upstream self-heal backoff (0, 2, 6 s after the previous sync)", async () => {
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "svc-05-config", namespace: "svc-05" };
    const gaps: number[] = [];
    const healedAt: number[] = [];
    const attempts: Array<number | undefined> = [];
    const startedAt = w.clock.now();
    for (let i = 0; i < 4; i++) {
      // edit again right after the previous heal: the next heal waits for the backoff
      await w
        .user("mallory")
        .patch(ref, { data: { LOG_LEVEL: `trace-${i}` } }, "merge", { fieldManager: "kubectl-edit" });
      await w.until(
        () =>
          w.events.ofType("drift.healed").filter((e) => e.app === "svc-05" && e.time >= startedAt).length > i,
        // a bound, not a wait: on a loaded machine a real-clock heal can take longer
        120_000,
      );
      expect((await w.admin.get(ref)).data).toEqual({ LOG_LEVEL: "info" });
      healedAt.push(w.clock.now());
      // the heal's operation records its self-heal attempt (upstream autoHealAttemptsCount)
      attempts.push((await w.app("svc-05")).status?.operationState?.operation.sync.autoHealAttemptsCount);
    }
    const mine = w.events.events.filter(
      (e) => (e as { app?: string }).app === "svc-05" && e.time >= startedAt,
    );
    // gaps between a self-heal sync's finish and the next self-heal's start
    let lastSelfHealFinish: number | undefined;
    for (const e of mine) {
      const selfHeal = (e as { selfHeal?: boolean }).selfHeal === true;
      if (e.type === "sync.started" && selfHeal && lastSelfHealFinish !== undefined)
        gaps.push(e.time - lastSelfHealFinish);
      if (e.type === "sync.finished") lastSelfHealFinish = selfHeal ? e.time : undefined;
    }
    const detected = (w.events.ofType("drift.detected") as DriftDetectedEvent[]).filter(
      (e) => e.app === "svc-05" && e.time >= startedAt,
    );
    expect(detected.map((d) => [d.identity, d.fieldManager, d.changes])).toEqual(
      [0, 1, 2, 3].map((i) => [
        "mallory",
        "kubectl-edit",
        [{ path: "data.LOG_LEVEL", old: "info", new: `trace-${i}` }],
      ]),
    );
    // drift is noticed at the edit; the heal waits for the backoff measured from the previous sync's finish
    // the first heal after a new revision is a regular auto-sync (counter reset); then 0, 2, 6 s
    expect(attempts.slice(-3)).toEqual([1, 2, 3]);
    if (transport === "in-process") {
      expect(gaps.slice(-2)).toEqual([2_000, 6_000]);
      expect(healedAt[3]! - healedAt[2]!).toBeGreaterThanOrEqual(6_000);
    } else {
      // real clock: the wait the recorded attempt calls for is a lower bound of the engine's own times (a
      // loaded machine adds to it; when the test polls and sees each heal is not the engine's to keep)
      expect(gaps.at(-2)).toBeGreaterThanOrEqual(selfHealDelayMs(attempts.at(-2)! - 1));
      expect(gaps.at(-1)).toBeGreaterThanOrEqual(selfHealDelayMs(attempts.at(-1)! - 1));
    }
    expect(
      w.events
        .ofType("drift.healed")
        .filter((e) => (e as { app: string }).app === "svc-05" && e.time >= startedAt),
    ).toHaveLength(4);
  });

  it("turns a render error into a ComparisonError condition without stopping other apps", async () => {
    w.repo.commit(
      { "apps/broken/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n" },
      "broken",
    );
    await w.admin.create(appManifest("broken", w.repo.url, "apps/broken", { namespace: "broken" }));
    const bad = appManifest("no-dest", w.repo.url, "apps/svc-00");
    delete (bad.spec as { destination?: unknown }).destination;
    await w.admin.create(bad);
    await w.until(
      async () =>
        (await w.app("no-dest")).status?.conditions?.length === 1 &&
        (await w.app("broken")).status?.conditions?.length === 1,
      10_000,
    );
    const broken = await w.app("broken");
    expect(broken.status?.sync?.status).toBe("Unknown");
    expect(broken.status?.conditions?.[0]).toMatchObject({
      type: "ComparisonError",
      message: expect.stringContaining("apps/broken/cm.yaml:5"),
    });
    expect((await w.app("no-dest")).status?.conditions?.[0]).toMatchObject({
      type: "InvalidSpecError",
      message: expect.stringContaining("spec.destination"),
    });
    expect((await w.app("svc-06")).status).toMatchObject(SYNCED_HEALTHY);
  });

  it("refuses rollback while automated sync is on", async () => {
    await expect(w.engine.rollback("svc-02", 0)).rejects.toMatchObject({
      code: "GTB_APP_ROLLBACK_AUTOSYNC",
      message: "rollback cannot be initiated when auto-sync is enabled",
    });
  });

  it("sends subscribed Slack notifications once, remembered in the annotation", async () => {
    const channels = w.notifier.sent.map((m) => m.channel).sort();
    expect(channels).toEqual(expect.arrayContaining(["audit", "deploys", "syncs"]));
    expect(w.notifier.sent.filter((m) => m.channel === "deploys")).toHaveLength(1);
    const msg = w.notifier.sent.find((m) => m.channel === "deploys")!;
    expect(msg.attachments?.[0]).toMatchObject({ color: "#18be52", title: "svc-00-notify" });
    const app = await w.app("svc-00-notify");
    expect(
      Object.keys(JSON.parse(app.metadata.annotations?.["notified.notifications.argoproj.io"] ?? "{}")),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/^on-deployed:[0-9a-f]{40}:slack:deploys$/)]));
    expect(w.events.ofType("notification.sent").length).toBe(w.notifier.sent.length);
  });

  it("runs hooks and waves in order: PreSync, wave -1, 0, 1, PostSync", async () => {
    const hook = (name: string, phase: string) =>
      `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ${name}\n  annotations:\n    argocd.argoproj.io/hook: ${phase}\n    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: x\n        image: busybox\n`;
    const wave = (n: number) => `  annotations:\n    argocd.argoproj.io/sync-wave: "${n}"\n`;
    const sha = w.repo.commit(
      {
        "apps/ordered/0-pre.yaml": hook("migrate", "PreSync"),
        "apps/ordered/1-cm.yaml": cm("ordered-config", { a: "1" }, wave(-1)),
        "apps/ordered/2-svc.yaml": svc("ordered"),
        "apps/ordered/3-deploy.yaml": deploy("ordered", 1, "info").replace(
          "metadata:\n  name: ordered\n",
          `metadata:\n  name: ordered\n${wave(1)}`,
        ),
        "apps/ordered/4-post.yaml": hook("smoke", "PostSync"),
      },
      "ordered app",
    );
    await w.admin.create(appManifest("ordered", w.repo.url, "apps/ordered", { namespace: "ordered" }));
    // simulated image pulls and container starts take tens of seconds
    await w.until(
      async () =>
        (await w.app("ordered")).status?.operationState?.phase === "Succeeded" &&
        (await w.app("ordered")).status?.health?.status === "Healthy",
      300_000,
    );
    const app = await w.app("ordered");
    expect(app.status).toMatchObject({
      ...SYNCED_HEALTHY,
      operationState: { phase: "Succeeded", syncResult: { revision: sha } },
    });
    const engineId = "system:serviceaccount:argocd:argocd-application-controller";
    const creates = (
      w.cluster.audit() as unknown as Array<{
        identity: string;
        verb: string;
        kind: string;
        name: string;
        namespace?: string;
        dryRun?: boolean;
        code: number;
      }>
    )
      .filter(
        (r) =>
          r.identity === engineId &&
          r.namespace === "ordered" &&
          r.dryRun !== true &&
          r.code < 300 &&
          r.verb !== "delete",
      )
      .map((r) => `${r.kind}/${r.name}`);
    const firstIndex = (k: string) => creates.indexOf(k);
    const order = [
      "Job/migrate",
      "ConfigMap/ordered-config",
      "Service/ordered",
      "Deployment/ordered",
      "Job/smoke",
    ].map(firstIndex);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const hooks = app.status?.operationState?.syncResult?.resources.filter((r) => r.hookType !== undefined);
    expect(hooks?.map((h) => [h.name, h.hookType, h.hookPhase])).toEqual([
      ["migrate", "PreSync", "Succeeded"],
      ["smoke", "PostSync", "Succeeded"],
    ]);
  });

  it("prints the audit trail (CLI) with deploy authors, drift writers and heals", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gtb-audit-"));
    const file = join(dir, "events.jsonl");
    writeFileSync(file, toJsonl(w.events.events));
    const lines = auditTrail(w.events.events, { app: "svc-01" });
    expect(
      lines.some((l) =>
        / svc-01 {2}deploy [0-9a-f]{7} Succeeded via automated .*author Ana Dev <ana@example.com>, reviewed-by Bo Rev/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(
      lines.some((l) =>
        l.includes("drift Deployment/svc-01/svc-01  spec.replicas 2 -> 5  by alice (kubectl-scale)"),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.includes("healed Deployment/svc-01/svc-01 by selfHeal"))).toBe(true);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      out.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main(["audit", "--events", file, "--app", "svc-01"])).toBe(0);
      expect(await main(["audit", "--events", join(dir, "missing.jsonl")])).toBe(2);
    } finally {
      process.stdout.write = write;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(out.join("").trimEnd().split("\n")).toEqual(lines);
  });
});
