import type { Io } from '../io.js';

export interface Command {
  summary: string;
  usage: string;
  run: (argv: string[], io: Io) => Promise<number | undefined>;
}
