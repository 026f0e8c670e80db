import type { Command } from './command.js';
import { datasetsCommand } from './datasets.js';
import { evalCommand } from './eval.js';

/** The registry of commands (explicit; importing it has no side effects). */
export const COMMANDS: Record<string, Command> = {
  datasets: datasetsCommand,
  eval: evalCommand,
};
