import { type ProgressHandler, PromaxError } from '@promax/core';
import { type Job, Queue, Worker } from 'bullmq';
import { checkRedis, parseRedisUrl, redact } from './connection.js';

/** One unit of work: `key` is its finished-run key (the job id, so a key is queued only once). */
export interface QueueRun<P> {
  key: string;
  payload: P;
}

interface JobData<P> {
  key: string;
  payload: P;
}

const DEFAULT_QUEUE = 'promax-runs';

/** BullMQ job ids must not be plain integers and cannot hold ':'; keys are encoded reversibly. */
export const jobIdOf = (key: string): string => `run-${encodeURIComponent(key)}`;

export interface EnqueueRunsOptions {
  /** Queue name (default 'promax-runs'): submitters and workers must agree. */
  queue?: string;
  /** Tries per run before it counts as failed (default 3; a stalled run is re-queued on top of these). */
  attempts?: number;
  /** How often the state of the runs is read (default 500 ms). */
  pollMs?: number;
  /** Connection check timeout (default 3000 ms). */
  connectTimeoutMs?: number;
  /** task-start / task-progress / task-end events, `data` of `info` events name active runs. */
  onProgress?: ProgressHandler;
  signal?: AbortSignal;
}

export interface EnqueueRunsResult<R> {
  /** Return value of each run's handler, by key. */
  results: Map<string, R>;
  /** Runs already finished before this call (their jobs were in the queue already). */
  alreadyDone: string[];
}

/**
 * Enqueues one job per run (job id = the run's key: a key that is already queued, running or
 * finished is not added again) and waits until every run has finished, reporting progress across
 * all workers. Throws PromaxError 'RUN_FAILED' naming the runs that failed after their attempts,
 * and 'API_ERROR' within `connectTimeoutMs` when Redis cannot be reached.
 */
export async function enqueueRuns<P, R = unknown>(
  url: string,
  runs: readonly QueueRun<P>[],
  options: EnqueueRunsOptions = {},
): Promise<EnqueueRunsResult<R>> {
  await checkRedis(url, options.connectTimeoutMs);
  const keys = new Set<string>();
  for (const r of runs) {
    if (typeof r.key !== 'string' || r.key.length === 0 || keys.has(r.key)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'key',
        message: `run keys must be unique non-empty strings; '${String(r.key)}' is not`,
      });
    }
    keys.add(r.key);
  }
  const queue = new Queue<JobData<P>>(options.queue ?? DEFAULT_QUEUE, { connection: parseRedisUrl(url) });
  queue.on('error', () => {});
  const emit = options.onProgress;
  const task = 'queue-runs';
  const total = runs.length;
  const t0 = performance.now();
  try {
    const before = new Set<string>();
    for (const r of runs) {
      const existing = await queue.getJob(jobIdOf(r.key));
      if (existing && (await existing.getState()) === 'completed') before.add(r.key);
    }
    await queue.addBulk(
      runs.map((r) => ({
        name: 'run',
        data: { key: r.key, payload: r.payload },
        opts: {
          jobId: jobIdOf(r.key),
          attempts: options.attempts ?? 3,
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    emit?.({ type: 'task-start', task, total, unit: 'runs' });
    const results = new Map<string, R>();
    const failed = new Map<string, string>();
    const pending = new Set(keys);
    let lastDone = -1;
    while (pending.size > 0) {
      if (options.signal?.aborted) {
        throw new PromaxError({
          code: 'ABORTED',
          message: `stopped waiting with ${pending.size} runs unfinished; they stay queued`,
          cause: options.signal.reason,
        });
      }
      const active: string[] = [];
      for (const key of [...pending]) {
        // State first, then the job: a job read before it completes has no return value yet.
        const state = await queue.getJobState(jobIdOf(key));
        if (state !== 'completed' && state !== 'failed') {
          if (state === 'active') active.push(key);
          continue;
        }
        const job = await queue.getJob(jobIdOf(key));
        if (!job) continue;
        if (state === 'completed') {
          results.set(key, job.returnvalue as R);
          pending.delete(key);
        } else if (state === 'failed' && job.attemptsMade >= (job.opts.attempts ?? 1)) {
          failed.set(key, job.failedReason);
          pending.delete(key);
        }
      }
      const done = results.size + failed.size;
      if (done !== lastDone) {
        emit?.({ type: 'task-progress', task, done, total, unit: 'runs' });
        lastDone = done;
      }
      if (pending.size > 0) {
        emit?.({
          type: 'info',
          message: `${done}/${total} runs finished, ${active.length} running`,
          data: { done, total, active },
        });
        await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
      }
    }
    emit?.({ type: 'task-end', task, done: total, elapsedMs: performance.now() - t0 });
    if (failed.size > 0) {
      throw new PromaxError({
        code: 'RUN_FAILED',
        message: `${failed.size} of ${total} queued runs failed: ${[...failed].map(([k, why]) => `${k} (${why})`).join('; ')}`,
        fix: 'see the workers’ logs; fix the cause, then remove the failed jobs (or use new keys) and submit again',
        details: { failed: Object.fromEntries(failed) },
      });
    }
    return { results, alreadyDone: [...before] };
  } finally {
    await queue.close();
  }
}

export interface RunWorkerOptions<R> {
  /** Queue name (default 'promax-runs'). */
  queue?: string;
  /** Runs processed at once by this worker (default 1). */
  concurrency?: number;
  /**
   * How long a running job's lock lasts without renewal (default 30 s; the worker renews it every
   * half period). A worker killed mid-run loses its lock after this time and another worker
   * takes the job over.
   */
  lockDurationMs?: number;
  /** How often this worker looks for runs whose worker died (default 30 s). */
  stalledIntervalMs?: number;
  /** Times a run may be taken over after a dead worker before it fails (default 5). */
  maxStalledCount?: number;
  /**
   * Looks up a finished run by key (e.g. a results file in the shared output folder): when it
   * returns a value, the handler is not called, so a duplicate delivery trains nothing twice.
   */
  finished?: (key: string) => Promise<R | undefined>;
  connectTimeoutMs?: number;
  onProgress?: ProgressHandler;
}

export interface QueueWorker {
  /** Stops taking jobs, waits for the running ones, and disconnects. */
  close(): Promise<void>;
}

/**
 * Pulls runs from the queue and calls `handler(payload, { key, attempt })` for each; its return
 * value is stored as the run's result for the submitter. Runs on any number of machines against
 * one Redis. A connection problem at start is a PromaxError 'API_ERROR' within seconds.
 */
export async function runWorker<P, R>(
  url: string,
  handler: (payload: P, run: { key: string; attempt: number }) => Promise<R>,
  options: RunWorkerOptions<R> = {},
): Promise<QueueWorker> {
  await checkRedis(url, options.connectTimeoutMs);
  const emit = options.onProgress;
  const worker = new Worker<JobData<P>, R>(
    options.queue ?? DEFAULT_QUEUE,
    async (job: Job<JobData<P>, R>) => {
      const { key, payload } = job.data;
      const done = await options.finished?.(key);
      if (done !== undefined) {
        emit?.({
          type: 'info',
          message: `run ${key} is already finished; not running it again`,
          data: { key },
        });
        return done;
      }
      emit?.({
        type: 'info',
        message: `run ${key} started (attempt ${job.attemptsMade + 1})`,
        data: { key },
      });
      return handler(payload, { key, attempt: job.attemptsMade + 1 });
    },
    {
      connection: { ...parseRedisUrl(url), maxRetriesPerRequest: null },
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 5,
    },
  );
  worker.on('completed', (job) =>
    emit?.({ type: 'info', message: `run ${job.data.key} finished`, data: { key: job.data.key } }),
  );
  worker.on('failed', (job, err) =>
    emit?.({
      type: 'warning',
      message: `run ${job?.data.key ?? '?'} failed: ${err.message}`,
      code: 'RUN_FAILED',
    }),
  );
  worker.on('error', (err) =>
    emit?.({ type: 'warning', message: `queue worker at ${redact(url)}: ${err.message}`, code: 'API_ERROR' }),
  );
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
    },
  };
}
