import type { Io } from '../io.js';

/**
 * Runs a job with an AbortSignal tied to Ctrl-C: the first SIGINT asks the job to stop cleanly
 * (finished work is kept and written), a second one exits at once.
 */
export async function withInterrupt<T>(io: Io, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let count = 0;
  const onSigint = () => {
    count++;
    if (count === 1) {
      io.err(
        '\ninterrupted: stopping after the current batch and writing what is finished (Ctrl-C again to quit now)\n',
      );
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
