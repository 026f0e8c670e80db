import { join } from 'node:path';
import { freePort, noRedisReason, startRedisServer, type TestRedis } from '@promax/queue/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Child,
  freshDir,
  noCliReason,
  startCli,
  waitForStderr,
  writeTinyDataset,
} from '../faults/fault-fixtures.test-util.js';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';

const skip = noRedisReason ?? noCliReason;
if (skip) console.log(`[skip] promax worker / reproduce --queue: ${skip}`);

describe('promax reproduce --queue: an unreachable Redis', () => {
  it('is a named error within seconds, before anything trains', async () => {
    const data = writeTinyDataset();
    const port = await freePort();
    const io = captureIo();
    const t0 = performance.now();
    const args = ['reproduce', '--dataset', data, '--seeds', '1', '--max-epochs', '1', '--queue'];
    const code = await main(
      [...args, `redis://127.0.0.1:${port}/0`, '--out', freshDir('q-none'), '--quiet'],
      io,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toMatch(/API_ERROR.*cannot reach the Redis queue/);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});

describe.skipIf(skip !== undefined)('promax reproduce --queue with two promax worker processes', () => {
  let redis: TestRedis | undefined;
  let url = '';
  const workers: Child[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    url = redis.url;
    for (let k = 0; k < 2; k++) {
      const w = startCli(['worker', '--queue', url, '--threads', '1']);
      workers.push(w);
      await waitForStderr(w, /worker ready/);
    }
  });
  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exit));
    redis?.stop();
  });

  it('trains every run once on the workers, with the metrics an in-process run gives', async () => {
    const data = writeTinyDataset();
    const common = [
      '--dataset',
      data,
      '--seeds',
      '1,2',
      '--max-epochs',
      '2',
      '--threads',
      '1',
      '--quiet',
      '--json',
    ];
    const queued = captureIo();
    const outQ = freshDir('q-runs');
    expect(await main(['reproduce', ...common, '--queue', url, '--out', outQ], queued), queued.stderr()).toBe(
      0,
    );
    const local = captureIo();
    expect(await main(['reproduce', ...common, '--out', freshDir('q-local')], local), local.stderr()).toBe(0);
    const q = JSON.parse(queued.stdout());
    const l = JSON.parse(local.stdout());
    expect(q.runs).toHaveLength(4);
    const tests = (r: { runs: { model: string; seed: number; method: string | null; test: unknown }[] }) =>
      r.runs.map((x) => [x.model, x.seed, x.method, x.test]);
    expect(tests(q)).toEqual(tests(l));
    const trained = workers.map((w) => (w.stderr().match(/^finished /gm) ?? []).length);
    expect(trained.reduce((a, b) => a + b, 0)).toBe(4);
    // Resubmitting the same grid trains nothing: every run is reused from the shared folder.
    const again = captureIo();
    expect(await main(['reproduce', ...common, '--queue', url, '--out', outQ], again)).toBe(0);
    expect(workers.map((w) => (w.stderr().match(/^finished /gm) ?? []).length)).toEqual(trained);
    expect(join(outQ, 'reproduce.json')).toBeTruthy();
  }, 240_000);
});
