#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx's loader (works on Node 20 and 22+).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
const code = await main(process.argv.slice(2));
process.exitCode = code;
