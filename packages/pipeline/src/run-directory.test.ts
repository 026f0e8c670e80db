import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { collectEnvironment } from './environment.js';
import { checkRunDirectory, RunDirectory } from './run-directory.js';

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
  it('writes config, appends metrics lines, results and environment, each under the run id', async () => {
    const dir = join(root, 'run1');
    const run = await RunDirectory.begin(dir);
    await run.writeConfig({ trainer: { lr: 1e-3 } });
    await run.appendMetrics({ type: 'epoch', epoch: 1, losses: { loss: 0.6 } });
    await run.appendMetrics({ type: 'epoch', epoch: 2, losses: { loss: Number.NaN } });
    await run.writeResults({ best_epoch: 3 });
    await run.writeEnvironment({ cwd: root });
    // Nothing is visible at the target before commit.
    expect(existsSync(dir)).toBe(false);
    expect(await run.readJson('results.json')).toEqual({ run_id: run.runId, best_epoch: 3 });
    await run.commit();
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { type: 'run', run_id: run.runId },
      { type: 'epoch', epoch: 1, losses: { loss: 0.6 } },
      { type: 'epoch', epoch: 2, losses: { loss: null } },
    ]);
    const json = async (f: string) => JSON.parse(await readFile(join(dir, f), 'utf8'));
    expect(await json('config.json')).toEqual({ run_id: run.runId, trainer: { lr: 1e-3 } });
    expect(await json('environment.json')).toMatchObject({ run_id: run.runId, node: process.version });
    const manifest = await json('manifest.json');
    expect(manifest.run_id).toBe(run.runId);
    expect(Object.keys(manifest.files)).toEqual([
      'config.json',
      'environment.json',
      'metrics.jsonl',
      'results.json',
    ]);
    expect(checkRunDirectory(dir)).toMatchObject({ runId: run.runId });
    expect((await readdir(root)).filter((f) => f.startsWith('.run1'))).toEqual([]);
  });

  it('refuses an earlier run unless told to overwrite, and replaces it only on commit', async () => {
    const dir = join(root, 'run2');
    const first = await RunDirectory.begin(dir);
    await first.writeResults({ which: 'first' });
    await first.commit();
    const err = await RunDirectory.begin(dir).catch((e: unknown) => e as PromaxError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as PromaxError).message).toMatch(
      /already holds a run \(manifest\.json, metrics\.jsonl, results\.json\)/,
    );
    expect((err as PromaxError).describe('cli')).toMatch(/pass --overwrite/);
    expect((err as PromaxError).describe('library')).toMatch(/overwrite: true/);

    // An overwrite that is aborted (invalid value, divergence, kill) leaves the first run whole.
    const failed = await RunDirectory.begin(dir, { overwrite: true });
    await failed.writeResults({ which: 'failed' });
    await failed.abort();
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).which).toBe('first');
    expect(checkRunDirectory(dir).runId).toBe(first.runId);

    const second = await RunDirectory.begin(dir, { overwrite: true });
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).which).toBe('first');
    await second.writeResults({ which: 'second' });
    await second.commit();
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).which).toBe('second');
    expect(checkRunDirectory(dir).runId).toBe(second.runId);
    expect((await readdir(root)).filter((f) => f.startsWith('.run2'))).toEqual([]);
  });

  it('checkRunDirectory refuses files that do not belong to the run', async () => {
    const a = join(root, 'mix-a');
    const b = join(root, 'mix-b');
    for (const dir of [a, b]) {
      const run = await RunDirectory.begin(dir);
      await run.writeConfig({ dataset: dir });
      await writeFile(run.path('user_emb.npy'), dir);
      await run.writeResults({});
      await run.commit();
    }
    // A file of run b copied into run a: same name, different contents.
    await copyFile(join(b, 'user_emb.npy'), join(a, 'user_emb.npy'));
    expect(() => checkRunDirectory(a)).toThrow(/user_emb\.npy does not belong to run/);
    // A run file the manifest does not list.
    await copyFile(join(a, 'manifest.json'), join(root, 'manifest-a.json'));
    await rm(join(a, 'user_emb.npy'));
    expect(() => checkRunDirectory(a)).toThrow(/user_emb\.npy is listed in run .* but missing/);
    await writeFile(join(b, 'item_emb.npy'), 'x');
    const e = (() => {
      try {
        checkRunDirectory(b);
      } catch (x) {
        return x as PromaxError;
      }
    })();
    expect(e?.code).toBe('INCONSISTENT_RUN');
    expect(e?.message).toMatch(/item_emb\.npy is not part of run/);
    // A folder with no run at all.
    await mkdir(join(root, 'empty'));
    expect(() => checkRunDirectory(join(root, 'empty'))).toThrow(/holds no finished run/);
  });

  it('refuses a target that is a file, or a folder of unrelated files, before writing anything', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await expect(RunDirectory.begin(file)).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(RunDirectory.begin(join(file, 'run'))).rejects.toMatchObject({ code: 'IO_ERROR', file });
    const other = join(root, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    await expect(RunDirectory.begin(other, { overwrite: true })).rejects.toThrow(
      /not part of a run \(notes\.txt\)/,
    );
    expect(await readFile(join(other, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('a later begin cleans up what a killed writer left: stale staging, a run moved aside', async () => {
    const dir = join(root, 'crashed');
    const run = await RunDirectory.begin(dir);
    await run.writeResults({ which: 'old' });
    await run.commit();
    // A dead process's staging folder, and a commit killed between its two renames.
    const dead = 2 ** 22 + 12345;
    await mkdir(join(root, `.crashed.tmp-${dead}-x`));
    await rename(dir, join(root, `.crashed.old-${dead}-y`));
    const next = await RunDirectory.begin(dir, { overwrite: true });
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).which).toBe('old');
    expect((await readdir(root)).filter((f) => f.startsWith('.crashed'))).toEqual([
      `.crashed.tmp-${process.pid}-${next.runId}`,
    ]);
    await next.abort();
  });
});

describe('RunDirectory.saveCheckpoint', () => {
  it('refuses non-finite tensors, so a run never stores ±Inf', async () => {
    const run = await RunDirectory.begin(join(root, 'ckpt'));
    const state = { user_emb: { shape: [2], data: Float32Array.of(1, Number.POSITIVE_INFINITY) } };
    await expect(run.saveCheckpoint({ state, epoch: 1, config: {} })).rejects.toMatchObject({
      code: 'NON_FINITE',
      details: { tensor: 'user_emb', index: 1 },
    });
    await run.abort();
  });
});
