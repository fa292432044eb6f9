#!/usr/bin/env node
// The compiled CLI: the TypeScript sources (cli/, engine/, simulator/, reports/) transpiled file by
// file with esbuild (types stripped, nothing bundled) into dist/, so that `gitops-testbed` and its
// worker threads load plain JavaScript instead of going through tsx's loader on every start (about 4
// CPU-seconds per thread on the project's 2-core machine; the compiled tree loads in well under one).
// `npm ci` builds it (the "prepare" script); bin/gitops-testbed.js rebuilds it when a source file
// changed since, and falls back to tsx when it cannot (no esbuild, read-only checkout).
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_DIRS = ["cli", "engine", "simulator", "reports"];
export const DIST = join(root, "dist");
const STAMP = ".fingerprint";

function sources() {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  return out.sort();
}

/** Names, sizes and modification times of the sources and of this script: what the build depends on. */
function fingerprint(files) {
  const h = createHash("sha256");
  for (const f of [...files, fileURLToPath(import.meta.url), join(root, "tsconfig.json")]) {
    const st = statSync(f);
    h.update(`${relative(root, f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest("hex");
}

function stampOf(dir) {
  try {
    return readFileSync(join(dir, STAMP), "utf8");
  } catch {
    return undefined;
  }
}

/** A relative specifier of a TypeScript module in a string literal ("./x.ts", '../y/z.ts'): now .js. */
const TS_SPECIFIER = /(["'])(\.\.?\/[^"'\n]*?)\.ts\1/g;

async function build(files, stamp) {
  const { transform } = await import("esbuild");
  // the project's compiler options, as tsc and tsx read them: ES2022 class fields are defined in
  // declaration order (without them esbuild drops fields that have no initializer, so objects would
  // grow their properties in another order than under tsx and the tests)
  const tsconfigRaw = readFileSync(join(root, "tsconfig.json"), "utf8");
  const tmp = join(root, `.dist-${process.pid}-${Date.now()}`);
  try {
    await Promise.all(
      files.map(async (f) => {
        const r = await transform(readFileSync(f, "utf8"), {
          loader: "ts",
          tsconfigRaw,
          format: "esm",
          target: "node20",
          sourcemap: "inline",
          sourcefile: pathToFileURL(f).href,
        });
        const out = join(tmp, relative(root, f).replace(/\.ts$/, ".js"));
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, r.code.replace(TS_SPECIFIER, "$1$2.js$1"));
      }),
    );
    writeFileSync(join(tmp, STAMP), stamp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return tmp;
}

/**
 * dist/, built and current; undefined when it cannot be (then the caller runs the sources through
 * tsx), after telling `onError` why. Two starts racing to build both finish with a complete tree:
 * each builds its own and moves it into place only if dist/ is still not current.
 */
export async function ensureBuilt(onError = () => {}) {
  try {
    const files = sources();
    const stamp = fingerprint(files);
    if (stampOf(DIST) === stamp) return DIST;
    const tmp = await build(files, stamp);
    if (stampOf(DIST) === stamp) {
      rmSync(tmp, { recursive: true, force: true });
      return DIST;
    }
    const old = `${tmp}-old`;
    try {
      renameSync(DIST, old);
    } catch {
      // no dist/ yet
    }
    try {
      renameSync(tmp, DIST);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
    rmSync(old, { recursive: true, force: true });
    if (stampOf(DIST) === stamp) return DIST;
    onError(new Error("another build replaced dist/ meanwhile"));
    return undefined;
  } catch (e) {
    onError(e);
    return undefined;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  let why = "";
  const dist = await ensureBuilt((e) => {
    why = e instanceof Error ? e.message : String(e);
  });
  if (dist === undefined) {
    process.stderr.write(
      `build: could not compile to dist/ (${why}); the CLI will run the sources through tsx\n`,
    );
  } else process.stdout.write(`build: ${relative(process.cwd(), dist) || "."} is current\n`);
}
