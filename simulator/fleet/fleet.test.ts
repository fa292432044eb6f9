import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createHelmRenderer, memoryFileTree } from "../../engine/render/helm/index.ts";
import { VirtualClock } from "../clock/virtual.ts";
import { TrafficModel } from "../traffic/model.ts";
import {
  analysisFiles,
  applicationObject,
  applicationYaml,
  chartFiles,
  fleetFiles,
  generateFleet,
  plainScalar,
  releaseChange,
  setValues,
  trafficSpec,
} from "./index.ts";

describe("generateFleet", () => {
  it("is a pure function of the seed", () => {
    expect(generateFleet({ seed: 42 })).toEqual(generateFleet({ seed: 42 }));
    expect(generateFleet({ seed: 43 }).services.map((s) => s.name)).not.toEqual(
      generateFleet({ seed: 42 }).services.map((s) => s.name),
    );
  });

  it("201 services keep the first 200 identical", () => {
    const a = generateFleet({ seed: 9, services: 200 });
    const b = generateFleet({ seed: 9, services: 201 });
    expect(b.services.slice(0, 200)).toEqual(a.services);
    expect(b.services).toHaveLength(201);
  });

  it("names are unique DNS-1123 labels; tiers follow 30/45/25; rates, replicas and SLOs in range", () => {
    const f = generateFleet({ seed: 1 });
    const names = f.services.map((s) => s.name);
    expect(new Set(names).size).toBe(200);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const count = (t: string) => f.services.filter((s) => s.tier === t).length;
    expect(count("internal")).toBeGreaterThanOrEqual(59);
    expect(count("internal")).toBeLessThanOrEqual(61);
    expect(count("tier-2")).toBeGreaterThanOrEqual(89);
    expect(count("tier-2")).toBeLessThanOrEqual(91);
    expect(count("tier-1")).toBeGreaterThanOrEqual(49);
    expect(count("tier-1")).toBeLessThanOrEqual(51);
    for (const s of f.services) {
      expect(s.rps).toBeGreaterThanOrEqual(1);
      expect(s.rps).toBeLessThanOrEqual(2000);
      expect(s.replicas).toBeGreaterThanOrEqual(2);
      expect(s.replicas).toBeLessThanOrEqual(10);
      expect(s.slo).toEqual({ errorRate: 0.005, p99Ms: 500 });
      expect(s.image.repository).toBe(`registry.example.com/${s.team}/${s.name}`);
      expect(s.image.tag).toMatch(/^\d+\.\d+\.\d+$/);
    }
    // log-uniform: about as many services below 45 rps (the geometric middle) as above
    const low = f.services.filter((s) => s.rps < Math.sqrt(2000)).length;
    expect(low).toBeGreaterThan(70);
    expect(low).toBeLessThan(130);
    // replicas grow with the rate
    const byRate = [...f.services].sort((a, b) => a.rps - b.rps);
    expect(byRate[0]!.replicas).toBeLessThan(byRate[199]!.replicas);
  });

  it("rejects a bad size with a coded error", () => {
    expect(() => generateFleet({ seed: 1, services: 0 })).toThrow(
      expect.objectContaining({ code: "GTB_FLEET_BAD_SIZE" }),
    );
  });

  it("registers with the traffic model", () => {
    const f = generateFleet({ seed: 1, services: 5 });
    const traffic = new TrafficModel({ clock: new VirtualClock(), seed: 1 });
    for (const s of f.services) traffic.addService(trafficSpec(s));
    expect(
      traffic
        .services()
        .map((s) => s.service)
        .sort(),
    ).toEqual(f.services.map((s) => s.name).sort());
  });
});

describe("monorepo files", () => {
  const fleet = generateFleet({ seed: 5, services: 3 });
  const files = fleetFiles(fleet);
  const s = fleet.services[0]!;

  it("lays out charts, Applications and analysis templates", () => {
    const dir = `charts/${s.name}`;
    for (const f of [
      "Chart.yaml",
      "values.yaml",
      "values-staging.yaml",
      "values-production.yaml",
      "templates/_helpers.tpl",
      "templates/rollout.yaml",
      "templates/service.yaml",
      "templates/configmap.yaml",
      "templates/hpa.yaml",
    ]) {
      expect(files[`${dir}/${f}`], f).toBeDefined();
    }
    const app = parse(files[`apps/${s.name}.yaml`]!);
    expect(app.kind).toBe("Application");
    expect(app.spec.source.path).toBe(dir);
    expect(app.spec.source.helm.valueFiles).toEqual(["values-production.yaml"]);
    expect(app.spec.destination.namespace).toBe(s.namespace);
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it("writes each values file and Application as the YAML library writes it, whatever the service", () => {
    const ok = (text: string) => expect(stringify(parse(text), { lineWidth: 0 })).toBe(text);
    for (const seed of [1, 2, 3, 5, 8]) {
      const fleet = generateFleet({ seed, services: 120 });
      for (const s of fleet.services) {
        const f = chartFiles(s);
        for (const name of ["values.yaml", "values-production.yaml", "values-staging.yaml", "Chart.yaml"])
          ok(f[`charts/${s.name}/${name}`]!);
        const values = parse(f[`charts/${s.name}/values.yaml`]!);
        expect(values).toMatchObject({
          team: s.team,
          tier: s.tier,
          replicaCount: s.replicas,
          image: { repository: s.image.repository, tag: s.image.tag },
          env: { SERVICE_NAME: s.name },
          slo: { errorRate: s.slo.errorRate, p99Seconds: s.slo.p99Ms / 1000 },
        });
        const app = applicationYaml(s, { repoURL: "git@example.com:x/y.git", argocdNamespace: "cd" });
        ok(app);
        expect(applicationObject(s, { repoURL: "git@example.com:x/y.git", argocdNamespace: "cd" })).toEqual(
          parse(app),
        );
        expect(parse(app)).toMatchObject({
          metadata: { name: s.name, namespace: "cd", labels: { team: s.team, tier: s.tier } },
          spec: { source: { repoURL: "git@example.com:x/y.git", path: `charts/${s.name}` } },
        });
      }
    }
    // leaves YAML would quote (a number-like tag, a string that reads as a bool) are written as YAML does
    const odd = { ...generateFleet({ seed: 1, services: 1 }).services[0]! };
    for (const tag of ["2.0", "1e3", "true", "0x1F", "v1 beta", ""]) {
      const s = { ...odd, image: { ...odd.image, tag }, team: tag === "" ? "null" : odd.team };
      const text = chartFiles(s)[`charts/${s.name}/values.yaml`]!;
      ok(text);
      expect(parse(text).image.tag).toBe(tag);
      expect(parse(text).team).toBe(s.team);
    }
  });

  it.each([
    ["1.4.2", "1.4.2"],
    ["v2-rc.1", "v2-rc.1"],
    ["registry.example.com/a/b", "registry.example.com/a/b"],
    ["550m", "550m"],
    [3, "3"],
    [0.005, "0.005"],
    ["2.0", undefined],
    ["1e3", undefined],
    ["0x1F", undefined],
    ["True", undefined],
    ["null", undefined],
    ["", undefined],
    ["a: b", undefined],
    ["-x", undefined],
    [Number.NaN, undefined],
  ] as const)("plainScalar(%j) = %j, as the YAML library writes it", (v, want) => {
    expect(plainScalar(v)).toBe(want);
    if (want !== undefined) expect(stringify({ k: v }, { lineWidth: 0 })).toBe(`k: ${want}\n`);
  });

  it("setValues merges into a values file, keeps the rest, null deletes", () => {
    const text = "# prod\nreplicaCount: 3\nenv:\n  LOG_LEVEL: info\n";
    const out = setValues(text, { image: { tag: "1.2.3" }, env: { LOG_LEVEL: null, DEBUG: "1" } });
    expect(out.startsWith("# prod\n")).toBe(true);
    expect(parse(out)).toEqual({ replicaCount: 3, env: { DEBUG: "1" }, image: { tag: "1.2.3" } });
  });

  it("analysis templates carry the case study's thresholds, windows and schedule", () => {
    const er = parse(analysisFiles()["analysis/error-rate.yaml"]!);
    const p99 = parse(analysisFiles()["analysis/p99-latency.yaml"]!);
    for (const t of [er, p99]) {
      expect(t.kind).toBe("ClusterAnalysisTemplate");
      expect(t.spec.args.map((a: { name: string }) => a.name)).toEqual([
        "service-name",
        "namespace",
        "canary-hash",
      ]);
      const m = t.spec.metrics[0];
      expect(m.interval).toBe("60s");
      expect(m.count).toBe(10);
      expect(m.provider.prometheus.query).toContain('rollouts_pod_template_hash="{{args.canary-hash}}"');
      expect(m.provider.prometheus.query).toContain("[5m]");
    }
    expect(er.spec.metrics[0].successCondition).toContain("result[0] < 0.005");
    expect(p99.spec.metrics[0].successCondition).toContain("result[0] < 0.5");
    expect(p99.spec.metrics[0].provider.prometheus.query).toContain("histogram_quantile(0.99, sum by (le)");
  });

  it("renders with the Helm renderer: Rollout with the case study's canary, stable + canary Services, ConfigMap", async () => {
    const render = (valueFiles: string[]) =>
      createHelmRenderer().render({
        tree: memoryFileTree(files),
        path: `charts/${s.name}`,
        helm: { valueFiles },
        appName: s.name,
        namespace: s.namespace,
      });
    const prod = await render(["values-production.yaml"]);
    const kinds = prod.map((m) => `${m.object.kind}/${m.object.metadata?.name}`).sort();
    expect(kinds).toEqual([
      `ConfigMap/${s.name}-config`,
      `Rollout/${s.name}`,
      `Service/${s.name}`,
      `Service/${s.name}-canary`,
    ]);
    const rollout = prod.find((m) => m.object.kind === "Rollout")!.object as unknown as {
      spec: {
        replicas: number;
        template: {
          spec: { containers: Array<{ image: string }> };
          metadata: { annotations: Record<string, string> };
        };
        strategy: { canary: { steps: unknown[]; analysis: { templates: Array<{ templateName: string }> } } };
      };
    };
    expect(rollout.spec.replicas).toBe(s.replicas);
    expect(rollout.spec.template.spec.containers[0]!.image).toBe(`${s.image.repository}:${s.image.tag}`);
    expect(rollout.spec.template.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    expect(rollout.spec.strategy.canary.steps[0]).toEqual({ setWeight: 5 });
    expect(rollout.spec.strategy.canary.steps[1]).toEqual({ pause: { duration: "10m" } });
    expect(rollout.spec.strategy.canary.analysis.templates.map((t) => t.templateName)).toEqual([
      "error-rate",
      "p99-latency",
    ]);
    // a release pins the production image tag; the layered values win over values.yaml
    const path = `charts/${s.name}/values-production.yaml`;
    const released = { ...files, ...releaseChange(s, files[path]!, "9.9.9") };
    const out = await createHelmRenderer().render({
      tree: memoryFileTree(released),
      path: `charts/${s.name}`,
      helm: { valueFiles: ["values-production.yaml"] },
      appName: s.name,
      namespace: s.namespace,
    });
    const image = (out.find((m) => m.object.kind === "Rollout")!.object as unknown as typeof rollout).spec
      .template.spec.containers[0]!.image;
    expect(image).toBe(`${s.image.repository}:9.9.9`);
    const staging = await render(["values-staging.yaml"]);
    const stRollout = staging.find((m) => m.object.kind === "Rollout")!.object as unknown as {
      spec: { replicas: number };
    };
    expect(stRollout.spec.replicas).toBe(1);
  });
});
