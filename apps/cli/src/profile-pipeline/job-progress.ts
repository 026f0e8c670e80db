import type { ProgressEvent, ProgressHandler } from '@promax/core';
import { RETRY_CAUSES, type RetryCause, retryWarningCode } from '@promax/profiles';
import { createProgressRenderer, type Io } from '../io.js';
import { formatRetries } from './job-summary.js';

export interface JobProgressOptions {
  quiet?: boolean;
  /** One line per retry instead of a counted line. */
  verbose?: boolean;
  /** Shortest time between two counted retry lines, in ms (default 10 s). */
  retryLineEveryMs?: number;
  /** Time source in ms (tests). */
  now?: () => number;
}

const CAUSE_OF_CODE = new Map<string, RetryCause>(RETRY_CAUSES.map((c) => [retryWarningCode(c), c]));

/**
 * The progress renderer of LLM jobs: the shared renderer, except that retries (warnings with a
 * `RETRY_<CAUSE>` code) are counted and shown as one line every `retryLineEveryMs` at most
 * (and once more when the task ends), unless `verbose` asks for one line each.
 */
export function createJobProgressRenderer(io: Io, options: JobProgressOptions = {}): ProgressHandler {
  const base = createProgressRenderer(io, { quiet: options.quiet, repeatWarnings: options.verbose });
  if (options.verbose) return base;
  const every = options.retryLineEveryMs ?? 10_000;
  const now = options.now ?? (() => performance.now());
  let pending: Partial<Record<RetryCause, number>> = {};
  let pendingCount = 0;
  let total = 0;
  let lastLine = Number.NEGATIVE_INFINITY;
  let firstPendingAt = 0;
  const flush = (): void => {
    if (pendingCount === 0) return;
    const secs = Math.max(1, Math.round((now() - firstPendingAt) / 1000));
    base({
      type: 'warning',
      code: 'RETRIES',
      message: `${formatRetries(pendingCount, pending)} in the last ${secs} s (${total} in all; --verbose shows each)`,
    });
    pending = {};
    pendingCount = 0;
    lastLine = now();
  };
  return (e: ProgressEvent) => {
    if (e.type === 'warning' && e.code !== undefined && CAUSE_OF_CODE.has(e.code)) {
      const cause = CAUSE_OF_CODE.get(e.code) as RetryCause;
      if (pendingCount === 0) firstPendingAt = now();
      pending[cause] = (pending[cause] ?? 0) + 1;
      pendingCount++;
      total++;
      if (now() - lastLine >= every) flush();
      return;
    }
    if (e.type === 'task-progress' && pendingCount > 0 && now() - lastLine >= every) flush();
    if (e.type === 'task-end') flush();
    base(e);
  };
}
