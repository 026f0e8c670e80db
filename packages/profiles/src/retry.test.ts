import { Rng } from '@promax/core';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  classifyRequestError,
  RETRY_CAUSES,
  retryAfterMs,
  retryWarningCode,
} from './retry.js';
import { backoffSettingsSchema } from './settings.js';

describe('retryAfterMs', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }), 0)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), 0)).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({}), 0)).toBeUndefined();
  });
});

describe('classifyRequestError', () => {
  const err = (status: number, headers: Record<string, string> = {}): APIError =>
    APIError.generate(status, { error: { message: 'x' } }, undefined, new Headers(headers));
  it('retries 429 (with Retry-After), 5xx and timeouts; fails 400; stops on 401', () => {
    expect(classifyRequestError(err(429, { 'retry-after': '1' }), undefined, 0)).toMatchObject({
      kind: 'retry',
      cause: 'rate-limited',
      code: 'RATE_LIMITED',
      retryAfterMs: 1000,
    });
    expect(classifyRequestError(err(503), undefined, 0)).toMatchObject({
      kind: 'retry',
      cause: 'server-error',
      status: 503,
    });
    expect(classifyRequestError(new APIConnectionTimeoutError(), undefined, 0)).toMatchObject({
      kind: 'retry',
      cause: 'timeout',
    });
    expect(classifyRequestError(new APIConnectionError({ message: 'refused' }), undefined, 0)).toMatchObject({
      kind: 'retry',
      cause: 'network',
    });
    expect(classifyRequestError(err(400), undefined, 0)).toMatchObject({ kind: 'fail', status: 400 });
    expect(classifyRequestError(err(401), undefined, 0)).toMatchObject({ kind: 'fatal' });
    expect(classifyRequestError(new APIUserAbortError(), undefined, 0)).toEqual({ kind: 'abort' });
    expect(classifyRequestError(new SyntaxError('Unexpected token <'), undefined, 0)).toMatchObject({
      kind: 'retry',
      cause: 'unreadable',
    });
    expect(classifyRequestError(new TypeError('bug'), undefined, 0)).toMatchObject({ kind: 'fatal' });
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially, stays within [d(1-j), d] and is reproducible for a seed', () => {
    const s = backoffSettingsSchema.parse({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.5 });
    const a = [0, 1, 2, 3, 4, 5].map((k) => backoffDelayMs(k, s, new Rng(1)));
    const b = [0, 1, 2, 3, 4, 5].map((k) => backoffDelayMs(k, s, new Rng(1)));
    expect(a).toEqual(b);
    const full = [100, 200, 400, 800, 1000, 1000];
    a.forEach((d, k) => {
      expect(d).toBeGreaterThanOrEqual((full[k] as number) * 0.5);
      expect(d).toBeLessThanOrEqual(full[k] as number);
    });
  });
});

describe('retryWarningCode', () => {
  it('names one progress-warning code per cause', () => {
    expect(RETRY_CAUSES.map(retryWarningCode)).toEqual([
      'RETRY_RATE_LIMITED',
      'RETRY_SERVER_ERROR',
      'RETRY_TIMEOUT',
      'RETRY_NETWORK',
      'RETRY_UNREADABLE',
    ]);
  });
});
