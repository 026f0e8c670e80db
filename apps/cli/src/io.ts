import type { ProgressEvent } from '@promax/core';
import { EXIT } from './exit-codes.js';

/** Where the CLI writes: results to `out` (stdout), progress and messages to `err` (stderr). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** Current working directory for resolving relative paths. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    env: process.env,
  };
}

/**
 * A reader that went away (`promax recommend --list-users | head -1`) is not an error: the
 * process ends quietly with EXIT.OK instead of an unhandled EPIPE stack trace.
 */
export function endQuietlyOnClosedPipe(
  stream: NodeJS.WriteStream,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') exit(EXIT.OK);
    else throw e;
  });
}

export interface RenderOptions {
  /** Print a warning every time it occurs (e.g. `--verbose` retries), not once with a count. */
  repeatWarnings?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
    : `${m}:${String(sec).padStart(2, '0')}`;
};

/**
 * Rate of one task from a moving window of recent samples (the last 20, at most 30 s old), so
 * that it follows the current pace:
 * a task that restarts its count (each epoch's batches) starts a new pass but keeps the window's
 * rate, and the ETA counts down within the pass instead of averaging from the first epoch.
 */
export class RateWindow {
  private samples: { t: number; done: number }[] = [];
  private offset = 0;
  private lastDone = 0;

  constructor(
    private readonly maxSamples = 20,
    private readonly windowMs = 30_000,
  ) {}

  /** Records `done` at time `t` (ms) and returns units per second (NaN before two samples). */
  add(t: number, done: number): number {
    if (done < this.lastDone) this.offset += this.lastDone; // a new pass: keep counting upwards
    this.lastDone = done;
    const total = this.offset + done;
    this.samples.push({ t, done: total });
    while (this.samples.length > this.maxSamples) this.samples.shift();
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const dt = (t - first.t) / 1000;
    return this.samples.length < 2 || dt <= 0 ? Number.NaN : (total - first.done) / dt;
  }
}

/** What the renderer keeps besides printing: warnings seen, for a summary at the end. */
export interface ProgressRenderer {
  (e: ProgressEvent): void;
  /** Prints each warning that repeated, with its count (every warning was printed once). */
  flushWarnings(): void;
}

/**
 * Renders typed progress events: a bar with rate and ETA on a TTY, plain periodic lines
 * otherwise (CI logs). Everything goes to stderr so stdout stays machine-readable. Each distinct
 * warning is printed once; `flushWarnings` tells how often those that repeated occurred.
 */
export function createProgressRenderer(
  io: Io,
  opts: RenderOptions = {},
  now: () => number = () => performance.now(),
): ProgressRenderer {
  const rates = new Map<string, RateWindow>();
  const lastLine = new Map<string, number>();
  const warnings = new Map<string, number>();
  let barOpen = false;
  const closeBar = () => {
    if (barOpen) io.err('\n');
    barOpen = false;
  };
  const render = (e: ProgressEvent): void => {
    if (e.type === 'warning') {
      const seen = warnings.get(e.message) ?? 0;
      warnings.set(e.message, seen + 1);
      if ((seen > 0 && !opts.repeatWarnings) || opts.quiet) return;
    }
    if (opts.quiet) return;
    switch (e.type) {
      case 'task-start':
        rates.set(e.task, new RateWindow());
        break;
      case 'task-progress': {
        let window = rates.get(e.task);
        if (!window) {
          window = new RateWindow();
          rates.set(e.task, window);
        }
        const rate = window.add(now(), e.done);
        // A producer that knows what is in flight (LLM jobs) sends its own ETA.
        const eta =
          e.etaMs !== undefined
            ? e.etaMs / 1000
            : e.total && Number.isFinite(rate) && rate > 0
              ? (e.total - e.done) / rate
              : Number.NaN;
        const rateText = Number.isFinite(rate) ? rate.toFixed(1) : '--';
        const unit = e.unit ?? 'it';
        const pending = e.inFlight ? `, ${e.inFlight} in flight` : '';
        if (io.isTTY) {
          const width = 24;
          const frac = e.total ? Math.min(1, e.done / e.total) : 0;
          const fill = Math.round(frac * width);
          const bar = `${'█'.repeat(fill)}${'░'.repeat(width - fill)}`;
          io.err(
            `\r${e.task.padEnd(12)} ${bar} ${e.done}/${e.total ?? '?'} ${unit} ${rateText} ${unit}/s${pending} ETA ${fmtTime(eta)}   `,
          );
          barOpen = true;
        } else {
          const t = now();
          if (t - (lastLine.get(e.task) ?? Number.NEGATIVE_INFINITY) > 5000 || e.done === e.total) {
            lastLine.set(e.task, t);
            io.err(
              `${e.task}: ${e.done}/${e.total ?? '?'} ${unit} (${rateText} ${unit}/s${pending}, ETA ${fmtTime(eta)})\n`,
            );
          }
        }
        break;
      }
      case 'task-end':
        closeBar();
        break;
      case 'epoch-end': {
        closeBar();
        const losses = Object.entries(e.losses)
          .map(([k, v]) => `${k} ${v.toFixed(4)}`)
          .join(' ');
        io.err(`epoch ${e.epoch}: ${losses} (${(e.trainMs / 1000).toFixed(2)} s)\n`);
        break;
      }
      case 'evaluation': {
        closeBar();
        const m = ['recall@20', 'ndcg@20']
          .filter((k) => k in e.metrics)
          .map((k) => `${k} ${e.metrics[k].toFixed(4)}`);
        io.err(`  ${e.split} @ epoch ${e.epoch}: ${m.join(' ')}${e.improved ? ' *' : ''}\n`);
        break;
      }
      case 'warning':
        closeBar();
        io.err(`warning: ${e.message}\n`);
        break;
      case 'info':
        closeBar();
        io.err(`${e.message}\n`);
        break;
      default:
        break;
    }
  };
  return Object.assign(render, {
    flushWarnings(): void {
      if (opts.quiet) return;
      for (const [message, count] of warnings) {
        if (count > 1) io.err(`warning (${count}×, shown once): ${message}\n`);
      }
    },
  });
}
