import { closestMatch, fsError, PromaxError } from '@promax/core';
import { COMMANDS } from './commands/index.js';
import { EXIT } from './exit-codes.js';
import { type Io, processIo } from './io.js';
import { clearInterrupt, interruptedBy } from './training/interrupt.js';

const HELP = `promax — LLM-derived profiles with distribution shaping for recommender models

Usage: promax <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run 'promax <command> --help' for a command's options.
`;

/** Runs the CLI; returns the process exit code (0 ok, 1 unexpected failure, 2 usage/input error). */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return 0;
  }
  if (name === '--version') {
    io.out('0.1.0\n');
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = closestMatch(name, Object.keys(COMMANDS));
    io.err(`error: unknown command '${name}'${near ? ` — did you mean '${near}'?` : ''}\n\n${HELP}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.usage}\n`);
    return 0;
  }
  try {
    clearInterrupt();
    const code = (await command.run(rest, io)) ?? EXIT.OK;
    return code === EXIT.OK && interruptedBy() ? EXIT.INTERRUPTED : code;
  } catch (e) {
    if (PromaxError.isInstance(e)) {
      // Fix hints in the words of this interface: flags, not library options.
      io.err(`error [${e.code}]: ${e.describe('cli')}\n`);
      return EXIT.BAD_INPUT;
    }
    // A filesystem fault the command did not name itself (an output path under a file, a full
    // disk, a read-only folder): still a named error with the path, not a stack trace.
    const path = (e as { path?: unknown } | null)?.path;
    const named = typeof path === 'string' ? fsError(e, path, 'access') : e;
    if (PromaxError.isInstance(named)) {
      io.err(`error [${named.code}]: ${named.describe('cli')}\n`);
      return EXIT.BAD_INPUT;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${e.message}\n\n${command.usage}\n`);
      return 2;
    }
    io.err(`unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.INTERNAL;
  }
}
