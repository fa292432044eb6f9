/** `cluster serve` input errors: clear GtbErrors, exit code 2. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { main } from "../main.ts";

const dir = mkdtempSync(join(tmpdir(), "gtb-serve-"));

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(args), stderr };
  } finally {
    spy.mockRestore();
  }
}

describe("gitops-testbed cluster serve", () => {
  it("rejects a bad users file with exit 2 and the field path", async () => {
    const users = join(dir, "users.yaml");
    writeFileSync(users, "users:\n  - name: alice\n");
    const r = await run(["cluster", "serve", "--port", "0", "--users", users]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error GTB_CLUSTER_USERS_INVALID: token must be a non-empty string");
    expect(r.stderr).toContain(`at ${users} users[0].token`);
  });

  it("rejects a port in use with exit 2", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(["cluster", "serve", "--port", String(port), "--kubeconfig", join(dir, "kc")]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("error GTB_PORT_IN_USE");
    } finally {
      blocker.close();
    }
  });

  it("rejects an unwritable kubeconfig path with exit 2", async () => {
    const notADir = join(dir, "file");
    writeFileSync(notADir, "x");
    const r = await run(["cluster", "serve", "--port", "0", "--kubeconfig", join(notADir, "kubeconfig")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error GTB_KUBECONFIG_UNWRITABLE");
  });
});
