import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Matrix } from '@promax/core';
import { locateData } from '@promax/data';
import { writeFakeRun, xmlProblems } from '@promax/report/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import {
  removeTempDirs,
  type SyntheticDataset,
  tempDir,
  writeSyntheticDataset,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

// Until the registry lists it (a no-op once it does).

const KEYS = ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20'];
const BASE = [
  { 'recall@5': 0.1, 'recall@10': 0.2, 'recall@20': 0.3, 'ndcg@5': 0.1, 'ndcg@10': 0.15, 'ndcg@20': 0.2 },
  {
    'recall@5': 0.12,
    'recall@10': 0.21,
    'recall@20': 0.32,
    'ndcg@5': 0.11,
    'ndcg@10': 0.16,
    'ndcg@20': 0.22,
  },
  {
    'recall@5': 0.11,
    'recall@10': 0.22,
    'recall@20': 0.31,
    'ndcg@5': 0.12,
    'ndcg@10': 0.17,
    'ndcg@20': 0.24,
  },
];
// recall@20: +0.04 with std 0.01 (beyond the std); ndcg@20: +0.01 with std 0.02 (within it)
const PROMAX = [
  {
    'recall@5': 0.13,
    'recall@10': 0.23,
    'recall@20': 0.35,
    'ndcg@5': 0.12,
    'ndcg@10': 0.16,
    'ndcg@20': 0.21,
  },
  {
    'recall@5': 0.14,
    'recall@10': 0.24,
    'recall@20': 0.36,
    'ndcg@5': 0.13,
    'ndcg@10': 0.17,
    'ndcg@20': 0.23,
  },
  {
    'recall@5': 0.15,
    'recall@10': 0.25,
    'recall@20': 0.34,
    'ndcg@5': 0.14,
    'ndcg@10': 0.18,
    'ndcg@20': 0.25,
  },
];

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sampleStd = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1));

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const r = lcg(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => r() * 2 - 1) };
}

/** Independent recall@K per train-degree quartile group (brute force, float64). */
function bruteForceGroupRecall(s: SyntheticDataset, U: Matrix, I: Matrix, k: number): number[] {
  const nU = s.users.length;
  const nI = s.items.length;
  const trainOf = Array.from({ length: nU }, () => new Set<number>());
  const testOf = Array.from({ length: nU }, () => new Set<number>());
  for (const [u, i] of s.train) trainOf[u]?.add(i);
  for (const [u, i] of s.test) testOf[u]?.add(i);
  const deg = trainOf.map((t) => t.size);
  const sorted = [...deg].sort((a, b) => a - b);
  const pct = (q: number) => {
    const pos = (q / 100) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(sorted.length - 1, lo + 1);
    return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
  };
  const [q1, q2, q3] = [pct(25), pct(50), pct(75)];
  const group = (d: number) => (d < q1 ? 0 : d < q2 ? 1 : d < q3 ? 2 : 3);
  const sums = [0, 0, 0, 0];
  const counts = [0, 0, 0, 0];
  for (let u = 0; u < nU; u++) {
    const test = testOf[u] as Set<number>;
    if (!test.size) continue;
    const cand: { i: number; score: number }[] = [];
    for (let i = 0; i < nI; i++) {
      if (trainOf[u]?.has(i)) continue;
      let score = 0;
      for (let c = 0; c < U.cols; c++)
        score += (U.data[u * U.cols + c] as number) * (I.data[i * I.cols + c] as number);
      cand.push({ i, score });
    }
    cand.sort((a, b) => b.score - a.score || a.i - b.i);
    const hits = cand.slice(0, k).filter((c) => test.has(c.i)).length;
    const g = group(deg[u] as number);
    sums[g] = (sums[g] as number) + hits / test.size;
    counts[g] = (counts[g] as number) + 1;
  }
  return sums.map((v, g) => v / (counts[g] as number)).filter((_, g) => (counts[g] as number) > 0);
}

const attr = (el: string, name: string): string | undefined =>
  new RegExp(`\\s${name}="([^"]*)"`).exec(el)?.[1];
const bars = (svg: string) =>
  (svg.match(/<rect\b[^>]*data-series[^>]*>/g) ?? []).map((el) => ({
    series: (attr(el, 'data-series') as string).replace(/&apos;/g, "'"),
    group: attr(el, 'data-group') as string,
    value: Number(attr(el, 'data-value')),
  }));

afterAll(removeTempDirs);

describe('promax report on fake runs of a small dataset', () => {
  let ds: SyntheticDataset;
  let root: string;
  const runDirs: string[] = [];
  const userEmbs: Record<string, Matrix[]> = { base: [], promax: [] };
  const itemEmbs: Record<string, Matrix[]> = { base: [], promax: [] };

  beforeAll(() => {
    ds = writeSyntheticDataset();
    root = tempDir('promax-report-');
    for (const [kind, tests] of [
      ['base', BASE],
      ['promax', PROMAX],
    ] as const) {
      tests.forEach((test, s) => {
        const seed = 1 + s;
        const U = randomMatrix(ds.users.length, 4, 100 * seed + (kind === 'promax' ? 7 : 0));
        const I = randomMatrix(ds.items.length, 4, 100 * seed + (kind === 'promax' ? 8 : 1));
        userEmbs[kind]?.push(U);
        itemEmbs[kind]?.push(I);
        const dir = writeFakeRun(join(root, 'mf', `seed-${seed}`, kind), {
          model: 'mf',
          dataset: 'tiny-books',
          datasetSource: ds.dir,
          seed,
          promax:
            kind === 'promax' ? { sdr: false, s2dr: true, notes: ['SDR off: no profile embeddings'] } : false,
          test,
          valCurve: [
            [3, 0.1 + 0.01 * s],
            [6, 0.2 + 0.01 * s],
            [9, 0.25 + (kind === 'promax' ? 0.02 : 0)],
          ],
          userEmb: U,
          itemEmb: I,
        });
        runDirs.push(dir);
      });
    }
    writeFileSync(
      join(runDirs[0] as string, 'profile_retrieval.json'),
      JSON.stringify({
        ks: [10, 20],
        profile: { metrics: { 'recall@10': 0.2, 'recall@20': 0.3 } },
        popularity: { metrics: { 'recall@10': 0.1, 'recall@20': 0.15 } },
        random: { 'recall@10': 0.01, 'recall@20': 0.02 },
      }),
    );
  });

  it('writes report.md with means ± std, gains, a reference note and the plots', async () => {
    const out = tempDir('promax-report-out-');
    const io = captureIo();
    const code = await main(['report', ...runDirs.flatMap((d) => ['--run', d]), '--out', out], io);
    expect(code, io.stderr()).toBe(0);
    expect(io.stdout()).toBe(`report: ${join(out, 'report.md')} (6 runs, 3 plots)\n`);
    const md = readFileSync(join(out, 'report.md'), 'utf8');

    // results table: mean ± sample std over the three seeds
    const row = (label: string, values: Record<string, number>[]) =>
      `| mf | tiny-books | ${label} | 3 | ${KEYS.map((k) => `${mean(values.map((v) => v[k] as number)).toFixed(4)} ± ${sampleStd(values.map((v) => v[k] as number)).toFixed(4)}`).join(' | ')} |`;
    expect(md).toContain(row('none', BASE));
    expect(md).toContain(row('ProMax (S2DR)', PROMAX));

    // gains: relative difference of the means; beyond / within the larger seed std
    const gain = (k: string) =>
      (mean(PROMAX.map((v) => v[k as 'recall@20'])) / mean(BASE.map((v) => v[k as 'recall@20'])) - 1) * 100;
    const gainLine = md
      .split('\n')
      .find((l) => l.startsWith('| mf+ProMax (S2DR) | tiny-books | 3 / 3 |')) as string;
    expect(gainLine).toBeDefined();
    // p: paired t over the three seeds; SciPy's ttest_rel gives 0.0202041 for recall@20, and a
    // per-seed difference of 0.01 at every seed for ndcg@20 (within the std, yet consistent) is p ≈ 1e-30.
    expect(gainLine).toContain(`+${gain('recall@20').toFixed(1)}% (beyond std, p = 0.020)`);
    expect(gainLine).toContain(`+${gain('ndcg@20').toFixed(1)}% (within std, p < 1e-4)`);
    expect(gain('recall@20').toFixed(1)).toBe('12.9');

    // no authors' numbers for a dataset they did not run
    expect(md).toMatch(/mf\+ProMax \(S2DR\) on tiny-books\*\*: the authors released no run on tiny-books/);
    expect(md).not.toMatch(/authors: LightGCN\+ProMax/);

    // plots
    for (const p of ['val_recall20.svg', 'sparsity_gains.svg', 'profile_retrieval.svg']) {
      expect(md).toContain(`](plots/${p})`);
      expect(xmlProblems(readFileSync(join(out, 'plots', p), 'utf8')), p).toEqual([]);
    }
    const val = readFileSync(join(out, 'plots', 'val_recall20.svg'), 'utf8');
    expect(val.match(/<polyline /g)).toHaveLength(6);
    expect(val).toContain('data-series="mf+ProMax (S2DR) seed 2"');
    expect(val).not.toContain('stroke-dasharray');

    const pr = bars(readFileSync(join(out, 'plots', 'profile_retrieval.svg'), 'utf8'));
    expect(pr).toEqual([
      { series: 'profile', group: 'Recall@10', value: 0.2 },
      { series: 'popularity', group: 'Recall@10', value: 0.1 },
      { series: 'random', group: 'Recall@10', value: 0.01 },
      { series: 'profile', group: 'Recall@20', value: 0.3 },
      { series: 'popularity', group: 'Recall@20', value: 0.15 },
      { series: 'random', group: 'Recall@20', value: 0.02 },
    ]);
  });

  it('gives paired p-values only where runs pair by seed: none for one seed, none when a seed repeats', async () => {
    const gainLineOf = async (args: string[]) => {
      const out = tempDir('promax-report-out-');
      const io = captureIo();
      expect(await main(['report', ...args, '--no-sparsity', '--out', out], io), io.stderr()).toBe(0);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      return md.split('\n').find((l) => l.startsWith('| mf+ProMax (S2DR) | tiny-books |')) as string;
    };
    const one = await gainLineOf(['--run', runDirs[3] as string, '--compare', runDirs[0] as string]);
    expect(one).toContain('| 1 / 1 |');
    expect(one).toContain('(1 seed)');
    expect(one).not.toContain('p =');
    const copy = join(tempDir('promax-report-copy-'), 'seed-1-again');
    cpSync(runDirs[3] as string, copy, { recursive: true });
    const repeated = await gainLineOf([...runDirs.flatMap((d) => ['--run', d]), '--run', copy]);
    expect(repeated).toContain('| 3 / 4 |');
    expect(repeated).not.toMatch(/p [=<]/);
  });

  it('keeps apart runs of other methods and other settings: one group per configuration, gains against the matching base', async () => {
    const at = (r20: number) => Object.fromEntries(KEYS.map((k) => [k, k === 'recall@20' ? r20 : 0.1]));
    const more = tempDir('promax-report-configs-');
    const write = (
      name: string,
      seed: number,
      r20: number,
      extra: Partial<Parameters<typeof writeFakeRun>[1]>,
    ) =>
      writeFakeRun(join(more, name, `seed-${seed}`), {
        model: 'mf',
        dataset: 'tiny-books',
        datasetSource: ds.dir,
        seed,
        promax: false,
        test: at(r20),
        valCurve: [[3, 0.2]],
        ...extra,
      });
    const wide = [0.5, 0.52, 0.51].map((v, s) =>
      write('wide', s + 1, v, { modelSettings: { embeddingSize: 8 } }),
    );
    const rival = [0.33, 0.34, 0.32].map((v, s) =>
      write('rival', s + 1, v, { methods: [{ id: 'rlmrec-con', settings: { kdWeight: 0.01 } }] }),
    );
    const base = runDirs.slice(0, 3); // recall@20 0.30 / 0.32 / 0.31 at embeddingSize 2
    const out = tempDir('promax-report-out-');
    const io = captureIo();
    const argv = ['report', ...[...base, ...wide, ...rival].flatMap((d) => ['--run', d]), '--no-sparsity'];
    expect(await main([...argv, '--out', out], io), io.stderr()).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const r20 = (line: string | undefined) => line?.split(' | ')[6];
    const find = (prefix: string) => md.split('\n').find((l) => l.startsWith(prefix));
    // Three configurations, never one mixed group of 9 runs: each mean is over its own 3 seeds.
    expect(r20(find('| mf (embeddingSize=2) | tiny-books | none | 3 |'))).toBe('0.3100 ± 0.0100');
    expect(r20(find('| mf (embeddingSize=8) | tiny-books | none | 3 |'))).toBe('0.5100 ± 0.0100');
    expect(r20(find('| mf | tiny-books | rlmrec-con | 3 |'))).toBe('0.3300 ± 0.0100');
    expect(md).not.toMatch(/\| tiny-books \| none \| (6|9) \|/);
    // The rival's gain is against the base with its own model settings (0.33 vs 0.31: +6.5 %), paired.
    const gain = find('| mf+rlmrec-con vs mf (embeddingSize=2) | tiny-books | 3 / 3 |');
    expect(gain).toContain(`+${((0.33 / 0.31 - 1) * 100).toFixed(1)}% (`);
    // Two base configurations and a rival trained with neither's settings: no gain, and why.
    const odd = write('odd', 1, 0.4, {
      modelSettings: { embeddingSize: 4 },
      methods: [{ id: 'kar', settings: {} }],
    });
    const out2 = tempDir('promax-report-out-');
    const io2 = captureIo();
    // A run that records a setting the others predate (same value as the default) is a fourth seed of
    // the same configuration, not a configuration of its own.
    const newer = write('newer', 4, 0.31, { modelSettings: { embeddingSize: 2, edgeKeepRate: 1 } });
    const argv2 = ['report', ...[...base, newer, ...wide, odd].flatMap((d) => ['--run', d]), '--no-sparsity'];
    expect(await main([...argv2, '--out', out2], io2), io2.stderr()).toBe(0);
    const md2 = readFileSync(join(out2, 'report.md'), 'utf8');
    expect(md2).toContain(
      '- mf+kar on tiny-books: 2 base mf configurations (embeddingSize=2; embeddingSize=8) and none trained with its model and trainer settings, so no gain is computed.',
    );
    expect(md2).toMatch(/\| mf \(embeddingSize=2\) \| tiny-books \| none \| 4 \|/);

    // ProMax over the dataset's A′ and over an A′ drawn per seed (ablate's random arm): two
    // configurations, each over its seeds.
    const promaxAt = (name: string, seed: number, r20: number, aug?: string) => {
      const dir = write(name, seed, r20, { promax: { sdr: false, s2dr: true } });
      if (aug) {
        const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, aug }));
      }
      return dir;
    };
    const shipped = [1, 2, 3].map((seed) => promaxAt('shipped', seed, 0.35));
    const drawn = [1, 2, 3].map((seed) =>
      promaxAt('drawn', seed, 0.36, `/runs/inputs/random-seed-${seed}/aug.npz`),
    );
    const out3 = tempDir('promax-report-out-');
    const io3 = captureIo();
    const argv3 = [
      'report',
      ...[...base, ...shipped, ...drawn].flatMap((d) => ['--run', d]),
      '--no-sparsity',
    ];
    expect(await main([...argv3, '--out', out3], io3), io3.stderr()).toBe(0);
    const md3 = readFileSync(join(out3, 'report.md'), 'utf8');
    expect(md3).toContain("| mf (aug=the dataset's) | tiny-books | ProMax (S2DR) | 3 |");
    expect(md3).toContain('| mf (aug=random-seed-{seed}/aug.npz) | tiny-books | ProMax (S2DR) | 3 |');
  });

  it('plots per-sparsity-group test recall@20 that matches a brute-force evaluation of the saved embeddings', async () => {
    const out = tempDir('promax-report-out-');
    const io = captureIo();
    // the folder above all six runs stands for all of them; --out defaults to the first --run
    expect(await main(['report', '--run', root, '--out', out], io), io.stderr()).toBe(0);
    const got = bars(readFileSync(join(out, 'plots', 'sparsity_gains.svg'), 'utf8'));
    for (const kind of ['base', 'promax'] as const) {
      const perSeed = (userEmbs[kind] as Matrix[]).map((U, s) =>
        bruteForceGroupRecall(ds, U, (itemEmbs[kind] as Matrix[])[s] as Matrix, 20),
      );
      const expected = (perSeed[0] as number[]).map((_, g) => mean(perSeed.map((p) => p[g] as number)));
      const series = kind === 'base' ? 'mf' : 'mf+ProMax (S2DR)';
      const values = got.filter((b) => b.series === series).map((b) => b.value);
      expect(values).toHaveLength(expected.length);
      values.forEach((v, g) => {
        expect(v).toBeCloseTo(expected[g] as number, 5);
      });
    }
    expect(got.length).toBeGreaterThanOrEqual(4); // ≥ 2 non-empty quartile groups × 2 series
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| Q1 \| \d+(–\d+)? \| \d+ \|/);
  });

  it('defaults --out to the first run and fails clearly on a folder without runs', async () => {
    const io = captureIo();
    expect(await main(['report', '--run', runDirs[0] as string, '--no-sparsity'], io), io.stderr()).toBe(0);
    expect(io.stdout()).toContain(join(runDirs[0] as string, 'report.md'));
    expect(existsSync(join(runDirs[0] as string, 'plots', 'val_recall20.svg'))).toBe(true);

    const empty = tempDir('promax-empty-');
    const bad = captureIo();
    expect(await main(['report', '--run', empty], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/^error \[FILE_NOT_FOUND\]: no results\.json in this folder/);
    const none = captureIo();
    expect(await main(['report'], none)).toBe(2);
    expect(none.stderr()).toMatch(/--run is required/);
  });
});

const refLogs = locateData('reference_logs');

describe("promax report and the authors' numbers", () => {
  it.skipIf(refLogs.reason)(
    'shows them beside a LightGCN+ProMax run with both SDR and S2DR, and only then',
    async () => {
      const root = tempDir('promax-report-ref-');
      const test = {
        'recall@5': 0.07,
        'recall@10': 0.105,
        'recall@20': 0.16,
        'ndcg@5': 0.07,
        'ndcg@10': 0.082,
        'ndcg@20': 0.1,
      };
      const curve: [number, number][] = [
        [3, 0.12],
        [6, 0.13],
        [9, 0.14],
      ];
      const both = writeFakeRun(join(root, 'both'), {
        model: 'lightgcn',
        dataset: 'amazon-book',
        seed: 2025,
        promax: { sdr: true, s2dr: true },
        test,
        valCurve: curve,
        stopped: 'max-epochs',
        epochs: 9,
      });
      const base = writeFakeRun(join(root, 'base'), {
        model: 'lightgcn',
        dataset: 'amazon-book',
        seed: 2025,
        promax: false,
        test: { ...test, 'recall@20': 0.14 },
        valCurve: curve,
      });
      const out = tempDir('promax-report-out-');
      const io = captureIo();
      expect(await main(['report', '--run', both, '--compare', base, '--out', out], io), io.stderr()).toBe(0);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain(
        "**lightgcn+ProMax (SDR+S2DR) on amazon-book**: both SDR and S2DR ran, as in the authors' runs (amazon, best epoch 108).",
      );
      expect(md).toContain(
        '| authors: LightGCN+ProMax (seed 2025) | 0.0696 | 0.1071 | 0.1623 | 0.0704 | 0.0832 | 0.1012 |',
      );
      expect(md).toContain(
        '| authors: LightGCN+ProEx (context) | – | 0.1009 | 0.1529 | – | 0.0770 | 0.0940 |',
      );
      const authors: Record<string, number> = {
        'recall@5': 0.06958011,
        'recall@10': 0.10714893,
        'recall@20': 0.16234309,
        'ndcg@5': 0.07036079,
        'ndcg@10': 0.08324429,
        'ndcg@20': 0.10117354,
      };
      const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
      expect(md).toContain(
        `| ours vs authors | ${KEYS.map((k) => pct((test[k as 'recall@5'] as number) / (authors[k] as number) - 1)).join(' | ')} |`,
      );
      expect(md).toMatch(/stopped at the epoch budget \(9 epochs\)/);
      expect(md).toMatch(/\| [^|]*base \| compare \| lightgcn \|/);
      expect(md).toMatch(/no run has user_emb\.npy and item_emb\.npy/);
      const val = readFileSync(join(out, 'plots', 'val_recall20.svg'), 'utf8');
      expect(val).toContain('data-series="authors&apos; LightGCN+ProMax (log)"');
      expect(val).toMatch(
        /<polyline data-series="authors&apos; LightGCN\+ProMax \(log\)"[^>]*stroke-dasharray="6 4"/,
      );
      expect(md).toMatch(/shown up to epoch 108 of 168; best 0\.1657 at epoch 108/);

      // S2DR only, or another base model: a note instead of the numbers
      const s2dr = writeFakeRun(join(root, 's2dr'), {
        model: 'lightgcn',
        dataset: 'amazon-book',
        seed: 2025,
        promax: { sdr: false, s2dr: true, notes: ['SDR off: the dataset has no profile embeddings'] },
        test,
      });
      const mf = writeFakeRun(join(root, 'mf'), {
        model: 'mf',
        dataset: 'yelp',
        seed: 2025,
        promax: { sdr: true, s2dr: true },
        test,
      });
      const out2 = tempDir('promax-report-out-');
      const io2 = captureIo();
      expect(
        await main(['report', '--run', s2dr, '--run', mf, '--out', out2, '--no-sparsity'], io2),
        io2.stderr(),
      ).toBe(0);
      const md2 = readFileSync(join(out2, 'report.md'), 'utf8');
      expect(md2).toContain(
        "**lightgcn+ProMax (S2DR) on amazon-book**: it ran S2DR (SDR off: the dataset has no profile embeddings). The authors' numbers come from training with both SDR and S2DR, so they are not comparable and are not shown here.",
      );
      expect(md2).toContain(
        "**mf+ProMax (SDR+S2DR) on yelp**: the authors' numbers are for LightGCN+ProMax only",
      );
      expect(md2).not.toContain('authors: LightGCN+ProMax (seed 2025)');
      // two datasets: one validation plot each... none here (no curves), and per-dataset names
      expect(md2).toMatch(/amazon-book: no validation evaluations recorded/);
    },
  );
  if (refLogs.reason) console.warn(`skipping the reference-number report test: ${refLogs.reason}`);
});
