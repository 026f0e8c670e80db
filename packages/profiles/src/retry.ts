import type { Rng } from '@promax/core';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import type { BackoffSettings } from './settings.js';

/**
 * Why a request is retried: 429 (`rate-limited`), 5xx/408/409 (`server-error`), the client-side
 * timeout (`timeout`), a connection failure (`network`) or a body that is not the JSON the
 * protocol promises (`unreadable`).
 */
export type RetryCause = 'rate-limited' | 'server-error' | 'timeout' | 'network' | 'unreadable';

/** Every retry cause, in the order summaries list them. */
export const RETRY_CAUSES: readonly RetryCause[] = [
  'rate-limited',
  'server-error',
  'timeout',
  'network',
  'unreadable',
];

/** The progress-warning code of a retry of each cause (`RETRY_RATE_LIMITED`, ...). */
export const retryWarningCode = (cause: RetryCause): string =>
  `RETRY_${cause.toUpperCase().replace('-', '_')}`;

/** How the job reacts to one failed request. */
export type ErrorClass =
  | { kind: 'abort' }
  | {
      kind: 'retry';
      cause: RetryCause;
      code: 'RATE_LIMITED' | 'API_ERROR';
      message: string;
      status?: number;
      retryAfterMs?: number;
    }
  | { kind: 'fail'; code: 'API_ERROR'; message: string; status?: number }
  | { kind: 'fatal'; code: 'API_ERROR'; message: string; status?: number };

/** Parses Retry-After (seconds or HTTP date) and retry-after-ms headers. */
export function retryAfterMs(headers: Headers | undefined, now: number): number | undefined {
  if (!headers || typeof headers.get !== 'function') return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/**
 * Classifies an error thrown by the OpenAI SDK: 429, 408, 409, 5xx, timeouts, network errors and
 * unreadable bodies are retried; 401/403/404 stop the whole job (wrong key, model or URL); other
 * 4xx fail the one request (recorded as a failure); anything else is a bug and stops the job.
 */
export function classifyRequestError(
  error: unknown,
  signal: AbortSignal | undefined,
  now: number,
): ErrorClass {
  if (signal?.aborted || error instanceof APIUserAbortError) return { kind: 'abort' };
  if (error instanceof APIConnectionTimeoutError)
    return { kind: 'retry', cause: 'timeout', code: 'API_ERROR', message: 'request timed out' };
  if (error instanceof APIConnectionError)
    return {
      kind: 'retry',
      cause: 'network',
      code: 'API_ERROR',
      message: `connection error: ${error.message}`,
    };
  if (error instanceof APIError) {
    const status = error.status;
    const message = `HTTP ${status ?? '?'}: ${error.message}`;
    if (status === 429)
      return {
        kind: 'retry',
        cause: 'rate-limited',
        code: 'RATE_LIMITED',
        message,
        status,
        retryAfterMs: retryAfterMs(error.headers, now),
      };
    if (status === 408 || status === 409 || (status !== undefined && status >= 500)) {
      return {
        kind: 'retry',
        cause: 'server-error',
        code: 'API_ERROR',
        message,
        status,
        retryAfterMs: retryAfterMs(error.headers, now),
      };
    }
    if (status === 401 || status === 403 || status === 404)
      return { kind: 'fatal', code: 'API_ERROR', message, status };
    return { kind: 'fail', code: 'API_ERROR', message, status };
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return { kind: 'retry', cause: 'timeout', code: 'API_ERROR', message: error.message };
  }
  // A garbled body (e.g. a proxy's HTML page with status 200) is treated as transient.
  if (error instanceof OpenAIError || error instanceof SyntaxError) {
    return {
      kind: 'retry',
      cause: 'unreadable',
      code: 'API_ERROR',
      message: `unreadable response: ${error.message}`,
    };
  }
  return {
    kind: 'fatal',
    code: 'API_ERROR',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** Delay before retry number `attempt` (0-based): exponential, capped, with seeded jitter. */
export function backoffDelayMs(attempt: number, settings: BackoffSettings, rng: Rng): number {
  const full = Math.min(settings.maxMs, settings.initialMs * settings.multiplier ** attempt);
  return full * (1 - settings.jitter) + full * settings.jitter * rng.nextFloat();
}
