import { describe, expect, it } from 'vitest';
import { captureIo } from '../test-util/capture-io.js';
import { createJobProgressRenderer } from './job-progress.js';

const retry = (code: string) => ({
  type: 'warning' as const,
  code,
  message: `x: ${code}; retry 1/6 in 5 ms`,
});

describe('createJobProgressRenderer', () => {
  it('prints a counted retry line every interval at most, by cause, and the rest at task end', () => {
    const io = captureIo();
    let now = 0;
    const render = createJobProgressRenderer(io, { retryLineEveryMs: 10_000, now: () => now });
    render({ type: 'task-start', task: 'items', total: 10, unit: 'items' });
    render(retry('RETRY_RATE_LIMITED')); // first one at once
    for (let k = 0; k < 5; k++) {
      now += 1_000;
      render(retry(k % 2 ? 'RETRY_TIMEOUT' : 'RETRY_RATE_LIMITED'));
    }
    now = 12_000;
    render(retry('RETRY_SERVER_ERROR')); // 10 s after the first line: a new one
    render(retry('RETRY_UNREADABLE'));
    render({ type: 'warning', code: 'REQUEST_FAILED', message: 'item 3 failed: HTTP 400' });
    render({ type: 'task-end', task: 'items', done: 10, elapsedMs: 12_000 });
    expect(io.stderr().split('\n').filter(Boolean)).toEqual([
      'warning: 1 retry: 1 rate-limited (429) in the last 1 s (1 in all; --verbose shows each)',
      'warning: 6 retries: 3 rate-limited (429), 1 server error (5xx), 2 timed out in the last 11 s (7 in all; --verbose shows each)',
      'warning: item 3 failed: HTTP 400',
      'warning: 1 retry: 1 unreadable body in the last 1 s (8 in all; --verbose shows each)',
    ]);
  });

  it('--verbose passes every retry through; --quiet prints nothing', () => {
    const io = captureIo();
    const verbose = createJobProgressRenderer(io, { verbose: true });
    for (let k = 0; k < 3; k++) verbose(retry('RETRY_NETWORK'));
    expect(io.stderr().match(/RETRY_NETWORK; retry 1\/6/g)).toHaveLength(3);
    const quietIo = captureIo();
    const quiet = createJobProgressRenderer(quietIo, { quiet: true });
    quiet(retry('RETRY_NETWORK'));
    quiet({ type: 'task-end', task: 'x', done: 1, elapsedMs: 1 });
    expect(quietIo.stderr()).toBe('');
  });

  it('shows the calls in flight and the ETA the job sends', () => {
    const io = captureIo();
    const render = createJobProgressRenderer(io);
    render({ type: 'task-start', task: 'users', total: 4, unit: 'users' });
    render({
      type: 'task-progress',
      task: 'users',
      done: 4,
      total: 4,
      unit: 'users',
      inFlight: 2,
      etaMs: 95_000,
    });
    expect(io.stderr()).toMatch(/users: 4\/4 users \(([\d.]+|--) users\/s, 2 in flight, ETA 1:35\)/);
  });
});
