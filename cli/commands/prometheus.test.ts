import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../main.ts";

const SERIES = join(import.meta.dirname, "../../fixtures/promql/series/slo.yaml");

function capture(): { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  return { out: () => out, err: () => err };
}

describe("gitops-testbed prometheus", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it("query prints the API envelope", async () => {
    const c = capture();
    const code = await main([
      "prometheus",
      "query",
      "--series",
      SERIES,
      "--time",
      "600",
      'count(http_requests_total{service="checkout"})',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(c.out())).toEqual({
      status: "success",
      data: { resultType: "vector", result: [{ metric: {}, value: [600, "3"] }] },
    });
  });

  it("a bad query exits 2 with a bad_data envelope", async () => {
    const c = capture();
    const code = await main(["prometheus", "query", "--series", SERIES, "sum("]);
    expect(code).toBe(2);
    expect(JSON.parse(c.out())).toMatchObject({ status: "error", errorType: "bad_data" });
  });

  it("a missing series file is a GtbError with exit 2", async () => {
    const c = capture();
    const code = await main(["prometheus", "serve", "--series", "/nonexistent/series.yaml", "--port", "0"]);
    expect(code).toBe(2);
    expect(c.err()).toMatch(/GTB_SERIES_FILE_UNREADABLE/);
  });

  it("serve prints the URL when ready, answers, and stops cleanly on SIGTERM", async () => {
    const bin = join(import.meta.dirname, "../../bin/gitops-testbed.js");
    const child = spawn(process.execPath, [bin, "prometheus", "serve", "--series", SERIES, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = "";
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          const m = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${buf}`)));
      });
      const res = await fetch(`${url}/api/v1/query?query=count(service_owner)&time=60`);
      expect(await res.json()).toEqual({
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [60, "3"] }] },
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
