/**
 * Helm renderer throughput: 200 fleet charts (Rollout, 2 Services, ConfigMap, HPA, helpers)
 * x 3 environments rendered through the Renderer port from an in-memory tree.
 * Target: all 600 renders in < 2 s (parsed templates cached by content hash).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHelmRenderer, memoryFileTree } from "../engine/render/helm/index.ts";
import { percentile, report } from "./report.ts";

const CHARTS = 200;
const ENVS = ["dev", "staging", "prod"] as const;

function fleetTree(): ReturnType<typeof memoryFileTree> {
  const src = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/charts/fleet-service/chart");
  const templates: Record<string, string> = {};
  for (const f of readdirSync(join(src, "templates")))
    templates[f] = readFileSync(join(src, "templates", f), "utf8");
  const values = readFileSync(join(src, "values.yaml"), "utf8");
  const files: Record<string, string> = {};
  for (let i = 0; i < CHARTS; i++) {
    const name = `svc-${String(i).padStart(3, "0")}`;
    const dir = `charts/${name}`;
    files[`${dir}/Chart.yaml`] =
      `apiVersion: v2\nname: ${name}\nversion: 1.${i % 7}.0\nappVersion: "2.${i}.0"\n`;
    files[`${dir}/values.yaml`] = values.replace("team: core", `team: team-${i % 12}`);
    for (const [f, text] of Object.entries(templates)) files[`${dir}/templates/${f}`] = text;
    files[`${dir}/values-dev.yaml`] = "replicas: 1\nlogLevel: debug\n";
    files[`${dir}/values-staging.yaml`] = `replicas: 2\nconfig:\n  TIMEOUT_MS: ${1000 + i}\n`;
    files[`${dir}/values-prod.yaml`] =
      `replicas: ${3 + (i % 5)}\nautoscaling:\n  enabled: ${i % 2 === 0}\n  max: ${10 + (i % 20)}\nimage:\n  tag: 2.${i}.1\n`;
  }
  return memoryFileTree(files);
}

export async function run(): Promise<void> {
  const tree = fleetTree();
  const renderer = createHelmRenderer();
  const latencies: number[] = [];
  let objects = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CHARTS; i++) {
    const name = `svc-${String(i).padStart(3, "0")}`;
    const c0 = performance.now();
    for (const env of ENVS) {
      const out = await renderer.render({
        tree,
        path: `charts/${name}`,
        appName: `${name}-${env}`,
        namespace: env,
        helm: {
          valueFiles: [`values-${env}.yaml`],
          parameters: [{ name: "image.repository", value: `registry.example.com/${name}` }],
        },
      });
      objects += out.length;
    }
    latencies.push(performance.now() - c0);
  }
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const renders = CHARTS * ENVS.length;
  report("render", "total_600_renders", total, "ms", {
    target: "< 2000",
    charts: CHARTS,
    envs: ENVS.length,
    objects,
  });
  // CPU time of this process: what the renders cost when the machine is shared (wall time includes waiting).
  report("render", "total_600_renders_cpu", (cpu.user + cpu.system) / 1000, "ms", { target: "< 2000" });
  report("render", "per_chart_3_envs_p50", percentile(latencies, 50), "ms");
  report("render", "per_chart_3_envs_p99", percentile(latencies, 99), "ms");
  report("render", "first_chart_3_envs_cold", latencies[0] ?? Number.NaN, "ms");
  report("render", "renders_per_second", (renders / total) * 1000, "renders/s");
}
