/**
 * Live mode acceptance: the bad-canary scenario run through the CLI with
 * `--mode live --time-scale 120` (engine, rollouts, controllers and traffic
 * binder over HTTPS against the served embedded cluster, analysis over the
 * Prometheus HTTP API, scaled wall clock) reaches the same verdicts as in
 * virtual time. Times may differ slightly; outcomes may not.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../cli/main.ts";

const SCENARIO = "test/live/bad-canary.yaml";

interface Ev {
  type: string;
  service?: string;
  deployId?: string;
  verdict?: string;
  outcome?: string;
  bad?: boolean;
  metric?: string;
}

async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    const code = await main(args);
    return { code, out };
  } finally {
    o.mockRestore();
    process.exitCode = undefined;
  }
}

/** What must agree between the clocks: each verdict and each deploy outcome, in order. */
function outcomes(events: Ev[]): { verdicts: string[]; deploys: string[] } {
  return {
    verdicts: events
      .filter((e) => e.type === "canary.verdict")
      .map((e) => `${e.service} ${e.deployId} ${e.verdict} bad=${e.bad} ${e.metric ?? ""}`),
    deploys: events
      .filter((e) => e.type === "deploy.finished")
      .map((e) => `${e.service} ${e.deployId} ${e.outcome}`),
  };
}

describe("run --mode live", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function run(extra: string[]): Promise<Ev[]> {
    const out = await mkdtemp(join(tmpdir(), "gtb-live-"));
    dirs.push(out);
    const r = await runCli(["run", SCENARIO, "--quiet", "--out", out, ...extra]);
    expect(r.code, r.out).toBe(0);
    const text = await readFile(join(out, "events.jsonl"), "utf8");
    return text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Ev);
  }

  it("a bad canary is aborted by analysis in live mode (x120) exactly as in virtual time", async () => {
    const virtual = outcomes(await run([]));
    // the scenario is not trivially empty: the bad version is caught by the canary
    expect(virtual.verdicts).toEqual([
      expect.stringMatching(/^svc-1 svc-1\/d1 aborted bad=true error-rate$/),
    ]);
    expect(virtual.deploys).toEqual(["svc-1 svc-1/d1 aborted"]);
    const live = outcomes(await run(["--mode", "live", "--time-scale", "120"]));
    expect(live).toEqual(virtual);
  }, 120_000);

  it.each([
    [["--mode", "live", "--time-scale", "0"], /--time-scale must be a number > 0/],
    [["--mode", "live", "--cluster", "minikube"], /--cluster must be one of embedded \| kind \| k3s/],
    [["--cluster", "k3s"], /--cluster k3s needs --mode live/],
    [["--mode", "replay"], /--mode must be virtual or live/],
  ])("bad input %j exits 2", async (extra, msg) => {
    let err = "";
    const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      err += String(s);
      return true;
    });
    try {
      const r = await runCli([
        "run",
        SCENARIO,
        "--quiet",
        "--out",
        join(tmpdir(), "gtb-live-unused"),
        ...extra,
      ]);
      expect(r.code).toBe(2);
      expect(err).toMatch(msg);
    } finally {
      e.mockRestore();
    }
  });
});
