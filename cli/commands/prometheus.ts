/**
 * `gitops-testbed prometheus serve --series FILE [--port N]`: the mock Prometheus over HTTP
 * (127.0.0.1), loaded from a series file in promtool notation (time 0 = Unix epoch, like
 * promtool: query with time=<seconds from the series start>).
 * `gitops-testbed prometheus query --series FILE [--time S] EXPR`: one instant query, JSON out.
 */
import type { Command } from "commander";
import { GtbError } from "../../engine/core/errors.ts";
import { RealClock } from "../../simulator/clock/real.ts";
import type { PrometheusServer } from "../../simulator/prometheus/http.ts";
import { MockPrometheus } from "../../simulator/prometheus/mock.ts";
import { PromQLError } from "../../simulator/prometheus/parser.ts";
import { loadSeriesFile } from "../../simulator/prometheus/series-file.ts";

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new GtbError("GTB_BAD_PORT", `invalid port "${raw}"`, {
      path: "--port",
      hint: "use 0-65535 (0 = any free port)",
    });
  }
  return n;
}

function load(seriesPath: string): MockPrometheus {
  const prom = new MockPrometheus({ clock: new RealClock() });
  prom.loadSeries(loadSeriesFile(seriesPath));
  return prom;
}

export function register(program: Command): void {
  const cmd = program
    .command("prometheus")
    .description("the mock Prometheus (series store, PromQL 2.42 evaluator, HTTP API)");
  cmd
    .command("serve")
    .description("serve the Prometheus HTTP API on 127.0.0.1 from a series file; stops on SIGINT/SIGTERM")
    .requiredOption("--series <file>", "series file: {interval: 15s, input_series: [{series, values}]}")
    .option("--port <n>", "port (0 = any free port)", "9090")
    .action(async (o: { series: string; port: string }) => {
      const port = parsePort(o.port);
      const prom = load(o.series);
      const { startPrometheusServer } = await import("../../simulator/prometheus/http.ts");
      let server: PrometheusServer;
      try {
        server = await startPrometheusServer(prom, port);
      } catch (e) {
        throw new GtbError(
          "GTB_LISTEN_FAILED",
          `cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`,
          {
            hint: "pick another --port (0 = any free port)",
            exitCode: 1,
          },
        );
      }
      process.stdout.write(
        `mock Prometheus ready at ${server.url} (${prom.store.size} series from ${o.series})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void server.close().then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      process.stdout.write("mock Prometheus stopped\n");
    });
  cmd
    .command("query")
    .description("evaluate one instant query against a series file and print the API envelope as JSON")
    .requiredOption("--series <file>", "series file in promtool notation")
    .option("--time <seconds>", "evaluation time in seconds from the series start", "0")
    .argument("<expr>", "PromQL expression")
    .action(async (expr: string, o: { series: string; time: string }) => {
      const t = Number(o.time);
      if (!Number.isFinite(t))
        throw new GtbError("GTB_BAD_TIME", `invalid --time "${o.time}"`, {
          path: "--time",
          hint: "seconds, e.g. 600",
        });
      const prom = load(o.series);
      try {
        const data = await prom.query(expr, Math.round(t * 1000));
        process.stdout.write(`${JSON.stringify({ status: "success", data })}\n`);
      } catch (e) {
        if (!(e instanceof PromQLError)) throw e;
        process.stdout.write(
          `${JSON.stringify({ status: "error", errorType: e.errorType, error: e.message })}\n`,
        );
        process.exitCode = e.errorType === "bad_data" ? 2 : 1;
      }
    });
}
