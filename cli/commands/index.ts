/** Registry of subcommands: each module adds its commands to the program. */
import type { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [];
