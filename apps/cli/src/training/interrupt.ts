import { EXIT } from '../exit-codes.js';
import type { Io } from '../io.js';

/** The signals that ask a job to stop cleanly: Ctrl-C, and `kill` / a scheduler's termination. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

let lastInterrupt: NodeJS.Signals | undefined;

/**
 * The signal that interrupted the latest `withInterrupt` job, if one did: the CLI then exits
 * EXIT.INTERRUPTED (130) after the command has written what finished.
 */
export function interruptedBy(): NodeJS.Signals | undefined {
  return lastInterrupt;
}

/** Forgets an earlier interrupt (each CLI invocation starts uninterrupted). */
export function clearInterrupt(): void {
  lastInterrupt = undefined;
}

/**
 * Runs a job with an AbortSignal tied to SIGINT and SIGTERM: the first signal asks the job to stop
 * cleanly (finished work is kept and written), a second one exits at once with EXIT.INTERRUPTED.
 * The caller learns from `signal.aborted` whether the job was interrupted (and then exits 130).
 */
export async function withInterrupt<T>(
  io: Io,
  job: (signal: AbortSignal) => Promise<T>,
  options: { exit?: (code: number) => void } = {},
): Promise<T> {
  const controller = new AbortController();
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let count = 0;
  lastInterrupt = undefined;
  const onSignal = (name: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      lastInterrupt = name;
      io.err(
        `\ninterrupted (${name}): stopping after the current batch and writing what is finished (Ctrl-C again to quit now)\n`,
      );
      controller.abort();
    } else exit(EXIT.INTERRUPTED);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    return await job(controller.signal);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}
