import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProgressHandler, PromaxError } from '@promax/core';
import type { Io } from '../io.js';
import { withInterrupt } from './interrupt.js';
import { type RunConfig, resolveRunConfig, runConfigToRaw } from './run-config.js';
import { runTraining, type TrainingRun } from './run-training.js';

/**
 * Many training runs planned up front (reproduce, ablate), each a run config and a run directory:
 * finished runs of the same config are reused, the rest train in this process or in `--jobs N`
 * child `promax train` processes.
 */
export interface PlannedRun {
  /** How progress lines name the run ("lightgcn+promax seed 2025"). */
  label: string;
  dir: string;
  config: RunConfig;
  /** The config that decides the results (threads excluded), written beside a finished run. */
  key: string;
}

const KEY_FILE = 'reproduce-key.json';

/** A planned run of `config` in `dir`. */
export function planRun(label: string, dir: string, config: RunConfig): PlannedRun {
  return { label, dir, config, key: runKey(config) };
}

/** The config JSON that decides a run's results: everything but the thread count, keys sorted. */
export function runKey(config: RunConfig): string {
  const { threads: _threads, ...raw } = runConfigToRaw(config);
  // "no preset" is written as an absent key, so runs recorded before presets existed still match.
  if (raw.modelPreset === null) delete raw.modelPreset;
  return stableStringify(raw);
}

/** JSON with object keys sorted (undefined members dropped): equal values give equal strings. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A finished run of exactly this config in `dir`, or undefined. */
export function finishedRun(run: Pick<PlannedRun, 'dir' | 'key'>): TrainingRun['results'] | undefined {
  const keyPath = join(run.dir, KEY_FILE);
  const resultsPath = join(run.dir, 'results.json');
  if (!existsSync(keyPath) || !existsSync(resultsPath)) return undefined;
  try {
    if (readFileSync(keyPath, 'utf8').trim() !== run.key) return undefined;
    return JSON.parse(readFileSync(resultsPath, 'utf8')) as TrainingRun['results'];
  } catch {
    return undefined;
  }
}

/** The CLI entry point a child run starts: dist/bin.js beside this module (or the built one when run from src/). */
function defaultCliEntry(): string {
  const beside = fileURLToPath(new URL('../bin.js', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
}

/** Runs one planned run in a child `promax train` process; its progress goes to `<dir>.log`. */
function runInChild(run: PlannedRun, cliEntry: string, signal: AbortSignal): Promise<TrainingRun['results']> {
  mkdirSync(dirname(run.dir), { recursive: true });
  const configPath = `${run.dir}.config.json`;
  const logPath = `${run.dir}.log`;
  writeFileSync(configPath, `${JSON.stringify(runConfigToRaw(run.config), null, 2)}\n`);
  const log = openSync(logPath, 'w');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [cliEntry, 'train', '--config', configPath, '--out', run.dir, '--overwrite'],
      {
        stdio: ['ignore', log, log],
        env: process.env,
      },
    );
    const onAbort = () => child.kill('SIGINT');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (cause) => {
      closeSync(log);
      signal.removeEventListener('abort', onAbort);
      reject(
        new PromaxError({
          code: 'RUN_FAILED',
          file: cliEntry,
          message: `cannot start a child run: ${cause.message}`,
          fix: 'build the CLI first (pnpm build) or use --jobs 1',
          cause,
        }),
      );
    });
    child.on('exit', (code, sig) => {
      closeSync(log);
      signal.removeEventListener('abort', onAbort);
      const resultsPath = join(run.dir, 'results.json');
      if (code === 0 && existsSync(resultsPath)) {
        resolvePromise(JSON.parse(readFileSync(resultsPath, 'utf8')) as TrainingRun['results']);
        return;
      }
      const tail = existsSync(logPath)
        ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-5).join('\n')
        : '';
      reject(
        new PromaxError({
          code: signal.aborted ? 'ABORTED' : 'RUN_FAILED',
          file: logPath,
          message: `${run.label} ${sig ? `was stopped by ${sig}` : `exited with code ${code}`}${tail ? `; last lines of its log:\n${tail}` : ''}`,
          fix: 'read the log; finished runs are kept and rerunning the same command resumes from them',
        }),
      );
    });
  });
}

export interface ExecutePlanOptions {
  /** Runs trained at once, each in its own `promax train` process (1: one after another, in this process). */
  jobs: number;
  /**
   * A Redis URL (`redis://HOST:PORT/DB`): enqueue one job per run for `promax worker` processes on
   * any machines sharing the output folder, and wait for them, instead of training here.
   */
  queue?: string;
  /** Retrain runs that already finished with the same config (default: reuse them). */
  fresh?: boolean;
  /** The CLI script child runs start (default: this package's dist/bin.js). */
  cliEntry?: string;
  quiet?: boolean;
  onProgress?: ProgressHandler;
}

/**
 * Trains every planned run not already finished (Ctrl-C stops cleanly) and returns the results of
 * those that finished, reused ones included. A failed child run fails the plan after the others end.
 */
export async function executePlan(
  planned: readonly PlannedRun[],
  io: Io,
  options: ExecutePlanOptions,
): Promise<Map<PlannedRun, TrainingRun['results']>> {
  const { quiet } = options;
  const done = new Map<PlannedRun, TrainingRun['results']>();
  // A finished run of the same config is reused: checked up front, and again just before a run
  // would train (another sweep, or a copy, may have finished it meanwhile).
  const reused = (run: PlannedRun): boolean => {
    const previous = options.fresh ? undefined : finishedRun(run);
    if (!previous) return false;
    done.set(run, previous);
    if (!quiet) io.err(`reusing ${run.label}: ${run.dir} (same config, finished)\n`);
    return true;
  };
  const todo = planned.filter((run) => !reused(run));
  if (options.queue && todo.length) {
    await runOnQueue(todo, options.queue, io, options, done);
    return done;
  }
  await withInterrupt(io, async (signal) => {
    if (options.jobs === 1) {
      for (const run of todo) {
        if (signal.aborted) return;
        if (reused(run)) continue;
        if (!quiet) io.err(`\n== ${run.label} → ${run.dir}\n`);
        const result = await runTraining({
          config: run.config,
          outDir: run.dir,
          cwd: io.cwd,
          overwrite: true,
          onProgress: options.onProgress,
          signal,
        });
        if (result.results.stopped === 'aborted') return;
        writeFileSync(join(run.dir, KEY_FILE), `${run.key}\n`);
        done.set(run, result.results);
      }
      return;
    }
    const cliEntry = options.cliEntry ?? defaultCliEntry();
    const queue = [...todo];
    const failures: unknown[] = [];
    const worker = async () => {
      for (let run = queue.shift(); run; run = queue.shift()) {
        if (signal.aborted) return;
        if (reused(run)) continue;
        if (!quiet) io.err(`started ${run.label} (log: ${run.dir}.log)\n`);
        try {
          const results = await runInChild(run, cliEntry, signal);
          if (results.stopped === 'aborted') return;
          writeFileSync(join(run.dir, KEY_FILE), `${run.key}\n`);
          done.set(run, results);
          if (!quiet)
            io.err(`finished ${run.label}: best epoch ${results.best_epoch}, ${finalMetric(results)}\n`);
        } catch (error) {
          if (signal.aborted) return;
          failures.push(error);
          if (!quiet) io.err(`failed ${run.label}: ${(error as Error).message}\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.jobs, todo.length) }, worker));
    if (failures.length) throw failures[0];
  });
  return done;
}

/** `test recall@20 0.1234`, or the validation one for a run that skipped the test split (a tuning trial). */
function finalMetric(results: TrainingRun['results']): string {
  const test = results.test['recall@20'];
  if (test !== undefined) return `test recall@20 ${test.toFixed(4)}`;
  return `val recall@20 ${results.val?.['recall@20']?.toFixed(4) ?? '–'}`;
}

/** onnxruntime threads per run: the flag, or the cores shared out over `jobs` child runs. */
export function threadsPerRun(jobs: number, threads: number | undefined, cores: number): number | undefined {
  return threads ?? (jobs > 1 ? Math.max(1, Math.floor(cores / jobs)) : undefined);
}

/** What a queued run carries: its raw config, run folder and finished-run key. */
export interface QueuedRun {
  config: Record<string, unknown>;
  dir: string;
  key: string;
  label: string;
}

/** The queue job key of a run: a hash of its finished-run key (the key itself is a long JSON). */
export const queueKey = (run: Pick<PlannedRun, 'key' | 'dir'>): string =>
  createHash('sha256').update(`${run.dir}\n${run.key}`).digest('hex');

async function runOnQueue(
  todo: readonly PlannedRun[],
  url: string,
  io: Io,
  options: ExecutePlanOptions,
  done: Map<PlannedRun, TrainingRun['results']>,
): Promise<void> {
  const { enqueueRuns } = await import('@promax/queue');
  if (!options.quiet)
    io.err(
      `queued ${todo.length} runs on ${redactUrl(url)}; start workers with: promax worker --queue URL\n`,
    );
  const payload = (run: PlannedRun): QueuedRun => ({
    config: runConfigToRaw(run.config),
    dir: run.dir,
    key: run.key,
    label: run.label,
  });
  await enqueueRuns(
    url,
    todo.map((run) => ({ key: queueKey(run), payload: payload(run) })),
    { onProgress: options.onProgress },
  );
  // Workers write each run folder (and its key file) into the shared output folder.
  const missing: string[] = [];
  for (const run of todo) {
    const results = finishedRun(run);
    if (results) done.set(run, results);
    else missing.push(run.label);
  }
  if (missing.length) {
    throw new PromaxError({
      code: 'RUN_FAILED',
      message: `the queue reported these runs done but their folders are not readable here: ${missing.join(', ')}`,
      fix: 'give the workers and this command the same output folder (a shared mount)',
    });
  }
}

/**
 * Trains one queued run in this process (a `promax worker`): a run already finished with the same
 * key (a duplicate delivery) is returned without training again.
 */
export async function trainQueuedRun(
  run: QueuedRun,
  io: Io,
  options: { threads?: number; onProgress?: ProgressHandler; signal?: AbortSignal },
): Promise<TrainingRun['results']> {
  const previous = finishedRun({ dir: run.dir, key: run.key });
  if (previous) return previous;
  const config = resolveRunConfig({
    flags: { ...run.config, ...(options.threads ? { threads: options.threads } : {}) },
  });
  const result = await runTraining({
    config,
    outDir: run.dir,
    cwd: io.cwd,
    overwrite: true,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  if (result.results.stopped !== 'aborted') writeFileSync(join(run.dir, KEY_FILE), `${run.key}\n`);
  return result.results;
}

const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

/** The flags every sweep command (reproduce, ablate, tune) shares, spread into its parseArgs options. */
export const SWEEP_OPTIONS = {
  dataset: { type: 'string' as const },
  'max-epochs': { type: 'string' as const },
  config: { type: 'string' as const },
  set: { type: 'string' as const, multiple: true as const, default: [] as string[] },
  out: { type: 'string' as const },
  jobs: { type: 'string' as const },
  threads: { type: 'string' as const },
  quiet: { type: 'boolean' as const, default: false },
  json: { type: 'boolean' as const, default: false },
};

/** A sweep's two required flags, or a named error quoting the command's synopsis. */
export function requireDatasetAndOut(
  values: { dataset?: string; out?: string },
  usage: string,
): { dataset: string; out: string } {
  if (!values.dataset || !values.out) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: values.dataset ? '--out' : '--dataset',
      message: '--dataset and --out are required',
      fix: usage.split('\n')[0],
    });
  }
  return { dataset: values.dataset, out: values.out };
}
