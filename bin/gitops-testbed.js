#!/usr/bin/env node
// Entry point. Runs the compiled tree in dist/ (bin/build.js: built by `npm ci`, rebuilt here when a
// source file changed), or the TypeScript sources through tsx's loader when it cannot be built
// (GTB_NO_DIST=1 forces the sources). Works on Node 20 and 22+.
import { ensureBuilt } from "./build.js";

const dist = process.env.GTB_NO_DIST === "1" ? undefined : await ensureBuilt();
let main;
if (dist !== undefined) {
  process.setSourceMapsEnabled(true);
  ({ main } = await import(new URL("../dist/cli/main.js", import.meta.url).href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
