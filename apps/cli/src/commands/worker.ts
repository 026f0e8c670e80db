import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { EXIT } from '../exit-codes.js';
import { createProgressRenderer } from '../io.js';
import { positiveIntFlag } from '../profile-pipeline/cli-args.js';
import { STOP_SIGNALS } from '../training/interrupt.js';
import { type QueuedRun, trainQueuedRun } from '../training/run-plan.js';
import type { Command } from './command.js';

const usage = `promax worker --queue redis://HOST:PORT/DB [--threads N] [--concurrency N] [--quiet]

Pulls runs from the job queue that 'promax reproduce|ablate|tune --queue URL' fills, trains each in this
process and writes its run folder where the submitter asked (give every machine the same output
folder, e.g. a shared mount). Start one worker per machine (or several runs at once with
--concurrency); workers may join or leave at any time. A run whose worker dies (SIGKILL, lost
machine) is taken over by another worker after its lock expires (30 s); a run delivered twice is
trained once (its finished folder is recognised by its key). Ctrl-C or SIGTERM stops taking runs,
lets the running ones finish, and exits 130.

  --queue URL        the Redis queue (redis://[:PASSWORD@]HOST:PORT/DB)
  --threads N        onnxruntime threads per run (default: the run's own setting)
  --concurrency N    runs trained at once by this worker (default 1)`;

export const workerCommand: Command = {
  summary: 'train runs from a Redis job queue (reproduce/ablate/tune --queue) on this machine',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        queue: { type: 'string' },
        threads: { type: 'string' },
        concurrency: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (!values.queue) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--queue',
        message: '--queue URL is required',
        fix: 'pass the Redis URL the submitter used, e.g. --queue redis://127.0.0.1:6379/0',
      });
    }
    const threads = positiveIntFlag(values.threads, '--threads');
    const concurrency = positiveIntFlag(values.concurrency, '--concurrency') ?? 1;
    const onProgress = createProgressRenderer(io, { quiet: values.quiet });
    const { runWorker } = await import('@promax/queue');
    const worker = await runWorker<QueuedRun, unknown>(
      values.queue,
      async (run) => {
        if (!values.quiet) io.err(`training ${run.label} → ${run.dir}\n`);
        const results = await trainQueuedRun(run, io, { threads, onProgress });
        if (!values.quiet) io.err(`finished ${run.label}: best epoch ${results.best_epoch}\n`);
        return results;
      },
      { concurrency, onProgress },
    );
    if (!values.quiet) io.err(`worker ready on ${values.queue.replace(/\/\/[^@/]*@/, '//***@')}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      for (const s of STOP_SIGNALS) process.once(s, stop);
    });
    await worker.close();
    return EXIT.INTERRUPTED;
  },
};
