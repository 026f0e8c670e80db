import { type JobSettingsInput, jobSettingsSchema } from '@promax/profiles';
import { nonNegativeIntFlag, positiveNumberFlag } from './cli-args.js';

/** The job defaults, read from the one settings schema (never repeated by hand). */
const DEFAULTS = jobSettingsSchema.parse({ model: 'defaults' });

/** parseArgs options of every command that runs an LLM job. */
export const LLM_JOB_OPTIONS = {
  timeout: { type: 'string' },
  retries: { type: 'string' },
  repairs: { type: 'string' },
  verbose: { type: 'boolean', default: false },
} as const;

/** The job settings named by --timeout / --retries / --repairs (only those given). */
export function llmJobFlagSettings(values: {
  timeout?: string;
  retries?: string;
  repairs?: string;
}): Pick<JobSettingsInput, 'requestTimeoutMs' | 'maxRetries' | 'repairAttempts'> {
  const out: Pick<JobSettingsInput, 'requestTimeoutMs' | 'maxRetries' | 'repairAttempts'> = {};
  const timeout = positiveNumberFlag(values.timeout, '--timeout');
  const retries = nonNegativeIntFlag(values.retries, '--retries');
  const repairs = nonNegativeIntFlag(values.repairs, '--repairs');
  if (timeout !== undefined) out.requestTimeoutMs = Math.max(1, Math.round(timeout * 1000));
  if (retries !== undefined) out.maxRetries = retries;
  if (repairs !== undefined) out.repairAttempts = repairs;
  return out;
}

const seconds = (ms: number): string => `${ms / 1000} s`;

/**
 * The `--help` of the LLM job flags (`flags`, for the options list) and what retries, repairs and
 * a resume do and cost (`notes`). `repairsDefault` differs per job (re-ranking answers get more
 * follow-ups than profiles).
 */
export function llmJobHelp(options: { repairsDefault?: number; store: string; entity: string }): {
  flags: string;
  notes: string;
} {
  const b = DEFAULTS.backoff;
  const flags = `  --timeout SECONDS     client-side limit of one HTTP call (default ${DEFAULTS.requestTimeoutMs / 1000}); a timeout is retried
  --retries N           retries of one call (default ${DEFAULTS.maxRetries}; 0 = none)
  --repairs N           follow-up calls after an unusable answer (default ${options.repairsDefault ?? DEFAULTS.repairAttempts}; 0 = none)
  --verbose             one line per retry (default: a counted line every 10 s at most)`;
  const notes = `Retries: a call answered 429, 408, 409 or 5xx, timed out (--timeout), cut off or unreadable is
sent again up to --retries times. The wait is what the server asks for (Retry-After or
retry-after-ms, at most ${seconds(DEFAULTS.maxRetryAfterMs)}), else an exponential backoff: ${seconds(b.initialMs)}, ×${b.multiplier} per retry, at most
${seconds(b.maxMs)}, up to ${Math.round(b.jitter * 100)}% less at random (seeded). 401, 403 and 404 stop the run (wrong key,
model or URL: exit code 2); another 4xx fails that ${options.entity} alone. Repairs: an answer that
is not what was asked (malformed JSON, missing fields, unknown ids) gets up to --repairs
follow-up calls in the same conversation quoting the problem; then the ${options.entity} is
recorded as failed.

Resume: every answer (and every failure) is appended to the store before it counts
(${options.store}), so a rerun of the same command after an error, Ctrl-C, a crash or
a SIGKILL sends only what the store lacks, plus the failed ${options.entity}s again. What a crash
costs: the calls in flight at that moment (at most --concurrency, with the retries and repairs
they had made), whose answers never reached the store; they are sent and paid again on the rerun.
Nothing stored is sent twice.`;
  return { flags, notes };
}
