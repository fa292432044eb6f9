/**
 * Worker threads that run the simulator's modules (the worlds, a sweep's runs), and the error round
 * trip across them. From the compiled tree (dist/, bin/build.js) the entry is plain JavaScript and
 * runs as it is. From the sources it is TypeScript: Node 20 does not apply `--import` loader hooks
 * to a worker's entry module, so the worker first registers tsx's ESM loader (as
 * bin/gitops-testbed.js does) and then imports the TypeScript entry.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { GtbError } from "../engine/core/errors.ts";

/** File URL of tsx's ESM API (its package exports map, "./esm/api" -> import). */
function tsxEsmApi(): string {
  const pkgFile = createRequire(import.meta.url).resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const rel = pkg.exports["./esm/api"]?.import?.default ?? "./dist/esm/api/index.mjs";
  return pathToFileURL(join(dirname(pkgFile), rel)).href;
}

/** A worker thread running the module at `entry` (JavaScript as it is, TypeScript through tsx). */
export function tsWorker(entry: URL, workerData: unknown): Worker {
  if (entry.pathname.endsWith(".js")) return new Worker(entry, { workerData });
  const bootstrap = `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** An error as it crosses a thread boundary (GtbError fields kept). */
export interface ThreadError {
  name: string;
  message: string;
  stack?: string;
  gtb?: Record<string, unknown>;
}

export function toThreadError(e: unknown): ThreadError {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    name: err.name,
    message: err.message,
    ...(err.stack === undefined ? {} : { stack: err.stack }),
    ...(e instanceof GtbError ? { gtb: e.toJSON() } : {}),
  };
}

/** The error back on this side: a GtbError with its code and location, else an Error (`context` prefixes it). */
export function fromThreadError(e: ThreadError, context: string): Error {
  const g = e.gtb;
  if (g !== undefined && typeof g.code === "string") {
    const opt = (k: string) => (typeof g[k] === "string" || typeof g[k] === "number" ? { [k]: g[k] } : {});
    return new GtbError(g.code, `${context}${e.message}`, {
      ...opt("file"),
      ...opt("line"),
      ...opt("column"),
      ...opt("path"),
      ...opt("hint"),
    });
  }
  const err = new Error(`${context}${e.message}`);
  if (e.stack !== undefined) err.stack = `${err.message}\n--- in worker ---\n${e.stack}`;
  return err;
}
