import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectEnvironment } from './environment.js';
import { RunDirectory } from './run-directory.js';

const root = await mkdtemp(join(tmpdir(), 'promax-run-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('collectEnvironment', () => {
  it('records node, os, cpus and package versions', () => {
    const env = collectEnvironment();
    expect(env.node).toBe(process.version);
    expect(env.cpus).toBeGreaterThan(0);
    expect(env.packages['@promax/pipeline']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.packages['@promax/core']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.packages.zod).toMatch(/^4\./);
    expect(env.git_commit === null || /^[0-9a-f]{40}$/.test(env.git_commit)).toBe(true);
  });

  it('does not fail outside a git repository', () => {
    expect(collectEnvironment({ cwd: root, packages: { cli: '9.9.9' } })).toMatchObject({
      git_commit: null,
      packages: { cli: '9.9.9' },
    });
  });
});

describe('RunDirectory', () => {
  it('writes config, appends metrics lines, results and environment', async () => {
    const dir = join(root, 'run1');
    const run = await RunDirectory.create(dir);
    await run.writeConfig({ trainer: { lr: 1e-3 } });
    await run.appendMetrics({ type: 'epoch', epoch: 1, losses: { loss: 0.6 } });
    await run.appendMetrics({ type: 'epoch', epoch: 2, losses: { loss: Number.NaN } });
    await run.writeResults({ best_epoch: 3 });
    await run.writeEnvironment({ cwd: root });
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { type: 'epoch', epoch: 1, losses: { loss: 0.6 } },
      { type: 'epoch', epoch: 2, losses: { loss: null } },
    ]);
    expect(await run.readJson('results.json')).toEqual({ best_epoch: 3 });
    expect(await run.readJson('config.json')).toEqual({ trainer: { lr: 1e-3 } });
    expect(await run.readJson('environment.json')).toMatchObject({ node: process.version, git_commit: null });
  });

  it('refuses to mix with an earlier run unless told to overwrite', async () => {
    const dir = join(root, 'run2');
    const first = await RunDirectory.create(dir);
    await first.appendMetrics({ a: 1 });
    await first.writeResults({});
    await expect(RunDirectory.create(dir)).rejects.toThrow(
      /already holds a run \(results\.json, metrics\.jsonl\)/,
    );
    const again = await RunDirectory.create(dir, { overwrite: true });
    expect(await readFile(join(dir, 'metrics.jsonl'), 'utf8')).toBe('');
    expect(await again.readJson('results.json')).toBeUndefined();
  });
});
