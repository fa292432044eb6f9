/**
 * client-go's Retry-After retries at the port, against the embedded API server (in-process),
 * with a front that answers the first N calls with an error, in virtual time.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { retryingClient, withClientGoRetries } from "./retry.ts";
import { KubeApiError, type KubeClient, type KubeStatus } from "./types.ts";

let clock: VirtualClock;
let cluster: EmbeddedCluster;
let admin: KubeClient;

beforeEach(async () => {
  clock = new VirtualClock();
  cluster = new EmbeddedCluster({ clock });
  admin = cluster.adminClient();
  await admin.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" } });
});
afterEach(async () => {
  await cluster.close();
});

function status(code: number, retryAfterSeconds?: number): KubeStatus {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `injected ${code}`,
    reason: code === 429 ? "TooManyRequests" : "InternalError",
    code,
    ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
  };
}

/** The real client, whose first `failures` calls fail with `s`. */
function failingFirst(failures: number, s: KubeStatus): { client: KubeClient; calls: () => number } {
  let calls = 0;
  const client = retryingClient(admin, async (call) => {
    calls++;
    if (calls <= failures) throw new KubeApiError(s);
    return call();
  });
  return { client, calls: () => calls };
}

const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "cm" };

describe("withClientGoRetries", () => {
  const cases: Array<{
    name: string;
    failures: number;
    s: KubeStatus;
    ok: boolean;
    calls: number;
    waitedMs: number;
  }> = [
    {
      name: "429 with Retry-After 2s, three times",
      failures: 3,
      s: status(429, 2),
      ok: true,
      calls: 4,
      waitedMs: 6000,
    },
    { name: "503 with Retry-After 1s", failures: 1, s: status(503, 1), ok: true, calls: 2, waitedMs: 1000 },
    {
      name: "429 ten times: the tenth retry succeeds",
      failures: 10,
      s: status(429, 1),
      ok: true,
      calls: 11,
      waitedMs: 10_000,
    },
    {
      name: "429 eleven times: gives up after ten retries",
      failures: 11,
      s: status(429, 1),
      ok: false,
      calls: 11,
      waitedMs: 10_000,
    },
    {
      name: "500 without Retry-After: returned at once",
      failures: 1,
      s: status(500),
      ok: false,
      calls: 1,
      waitedMs: 0,
    },
    {
      name: "409 with Retry-After is not a 429/5xx: returned at once",
      failures: 1,
      s: { ...status(409, 1), reason: "Conflict" },
      ok: false,
      calls: 1,
      waitedMs: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { client, calls } = failingFirst(c.failures, c.s);
      const t0 = clock.now();
      const p = withClientGoRetries(client, clock).get(ref);
      let at = Number.NaN;
      const settled = p.then(
        (o) => {
          at = clock.now();
          return { ok: true, name: o.metadata.name };
        },
        (e: unknown) => {
          at = clock.now();
          return { ok: false, code: (e as KubeApiError).code };
        },
      );
      await clock.runFor(60_000);
      const r = await settled;
      expect(r.ok).toBe(c.ok);
      if (c.ok) expect(r).toEqual({ ok: true, name: "cm" });
      else expect(r).toEqual({ ok: false, code: c.s.code });
      expect(calls()).toBe(c.calls);
      // it waited exactly what the server asked for, on the injected clock
      expect(at - t0).toBe(c.waitedMs);
    });
  }
});
