import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PromaxError } from '@promax/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsOf } from '../test/simulated-run.mjs';
import { checkRedis, parseRedisUrl } from './connection.js';
import { enqueueRuns } from './run-queue.js';
import { freePort, noRedisReason, startRedisServer, type TestRedis } from './test.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const workerScript = join(here, '../test/worker.mjs');
const distBuilt = existsSync(join(here, '../dist/index.js'));
const skip =
  noRedisReason ??
  (!distBuilt
    ? 'packages/queue/dist is missing (run pnpm build first: the worker processes run the built package)'
    : undefined);
if (skip) console.log(`[skip] queue integration test: ${skip}`);

describe('queue URLs and unreachable servers', () => {
  it('parses redis://HOST:PORT/DB and rejects other URLs', () => {
    expect(parseRedisUrl('redis://10.0.0.5:6380/2')).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(() => parseRedisUrl('http://x:1/0')).toThrow(/bad queue URL/);
    expect(() => parseRedisUrl('redis://x:1/abc')).toThrow(/database 'abc'/);
  });

  it('an unreachable Redis is a named error within seconds, never a hang', async () => {
    const port = await freePort();
    const t0 = performance.now();
    const err = await enqueueRuns(`redis://127.0.0.1:${port}/0`, [{ key: 'a', payload: {} }]).catch((e) => e);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(PromaxError.isInstance(err)).toBe(true);
    expect((err as PromaxError).code).toBe('API_ERROR');
    expect((err as PromaxError).message).toMatch(
      /cannot reach the Redis queue at redis:\/\/127\.0\.0\.1:\d+\/0/,
    );
  });
});

describe.skipIf(skip !== undefined)('queue integration: two workers, one SIGKILLed mid-run', () => {
  let redis: TestRedis | undefined;
  let url = '';
  const out = mkdtempSync(join(tmpdir(), 'promax-queue-'));
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    url = redis.url;
    await checkRedis(url, 5000);
  });
  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  const startWorker = async (): Promise<ChildProcess> => {
    const w = spawn(process.execPath, [workerScript, url, out, 'grid'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    workers.push(w);
    await new Promise<void>((resolve, reject) => {
      w.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      w.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    return w;
  };
  const events = (): string[][] =>
    existsSync(join(out, 'events.log'))
      ? readFileSync(join(out, 'events.log'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' '))
      : [];

  it('the grid completes, every run finished exactly once, with the in-process metrics', async () => {
    const grid = [1, 2, 3].flatMap((seed) => [0.001, 0.01].map((lr) => ({ seed, lr, sleepMs: 600 })));
    const runs = grid.map((p) => ({ key: `lightgcn-s${p.seed}-lr${p.lr}`, payload: p }));
    const a = await startWorker();
    const b = await startWorker();
    const done = enqueueRuns<(typeof grid)[number], Record<string, number>>(url, runs, {
      queue: 'grid',
      pollMs: 100,
    });
    // kill worker A while it is inside a run
    let victim: string | undefined;
    for (let i = 0; i < 200 && !victim; i++) {
      victim = events().find(([ev, pid]) => ev === 'start' && Number(pid) === a.pid)?.[2];
      if (!victim) await new Promise((r) => setTimeout(r, 25));
    }
    expect(victim).toBeDefined();
    a.kill('SIGKILL');
    const { results } = await done;
    expect(results.size).toBe(runs.length);
    for (const r of runs) expect(results.get(r.key)).toEqual(metricsOf(r.payload));
    const finished = events().filter(([ev]) => ev === 'done');
    // every run finished once; the killed one was started twice (A, then B) and finished by B
    expect(finished.map(([, , key]) => key).sort()).toEqual(runs.map((r) => r.key).sort());
    expect(events().filter(([ev, , key]) => ev === 'start' && key === victim)).toHaveLength(2);
    expect(finished.find(([, , key]) => key === victim)?.[1]).toBe(String(b.pid));

    // submitting the same grid again trains nothing: the keys are finished jobs already
    const again = await enqueueRuns(url, runs, { queue: 'grid', pollMs: 100 });
    expect(again.alreadyDone.sort()).toEqual(runs.map((r) => r.key).sort());
    expect(events().filter(([ev]) => ev === 'start')).toHaveLength(runs.length + 1);
    b.kill('SIGTERM');
  }, 60_000);
});
