import { type CsrMatrix, csrFromCoo, PromaxError, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { sampleBatchNegatives, sampleNegatives, TripleSampler } from './negative-sampler.js';

const csr = (rows: number, cols: number, pairs: [number, number][]): CsrMatrix =>
  csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;

/** Random binary matrix where user u holds `degree(u)` distinct items. */
function randomTrain(rows: number, cols: number, degree: (u: number) => number, seed: number): CsrMatrix {
  const rng = new Rng(seed);
  const pairs: [number, number][] = [];
  const items = Int32Array.from({ length: cols }, (_, i) => i);
  for (let u = 0; u < rows; u++) {
    rng.shuffle(items);
    for (let k = 0; k < degree(u); k++) pairs.push([u, items[k]]);
  }
  return csr(rows, cols, pairs);
}

const rowSet = (m: CsrMatrix, u: number) => new Set(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));

/** Upper chi-square quantile (Wilson–Hilferty), z = 3.09 ↔ p = 0.001. */
const chiSquareCritical = (df: number, z = 3.09) =>
  df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;

describe('TripleSampler', () => {
  // 12 users × 10 items: degrees 0..9 and two more, so one user has exactly one valid negative.
  const train = randomTrain(12, 10, (u) => (u < 10 ? u : 3), 7);

  it('never emits a train item as the negative (exhaustive over many epochs)', () => {
    const sampler = new TripleSampler(train, { batchSize: 7 });
    const rows = Array.from({ length: train.rows }, (_, u) => rowSet(train, u));
    const rng = new Rng(1);
    const bad: string[] = [];
    let checked = 0;
    for (let epoch = 0; epoch < 1000; epoch++) {
      sampler.sampleEpoch(rng);
      for (const b of sampler.batches()) {
        for (let k = 0; k < b.users.length; k++) {
          const u = b.users[k];
          const j = b.neg[k];
          if (!rows[u].has(b.pos[k]) || rows[u].has(j) || !(j >= 0 && j < 10))
            bad.push(`${u}:${b.pos[k]}:${j}`);
          checked++;
        }
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBe(1000 * train.indptr[train.rows]);
    // user 9 holds 9 of 10 items: its only possible negative is the missing one
    const missing = [...Array(10).keys()].find((i) => !rows[9].has(i));
    sampler.sampleEpoch(rng);
    for (const b of sampler.batches())
      for (let k = 0; k < b.users.length; k++) if (b.users[k] === 9) expect(b.neg[k]).toBe(missing);
  });

  it('covers every interaction once per epoch, in shuffled batches with the last partial batch kept', () => {
    const n = train.indptr[train.rows];
    const sampler = new TripleSampler(train, { batchSize: 7 });
    expect(sampler.size).toBe(n);
    expect(sampler.numBatches).toBe(Math.ceil(n / 7));
    sampler.sampleEpoch(new Rng(3));
    const sizes = [...sampler.batches()].map((b) => b.users.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
    expect(sizes.slice(0, -1).every((s) => s === 7)).toBe(true);
    expect(sizes.at(-1)).toBe(n - 7 * (sampler.numBatches - 1));
    const seen = [...sampler.batches()]
      .flatMap((b) => Array.from(b.users, (u, k) => `${u}:${b.pos[k]}`))
      .sort();
    const expected: string[] = [];
    for (let u = 0; u < train.rows; u++) for (const i of rowSet(train, u)) expected.push(`${u}:${i}`);
    expect(seen).toEqual(expected.sort());
    // the order is shuffled, not CSR order
    const first = sampler.batch(0);
    expect(Array.from(first.users)).not.toEqual([...first.users].sort((a, b) => a - b));
    // batches are views into one buffer (no per-batch copies)
    expect(sampler.batch(0).users.buffer).toBe(sampler.batch(1).users.buffer);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const s = new TripleSampler(train, { batchSize: 1000 });
      const rng = new Rng(seed);
      s.sampleEpoch(rng);
      s.sampleEpoch(rng);
      const b = s.batch(0);
      return [Array.from(b.users), Array.from(b.pos), Array.from(b.neg)];
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
  });

  it('draws negatives uniformly over the items outside the train row (chi-square)', () => {
    const items = 50;
    const m = randomTrain(4, items, (u) => [10, 3, 25, 1][u], 5);
    const sampler = new TripleSampler(m, { batchSize: 4096 });
    const counts = Array.from({ length: 4 }, () => new Float64Array(items));
    const rng = new Rng(2025);
    for (let epoch = 0; epoch < 1500; epoch++) {
      sampler.sampleEpoch(rng);
      const b = sampler.batch(0);
      for (let k = 0; k < b.users.length; k++) counts[b.users[k]][b.neg[k]]++;
    }
    for (let u = 0; u < 4; u++) {
      const row = rowSet(m, u);
      const total = counts[u].reduce((a, b) => a + b, 0);
      const allowed = items - row.size;
      const expected = total / allowed;
      let chi = 0;
      for (let i = 0; i < items; i++) {
        if (row.has(i)) expect(counts[u][i]).toBe(0);
        else chi += (counts[u][i] - expected) ** 2 / expected;
      }
      expect(chi).toBeLessThan(chiSquareCritical(allowed - 1));
    }
  });

  it('rejects a user who interacted with every item, and bad batch sizes', () => {
    const full = csr(2, 3, [
      [0, 0],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    const err = (() => {
      try {
        new TripleSampler(full, { batchSize: 2 });
      } catch (e) {
        return e;
      }
    })();
    expect(PromaxError.isInstance(err) && err.code).toBe('INVALID_DATA');
    expect(String(err)).toMatch(/user 1 has interacted with all 3 items/);
    expect(() => sampleNegatives(full, new Rng(1))).toThrow(/user 1/);
    expect(() => new TripleSampler(train, { batchSize: 0 })).toThrow(/batchSize/);
  });

  it('sampleNegatives: one valid negative per CSR entry', () => {
    const out = sampleNegatives(train, new Rng(4));
    expect(out.length).toBe(train.indptr[train.rows]);
    for (let u = 0; u < train.rows; u++) {
      const row = rowSet(train, u);
      for (let k = train.indptr[u]; k < train.indptr[u + 1]; k++) expect(row.has(out[k])).toBe(false);
    }
  });
});

describe('sampleBatchNegatives', () => {
  // degrees 0..9 of 10 items: user 9 has exactly one valid negative.
  const train = randomTrain(12, 10, (u) => (u < 10 ? u : 3), 7);
  const rows = Array.from({ length: train.rows }, (_, u) => rowSet(train, u));

  it('K negatives per row, never a train item of that row (repeated users, reused marker)', () => {
    const marker = new Int32Array(10).fill(-1);
    const rng = new Rng(3);
    const users = Int32Array.from([9, 0, 9, 5, 1, 9, 11, 3, 3, 8]);
    for (let step = 0; step < 200; step++) {
      const out = sampleBatchNegatives(train, users, 7, rng, marker);
      expect(out).toHaveLength(70);
      users.forEach((u, b) => {
        for (let k = 0; k < 7; k++) {
          const j = out[b * 7 + k];
          expect(j >= 0 && j < 10 && !rows[u].has(j), `user ${u} drew ${j}`).toBe(true);
        }
      });
    }
    const missing = [...Array(10).keys()].find((i) => !rows[9].has(i));
    const out = sampleBatchNegatives(train, Int32Array.from([9]), 5, rng, marker);
    expect(Array.from(out)).toEqual([missing, missing, missing, missing, missing]);
  });

  it('draws uniformly over the items outside the row (chi-square), deterministically per seed', () => {
    const items = 40;
    const m = randomTrain(3, items, (u) => [12, 2, 30][u], 5);
    const counts = Array.from({ length: 3 }, () => new Float64Array(items));
    const marker = new Int32Array(items).fill(-1);
    const rng = new Rng(2025);
    const users = Int32Array.from([0, 1, 2, 1, 0]);
    for (let step = 0; step < 2000; step++) {
      const out = sampleBatchNegatives(m, users, 16, rng, marker);
      users.forEach((u, b) => {
        for (let k = 0; k < 16; k++) counts[u][out[b * 16 + k]]++;
      });
    }
    for (let u = 0; u < 3; u++) {
      const row = rowSet(m, u);
      const total = counts[u].reduce((a, b) => a + b, 0);
      const allowed = items - row.size;
      let chi = 0;
      for (let i = 0; i < items; i++) {
        if (row.has(i)) expect(counts[u][i]).toBe(0);
        else chi += (counts[u][i] - total / allowed) ** 2 / (total / allowed);
      }
      expect(chi).toBeLessThan(chiSquareCritical(allowed - 1));
    }
    const draw = (seed: number) =>
      Array.from(sampleBatchNegatives(m, users, 4, new Rng(seed), new Int32Array(items).fill(-1)));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('rejects a full row and a marker of the wrong size', () => {
    const full = csr(2, 3, [
      [0, 0],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    const marker = new Int32Array(3).fill(-1);
    expect(() => sampleBatchNegatives(full, Int32Array.from([1]), 2, new Rng(1), marker)).toThrow(/user 1/);
    expect(() => sampleBatchNegatives(full, Int32Array.from([0]), 2, new Rng(1), new Int32Array(2))).toThrow(
      /marker/,
    );
  });
});
