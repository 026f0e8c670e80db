import { join } from 'node:path';
import type { Matrix } from '@promax/core';
import { writeFakeRun } from '@promax/report/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import {
  removeTempDirs,
  type SyntheticDataset,
  tempDir,
  writeSyntheticDataset,
  writeSyntheticRlmrec,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

// Until the registry lists it (a no-op once it does).

afterAll(removeTempDirs);

/**
 * Hand-made embeddings: users are (1, 0); item i is (i, 0.5 i mod 3), so every user's score of
 * item i is exactly i and the ranking is by item index, highest first.
 */
function embeddings(s: SyntheticDataset): { userEmb: Matrix; itemEmb: Matrix } {
  const nU = s.users.length;
  const nI = s.items.length;
  return {
    userEmb: {
      rows: nU,
      cols: 2,
      data: Float32Array.from({ length: nU * 2 }, (_, k) => (k % 2 === 0 ? 1 : 0)),
    },
    itemEmb: {
      rows: nI,
      cols: 2,
      data: Float32Array.from({ length: nI * 2 }, (_, k) =>
        k % 2 === 0 ? k / 2 : 0.5 * (((k - 1) / 2) % 3),
      ),
    },
  };
}

describe('promax recommend', () => {
  let ds: SyntheticDataset;
  let run: string;

  beforeAll(() => {
    ds = writeSyntheticDataset();
    run = writeFakeRun(join(tempDir('promax-rec-'), 'run'), {
      model: 'mf',
      dataset: 'tiny-books',
      datasetSource: ds.dir,
      seed: 1,
      promax: false,
      test: { 'recall@20': 0.5 },
      ...embeddings(ds),
    });
  });

  const expectedTop = (user: string, k: number): string[] => {
    const u = ds.users.indexOf(user);
    const train = new Set(ds.train.filter(([uu]) => uu === u).map(([, i]) => i));
    return ds.items
      .map((id, i) => ({ id, i }))
      .filter(({ i }) => !train.has(i))
      .sort((a, b) => b.i - a.i)
      .slice(0, k)
      .map(({ id }) => id);
  };

  it('returns the exact top-k by score with the train items left out (--json)', async () => {
    for (const user of ['u00', 'u05', 'u17']) {
      const io = captureIo();
      expect(
        await main(['recommend', '--run', run, '--user', user, '--k', '5', '--json'], io),
        io.stderr(),
      ).toBe(0);
      const got = JSON.parse(io.stdout()) as { user: string; items: { item: string; score: number }[] };
      expect(got.user).toBe(user);
      expect(got.items.map((x) => x.item)).toEqual(expectedTop(user, 5));
      expect(got.items.map((x) => x.score)).toEqual(got.items.map((x) => ds.items.indexOf(x.item)));
      const u = ds.users.indexOf(user);
      const trained = ds.train.filter(([uu]) => uu === u).map(([, i]) => ds.items[i]);
      expect(trained.length).toBeGreaterThan(0);
      for (const t of trained) expect(got.items.map((x) => x.item)).not.toContain(t);
    }
    // the top train item of u05 would otherwise rank: the exclusion is doing the work
    const u = ds.users.indexOf('u05');
    const topTrained = Math.max(...ds.train.filter(([uu]) => uu === u).map(([, i]) => i));
    expect(topTrained).toBeGreaterThan(ds.items.indexOf(expectedTop('u05', 5)[4] as string));
  });

  it('prints a table with the titles of the item text table', async () => {
    const io = captureIo();
    expect(await main(['recommend', '--run', run, '--user', 'u05', '--k', '3'], io), io.stderr()).toBe(0);
    const top = expectedTop('u05', 3);
    expect(io.stdout()).toMatch(/^top 3 for user u05 \(tiny-books; \d+ train items? left out\)/);
    expect(io.stdout()).toContain('| rank | item | score | title |');
    const i = ds.items.indexOf(top[0] as string);
    expect(io.stdout()).toContain(`| 1 | ${top[0]} | ${i.toFixed(4)} | The `);
  });

  it('rejects an unknown user naming the id and how to list ids', async () => {
    const io = captureIo();
    expect(await main(['recommend', '--run', run, '--user', 'nobody'], io)).toBe(2);
    expect(io.stderr()).toMatch(
      /^error \[INVALID_ARGUMENT\]: unknown user 'nobody': dataset tiny-books has 24 users with ids like 'u00', 'u01', 'u02'/,
    );
    expect(io.stderr()).toContain(`promax recommend --run ${run} --list-users`);
    const list = captureIo();
    expect(await main(['recommend', '--run', run, '--list-users'], list)).toBe(0);
    expect(list.stdout().trim().split('\n')).toEqual(ds.users);
  });

  it('uses dense row numbers as ids when the dataset has no id map', async () => {
    const rl = writeSyntheticRlmrec();
    const dir = writeFakeRun(join(tempDir('promax-rec-'), 'run'), {
      model: 'mf',
      dataset: 'rlmrec',
      datasetSource: rl.dir,
      seed: 1,
      promax: false,
      test: {},
      ...embeddings(rl),
    });
    const io = captureIo();
    expect(
      await main(['recommend', '--run', dir, '--user', '5', '--k', '4', '--json'], io),
      io.stderr(),
    ).toBe(0);
    const u = 5;
    const train = new Set(rl.train.filter(([uu]) => uu === u).map(([, i]) => i));
    const expected = Array.from({ length: rl.items.length }, (_, i) => rl.items.length - 1 - i)
      .filter((i) => !train.has(i))
      .slice(0, 4)
      .map(String);
    expect(JSON.parse(io.stdout())).toEqual({
      user: '5',
      items: expected.map((item) => ({ item, score: Number(item) })),
    });
    const bad = captureIo();
    expect(await main(['recommend', '--run', dir, '--user', 'u05'], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/no id map, so ids are dense row numbers 0…23/);
  });

  it('fails clearly without a run or with mismatched embeddings', async () => {
    const io = captureIo();
    expect(await main(['recommend', '--user', 'u00'], io)).toBe(2);
    expect(io.stderr()).toMatch(/--run is required/);
    const dir = writeFakeRun(join(tempDir('promax-rec-'), 'run'), {
      model: 'mf',
      dataset: 'tiny-books',
      datasetSource: ds.dir,
      seed: 1,
      promax: false,
      test: {},
      userEmb: { rows: 3, cols: 2, data: new Float32Array(6) },
      itemEmb: { rows: 30, cols: 2, data: new Float32Array(60) },
    });
    const mis = captureIo();
    expect(await main(['recommend', '--run', dir, '--user', 'u00'], mis)).toBe(2);
    expect(mis.stderr()).toMatch(/^error \[SHAPE_MISMATCH\]: the embeddings are 3×2 \(users\)/);
  });
});
