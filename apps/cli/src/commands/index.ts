import { augmentCommand } from './augment.js';
import type { Command } from './command.js';
import { datasetsCommand } from './datasets.js';
import { embedCommand } from './embed.js';
import { evalCommand } from './eval.js';
import { profilesCommand } from './profiles.js';
import { retrieveCommand } from './retrieve.js';

/** The registry of commands (explicit; importing it has no side effects). */
export const COMMANDS: Record<string, Command> = {
  datasets: datasetsCommand,
  eval: evalCommand,
  profiles: profilesCommand,
  embed: embedCommand,
  retrieve: retrieveCommand,
  augment: augmentCommand,
};
