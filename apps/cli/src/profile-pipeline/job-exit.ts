import { PromaxError } from '@promax/core';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';

/** The "Exit codes" paragraph of the `--help` of every long job (values from exit-codes.ts). */
export function exitCodesHelp(partial: string): string {
  const row = (code: number, text: string): string => `  ${String(code).padEnd(5)}${text}`;
  return [
    'Exit codes:',
    row(EXIT.OK, 'everything done'),
    row(EXIT.PARTIAL, `${partial}; everything else was stored:`),
    `${' '.repeat(7)}rerun the same command to retry only those`,
    row(EXIT.BAD_INPUT, 'bad input: a flag, file, dataset, key, model or URL named in the message'),
    row(EXIT.INTERRUPTED, 'interrupted by Ctrl-C or SIGTERM; what finished is stored: rerun to resume'),
    row(EXIT.INTERNAL, 'an internal error (a bug: please report it)'),
  ].join('\n');
}

/** The process events that stop a job cleanly (the first one; a second one exits at once). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface JobInterrupt {
  /** Aborts on the first SIGINT/SIGTERM; pass it to the job. */
  readonly signal: AbortSignal;
  /**
   * For a `catch` around the job: EXIT.INTERRUPTED (with a note on stderr) when `error` is the
   * job's ABORTED after an interrupt; any other error is rethrown.
   */
  exitCode(error: unknown): ExitCode;
  /** Stops listening (in `finally`). */
  dispose(): void;
}

/**
 * Ties a long job to Ctrl-C and SIGTERM: the first signal aborts it (it stops starting work,
 * cancels its calls in flight and keeps what is stored), so the command can exit with
 * EXIT.INTERRUPTED; a second signal exits at once.
 */
export function watchInterrupts(io: Io): JobInterrupt {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (name: string): void => {
    count++;
    if (count === 1) {
      io.err(`\n${name}: stopping; answers already stored are kept (again to quit at once)\n`);
      controller.abort(new Error(`interrupted by ${name}`));
    } else process.exit(EXIT.INTERRUPTED);
  };
  const handlers = STOP_SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, h] of handlers) process.on(name, h);
  return {
    signal: controller.signal,
    exitCode(error) {
      if (controller.signal.aborted && PromaxError.isInstance(error) && error.code === 'ABORTED') {
        io.err(`interrupted: ${error.message}\n`);
        return EXIT.INTERRUPTED;
      }
      throw error;
    },
    dispose() {
      for (const [name, h] of handlers) process.off(name, h);
    },
  };
}
