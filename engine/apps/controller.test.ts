/**
 * The Application controller against the embedded cluster, in-process in virtual time and over HTTPS:
 * a deleted managed resource is drift (OutOfSync, health Missing) that self-heal re-creates; drift
 * made while the controller was stopped is detected and healed when it starts again; a reconcile
 * whose inputs did not change reuses the last comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appManifest, cm, deploy, makeWorld, svc, type World } from "../../test/engine/harness.ts";
import type { DriftDetectedEvent, DriftHealedEvent, SyncStartedEvent } from "./events.ts";

const APPS = ["heal", "watch"] as const;

describe.each(["in-process", "https"] as const)("Application controller (%s)", (transport) => {
  let w: World;

  const drifts = (app: string, since: number) =>
    (w.events.ofType("drift.detected") as DriftDetectedEvent[]).filter(
      (e) => e.app === app && e.time >= since,
    );
  const heals = (app: string, since: number) =>
    (w.events.ofType("drift.healed") as DriftHealedEvent[]).filter((e) => e.app === app && e.time >= since);
  const exists = (ref: { apiVersion: string; kind: string; name: string; namespace: string }) =>
    w.admin.get(ref).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    w = await makeWorld({ transport });
    const files: Record<string, string> = {};
    for (const name of APPS) {
      files[`apps/${name}/cm.yaml`] = cm(`${name}-config`, { LOG_LEVEL: "info" });
      files[`apps/${name}/svc.yaml`] = svc(name);
      files[`apps/${name}/deploy.yaml`] = deploy(name, 1, "info");
    }
    w.repo.commit(files, "two apps");
    await w.admin.create(appManifest("heal", w.repo.url, "apps/heal", { namespace: "heal" }));
    await w.admin.create(
      appManifest("watch", w.repo.url, "apps/watch", { namespace: "watch", selfHeal: false }),
    );
    await w.engine.start();
    const settled = await w.until(async () => {
      for (const name of APPS) {
        const s = (await w.app(name)).status;
        if (s?.sync?.status !== "Synced" || s.health?.status !== "Healthy") return false;
      }
      return true;
    }, 120_000);
    expect(settled).toBe(true);
  }, 90_000);

  afterAll(async () => {
    await w?.close();
  });

  it("reports a deleted resource as OutOfSync / Missing, naming who deleted it (no self-heal)", async () => {
    const since = w.clock.now();
    const ref = { apiVersion: "v1", kind: "Service", name: "watch", namespace: "watch" };
    await w.user("bob").delete(ref);
    expect(await w.until(() => drifts("watch", since).length > 0, 10_000)).toBe(true);
    expect(drifts("watch", since)).toEqual([
      expect.objectContaining({
        resource: { group: "", kind: "Service", namespace: "watch", name: "watch" },
        deleted: true,
        changes: [],
        identity: "bob",
      }),
    ]);
    expect(
      await w.until(async () => (await w.app("watch")).status?.sync?.status === "OutOfSync", 10_000),
    ).toBe(true);
    const status = (await w.app("watch")).status;
    expect(status?.resources?.find((r) => r.kind === "Service")).toMatchObject({
      status: "OutOfSync",
      health: { status: "Missing" },
    });
    expect(status?.health?.status).toBe("Missing");
    await w.run(5_000);
    expect(await exists(ref)).toBe(false);
  });

  it("re-creates a deleted resource with self-heal and reports the heal", async () => {
    const since = w.clock.now();
    const ref = { apiVersion: "v1", kind: "Service", name: "heal", namespace: "heal" };
    await w.user("mallory").delete(ref);
    expect(await w.until(() => heals("heal", since).length > 0, 30_000)).toBe(true);
    expect(drifts("heal", since)).toEqual([expect.objectContaining({ deleted: true, identity: "mallory" })]);
    expect(heals("heal", since)[0]).toMatchObject({
      by: "selfHeal",
      resource: { kind: "Service", name: "heal" },
    });
    expect(await exists(ref)).toBe(true);
    expect(await w.until(async () => (await w.app("heal")).status?.sync?.status === "Synced", 10_000)).toBe(
      true,
    );
  });

  it("after a restart, detects and self-heals drift made while the controller was stopped", async () => {
    const historyBefore = (await w.app("heal")).status?.history?.length ?? 0;
    expect(historyBefore).toBeGreaterThan(0);
    await w.engine.stop();
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "heal-config", namespace: "heal" };
    await w
      .user("eve")
      .patch(ref, { data: { LOG_LEVEL: "trace" } }, "merge", { fieldManager: "kubectl-edit" });
    await w.run(2_000);
    const since = w.clock.now();
    await w.engine.start();
    expect(await w.until(() => heals("heal", since).length > 0, 30_000)).toBe(true);
    expect(drifts("heal", since)).toEqual([
      expect.objectContaining({
        resource: { group: "", kind: "ConfigMap", namespace: "heal", name: "heal-config" },
        identity: "eve",
        changes: [{ path: "data.LOG_LEVEL", old: "info", new: "trace" }],
      }),
    ]);
    expect((await w.admin.get(ref)).data).toEqual({ LOG_LEVEL: "info" });
    // the restored last operation makes it a self-heal of that resource, not a new full sync
    const started = (w.events.ofType("sync.started") as SyncStartedEvent[]).filter(
      (e) => e.app === "heal" && e.time >= since,
    );
    expect(started.map((e) => [e.selfHeal, e.resources.map((r) => r.name)])).toEqual([
      [true, ["heal-config"]],
    ]);
    expect((await w.app("heal")).status?.history?.length).toBe(historyBefore);
    // the other app had no drift while down: nothing reported, nothing synced
    expect(drifts("watch", since)).toEqual([]);
  });

  it("reuses the last comparison when nothing it depends on changed", async () => {
    await w.run(2_000);
    await w.engine.idle();
    const c = w.engine.controller;
    const before = c.comparisons;
    c.refresh("watch");
    await w.engine.idle();
    await w.run(1_000);
    expect(c.comparisons).toBe(before);
    await w
      .user("bob")
      .patch(
        { apiVersion: "v1", kind: "ConfigMap", name: "watch-config", namespace: "watch" },
        { data: { x: "y" } },
        "merge",
      );
    await w.until(() => c.comparisons > before, 10_000);
    expect(c.comparisons).toBeGreaterThan(before);
  });

  // virtual time only: a sync's applies land in one instant of the clock
  if (transport === "in-process")
    it("refreshes once after a sync whose applies land in one instant, not once per applied object", async () => {
      await w.run(5_000);
      await w.engine.idle();
      const c = w.engine.controller;
      const before = c.reconciles;
      const rev = w.repo.commit(
        {
          "apps/watch/cm.yaml": cm("watch-config", { LOG_LEVEL: "debug", x: "z" }),
          "apps/watch/svc.yaml": svc("watch").replace("port: 80\n", "port: 81\n"),
        },
        "watch: new config and port",
      );
      c.refresh("watch");
      await w.engine.idle();
      const app = await w.app("watch");
      expect(app.status?.sync).toMatchObject({ status: "Synced", revision: rev });
      expect(app.status?.operationState).toMatchObject({ phase: "Succeeded" });
      expect(app.status?.resources?.filter((r) => r.status !== "Synced")).toEqual([]);
      // the refresh that started the sync, one for the two objects it changed (before its result is
      // written), one after the result
      expect(c.reconciles - before).toBe(3);
    });

  it("compares a revision that left the app's directory alone without diffing it again", async () => {
    const c = w.engine.controller;
    // let the earlier tests' changes settle (live objects still changing are compared again)
    let before = -1;
    for (let i = 0; i < 20 && before !== c.comparisons; i++) {
      before = c.comparisons;
      await w.run(5_000);
      await w.engine.idle();
    }
    const rev = w.repo.commit({ "apps/other/cm.yaml": cm("other-config", { a: "b" }) }, "another app");
    c.refresh("heal");
    expect(await w.until(async () => (await w.app("heal")).status?.sync?.revision === rev, 10_000)).toBe(
      true,
    );
    expect(c.comparisons).toBe(before);
  });
});
