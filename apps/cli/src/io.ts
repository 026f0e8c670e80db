import type { ProgressEvent } from '@promax/core';

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

export interface RenderOptions {
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
 * Renders typed progress events: a bar with rate and ETA on a TTY, plain periodic lines
 * otherwise (CI logs). Everything goes to stderr so stdout stays machine-readable.
 */
export function createProgressRenderer(io: Io, opts: RenderOptions = {}): (e: ProgressEvent) => void {
  const started = new Map<string, number>();
  const lastLine = new Map<string, number>();
  let barOpen = false;
  const closeBar = () => {
    if (barOpen) io.err('\n');
    barOpen = false;
  };
  return (e) => {
    if (opts.quiet) return;
    switch (e.type) {
      case 'task-start':
        started.set(e.task, performance.now());
        break;
      case 'task-progress': {
        const t0 = started.get(e.task) ?? performance.now();
        if (!started.has(e.task)) started.set(e.task, t0);
        const elapsed = (performance.now() - t0) / 1000;
        const rate = e.done / Math.max(elapsed, 1e-9);
        // A producer that knows what is in flight (LLM jobs) sends its own ETA.
        const eta =
          e.etaMs !== undefined
            ? e.etaMs / 1000
            : e.total
              ? (e.total - e.done) / Math.max(rate, 1e-9)
              : Number.NaN;
        const unit = e.unit ?? 'it';
        const pending = e.inFlight ? `, ${e.inFlight} in flight` : '';
        if (io.isTTY) {
          const width = 24;
          const frac = e.total ? Math.min(1, e.done / e.total) : 0;
          const fill = Math.round(frac * width);
          const bar = `${'█'.repeat(fill)}${'░'.repeat(width - fill)}`;
          io.err(
            `\r${e.task.padEnd(12)} ${bar} ${e.done}/${e.total ?? '?'} ${unit} ${rate.toFixed(1)} ${unit}/s${pending} ETA ${fmtTime(eta)}   `,
          );
          barOpen = true;
        } else {
          const now = performance.now();
          if (now - (lastLine.get(e.task) ?? 0) > 5000 || e.done === e.total) {
            lastLine.set(e.task, now);
            io.err(
              `${e.task}: ${e.done}/${e.total ?? '?'} ${unit} (${rate.toFixed(1)} ${unit}/s${pending}, ETA ${fmtTime(eta)})\n`,
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
}
