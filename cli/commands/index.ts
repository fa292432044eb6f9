/** Registry of subcommands: each module adds its commands to the program. */
import type { Command } from "commander";
import { register as analysis } from "./analysis.ts";
import { register as audit } from "./audit.ts";
import { register as cluster } from "./cluster.ts";
import { register as engine } from "./engine.ts";
import { register as prometheus } from "./prometheus.ts";
import { register as render } from "./render.ts";
import { register as report } from "./report.ts";
import { register as rollouts } from "./rollouts.ts";
import { register as run } from "./run.ts";
import { register as sweep } from "./sweep.ts";
import { register as validate } from "./validate.ts";

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  run,
  report,
  render,
  prometheus,
  cluster,
  audit,
  engine,
  validate,
  analysis,
  rollouts,
  sweep,
];
