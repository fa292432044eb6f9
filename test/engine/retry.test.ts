/** Failed automated syncs: retry with the default backoff, then a SyncError condition and no retry of the same revision. */
import { afterAll, describe, expect, it } from "vitest";
import { appManifest, cm, makeWorld, type World } from "./harness.ts";

describe("automated sync failures (in-process, virtual time)", () => {
  let w: World;
  afterAll(async () => {
    await w?.close();
  });

  it("retries 5 times (5, 10, 20, 40, 80 s), then reports SyncError and stops until a new revision", async () => {
    w = await makeWorld();
    w.repo.commit({
      "bad/cm.yaml": cm("ok", { a: "1" }),
      "bad/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    });
    await w.admin.create(appManifest("bad", w.repo.url, "bad", { namespace: "bad" }));
    await w.engine.start();
    await w.run(400_000);
    const finished = w.events.ofType("sync.finished").filter((e) => e.app === "bad");
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ phase: "Failed", retryCount: 5 });
    expect(finished[0]!.time - finished[0]!.startedAt).toBeGreaterThanOrEqual(155_000);
    const app = await w.app("bad");
    expect(app.status?.operationState).toMatchObject({ phase: "Failed", retryCount: 5 });
    expect(app.status?.conditions).toEqual([
      { type: "SyncError", message: expect.stringMatching(/^Failed last sync attempt to [0-9a-f]{40}: /) },
    ]);
    // the same revision is not retried
    await w.run(600_000);
    expect(w.events.ofType("sync.started").filter((e) => e.app === "bad")).toHaveLength(1);
    // a fix in Git is synced
    const sha = w.repo.commit({ "bad/widget.yaml": null }, "drop widget");
    w.engine.deliverPush({
      ref: "refs/heads/main",
      after: sha,
      repository: { clone_url: w.repo.url, default_branch: "main" },
    });
    await w.until(async () => (await w.app("bad")).status?.operationState?.phase === "Succeeded", 60_000);
    expect((await w.app("bad")).status).toMatchObject({
      sync: { status: "Synced", revision: sha },
      conditions: [],
    });
  }, 60_000);
});
