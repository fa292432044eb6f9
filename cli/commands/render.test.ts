import { describe, expect, it } from "vitest";
import { runCli } from "../testing.ts";

const run = runCli;

describe("gitops-testbed render", () => {
  it("prints helm template output with --set and --release", async () => {
    const r = await run([
      "render",
      "fixtures/charts/helm-create/chart",
      "--release",
      "demo",
      "--set",
      "replicaCount=4,service.port=9090",
    ]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith("---\n# Source: mychart/templates/serviceaccount.yaml\n")).toBe(true);
    expect(r.out).toContain("  replicas: 4\n");
    expect(r.out).toContain("args: ['demo-mychart:9090']");
  });

  it("exits 2 naming file, line and column when a template fails", async () => {
    const r = await run([
      "render",
      "fixtures/charts/helm-create/chart",
      "--set",
      "serviceAccount.create=false,ingress.enabled=true,ingress.hosts[0].paths[0]=oops",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /error GTB_RENDER_HELM_EXECUTION: template: mychart\/templates\/ingress\.yaml:\d+:\d+: .*can't evaluate field path in type string/,
    );
    expect(r.err).toMatch(/at templates\/ingress\.yaml:\d+:\d+/);
  });
});
