/**
 * FaultyKubeClient against the embedded API server: injected errors carry a
 * kube-apiserver Status, 409 hits writes only, latency is spent on the virtual
 * clock, and a dropped watch makes an informer re-list so a change made while
 * it was disconnected is not missed. A person's kubectl (withPersonRetries)
 * waits out 429s and re-runs commands that failed with transient errors.
 */
import { describe, expect, it } from "vitest";
import { Informer } from "../../engine/kube/informer.ts";
import { KubeApiError, type KubeObject } from "../../engine/kube/types.ts";
import { SeededRng } from "../../simulator/clock/rng.ts";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { FaultyKubeClient, withPersonRetries } from "../../simulator/world/faulty-client.ts";

const cm = (name: string, v: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data: { v },
});
const ref = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", namespace: "default", name });

function setup() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 5));
  const cluster = new EmbeddedCluster({ clock, seed: "faulty" });
  const client = new FaultyKubeClient(cluster.adminClient("engine"), clock, new SeededRng("api"));
  return { clock, cluster, client };
}

async function caught(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  throw new Error("expected a KubeApiError");
}

describe("FaultyKubeClient", () => {
  it.each([
    [500, "InternalError"],
    [429, "TooManyRequests"],
    [409, "Conflict"],
  ] as const)("code %i: KubeApiError with reason %s", async (code, reason) => {
    const { client } = setup();
    await client.apply(cm("a", "1"), { fieldManager: "t" });
    client.setErrors({ code, ratio: 1 });
    const e = await caught(client.apply(cm("a", "2"), { fieldManager: "t" }));
    expect(e.status).toMatchObject({ kind: "Status", status: "Failure", code, reason });
    if (code === 429) expect(e.status.details?.retryAfterSeconds).toBe(1);
    client.setErrors(undefined);
    expect((await client.get(ref("a"))).data).toEqual({ v: "1" });
  });

  it("409 applies to writes only; ratio 0 fails nothing; service scope", async () => {
    const { client } = setup();
    await client.apply(cm("svc-1-config", "1"), { fieldManager: "t" });
    await client.apply(cm("other", "1"), { fieldManager: "t" });
    client.setErrors({ code: 409, ratio: 1 });
    await expect(client.get(ref("svc-1-config"))).resolves.toBeDefined();
    client.setErrors({ code: 500, ratio: 0 });
    await expect(client.get(ref("svc-1-config"))).resolves.toBeDefined();
    client.setErrors({ code: 500, ratio: 1, service: "svc-1" });
    await expect(client.get(ref("other"))).resolves.toBeDefined();
    expect((await caught(client.get(ref("svc-1-config")))).code).toBe(500);
  });

  it("ratio: about that share of requests fail, reproducibly", async () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const { client } = setup();
      await client.apply(cm("a", "1"), { fieldManager: "t" });
      client.setErrors({ code: 500, ratio: 0.3 });
      let failed = 0;
      for (let i = 0; i < 400; i++) await client.get(ref("a")).catch(() => failed++);
      counts.push(failed);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThan(80);
    expect(counts[0]).toBeLessThan(160);
  });

  it("latency is spent on the injected clock", async () => {
    const { clock, client } = setup();
    await client.apply(cm("a", "1"), { fieldManager: "t" });
    client.setLatency({ delayMs: 2_000 });
    const t0 = clock.now();
    let at = 0;
    const p = client.get(ref("a")).then(() => {
      at = clock.now();
    });
    await clock.runUntil(t0 + 10_000);
    await p;
    expect(at - t0).toBe(2_000);
  });

  it("a dropped watch makes an informer re-list: a change made while disconnected is seen", async () => {
    const { clock, cluster, client } = setup();
    const admin = cluster.adminClient("admin");
    await admin.apply(cm("a", "1"), { fieldManager: "t" });
    const inf = new Informer<KubeObject>(client, { apiVersion: "v1", kind: "ConfigMap" }, clock);
    const errors: string[] = [];
    inf.onError((e) => errors.push(e.kind));
    await inf.start();
    expect(client.openWatches).toBe(1);
    client.setErrors({ code: 500, ratio: 1 }); // the re-list fails until the API recovers
    expect(client.dropWatches()).toBe(1);
    await admin.apply(cm("a", "2"), { fieldManager: "t" });
    await clock.runUntil(clock.now() + 5_000);
    expect((inf.get("default", "a") as { data?: unknown }).data).toEqual({ v: "1" });
    client.setErrors(undefined);
    await clock.runUntil(clock.now() + 120_000);
    expect((inf.get("default", "a") as { data?: unknown }).data).toEqual({ v: "2" });
    expect(client.counts.watchesDropped).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
    inf.stop();
  });
});

/** Settle `p` while running the virtual clock; resolves to [outcome, clock ms it took]. */
async function timed(clock: VirtualClock, p: Promise<unknown>, limitMs: number) {
  const t0 = clock.now();
  let out: { ok: boolean; value: unknown; at: number } | undefined;
  p.then(
    (value) => (out = { ok: true, value, at: clock.now() }),
    (value) => (out = { ok: false, value, at: clock.now() }),
  );
  await clock.runUntil(t0 + limitMs);
  if (out === undefined) throw new Error(`still pending after ${limitMs} ms`);
  return { ...out, took: out.at - t0 };
}

describe("withPersonRetries (a person's kubectl)", () => {
  it.each([
    // code, fault cleared after (ms), expected success after (ms):
    // 429 every Retry-After (1 s); else re-runs after 30 s, then 60 s more, ...
    [429, 3_500, 4_000],
    [500, 45_000, 90_000],
    [409, 10_000, 30_000],
  ] as const)("%i until the API recovers at +%i ms: succeeds at +%i ms", async (code, clearAt, expected) => {
    const { clock, client } = setup();
    const person = withPersonRetries(client, clock);
    client.setErrors({ code, ratio: 1 });
    clock.setTimeout(() => client.setErrors(undefined), clearAt);
    const r = await timed(clock, person.apply(cm("a", "1"), { fieldManager: "kubectl" }), 600_000);
    expect(r.ok).toBe(true);
    expect(r.took).toBe(expected);
    expect((await client.get(ref("a"))).data).toEqual({ v: "1" });
  });

  it("gives up after its re-runs; other errors (404) are returned at once", async () => {
    const { clock, client } = setup();
    const person = withPersonRetries(client, clock, { reruns: 2, rerunDelayMs: 10_000 });
    client.setErrors({ code: 500, ratio: 1 });
    const failed = await timed(clock, person.get(ref("a")), 600_000);
    expect(failed.ok).toBe(false);
    expect((failed.value as KubeApiError).code).toBe(500);
    expect(failed.took).toBe(30_000);
    client.setErrors(undefined);
    const missing = await timed(clock, person.get(ref("missing")), 600_000);
    expect((missing.value as KubeApiError).code).toBe(404);
    expect(missing.took).toBe(0);
  });
});
