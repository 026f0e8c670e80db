import { type CsrMatrix, csrFromCoo, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { addedCounts, popularityAugmentation, randomAugmentation, shuffleRows } from './ablation-arms.js';

/** Train with a skewed item popularity, and a reference A′ adding 0–6 items per user (some already-trained duplicates included). */
function fixture(): { train: CsrMatrix; reference: CsrMatrix; added: number[] } {
  const rng = new Rng(11);
  const U = 80;
  const I = 120;
  const train: [number, number][] = [];
  const ref: [number, number][] = [];
  const added: number[] = [];
  for (let u = 0; u < U; u++) {
    const own = new Set<number>();
    const deg = u === 0 ? I - 3 : 2 + rng.nextInt(15); // user 0 leaves only 3 items to add
    while (own.size < deg) own.add(Math.floor(I * rng.nextFloat() ** 3)); // low ids popular
    for (const i of own) train.push([u, i]);
    const want = u === 0 ? 3 : rng.nextInt(7);
    const extra = new Set<number>();
    while (extra.size < want) {
      const i = rng.nextInt(I);
      if (!own.has(i)) extra.add(i);
    }
    added.push(want);
    for (const i of [...own, ...extra]) ref.push([u, i]);
  }
  const csr = (pairs: [number, number][]) =>
    csrFromCoo(
      { rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) },
      { duplicates: 'max' },
    ).matrix;
  return { train: csr(train), reference: csr(ref), added };
}

const row = (m: CsrMatrix, u: number) => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));

function expectExactArm(train: CsrMatrix, out: CsrMatrix, added: number[]): number[] {
  const drawn: number[] = [];
  for (let u = 0; u < train.rows; u++) {
    const own = new Set(row(train, u));
    const r = row(out, u);
    expect(new Set(r).size).toBe(r.length); // no duplicate
    expect([...r].sort((a, b) => a - b)).toEqual(r); // canonical CSR row
    for (const i of own) expect(r).toContain(i); // train kept
    const extra = r.filter((i) => !own.has(i));
    expect(extra.length).toBe(added[u]); // exactly the reference's added count
    drawn.push(...extra);
  }
  return drawn;
}

describe('A′ control arms', () => {
  const { train, reference, added } = fixture();

  it('counts the items the reference adds per user', () => {
    expect(Array.from(addedCounts(train, reference))).toEqual(added);
  });

  it('random and popularity arms add exactly the per-user counts and never a train item', () => {
    for (const make of [randomAugmentation, popularityAugmentation]) {
      const out = make(train, reference, new Rng(3));
      expectExactArm(train, out, added);
      expect(Array.from(addedCounts(train, out))).toEqual(added);
      // user 0 had exactly 3 non-train items left: they must all be drawn.
      expect(row(out, 0).length).toBe(train.cols);
    }
  });

  it('popularity draws popular items more often than the uniform arm; both are seeded', () => {
    const degree = new Float64Array(train.cols);
    for (const i of train.indices) degree[i]++;
    const meanDeg = (m: CsrMatrix) => {
      const items = expectExactArm(train, m, added);
      return items.reduce((s, i) => s + degree[i], 0) / items.length;
    };
    const pop = popularityAugmentation(train, reference, new Rng(4));
    const rnd = randomAugmentation(train, reference, new Rng(4));
    expect(meanDeg(pop)).toBeGreaterThan(1.5 * meanDeg(rnd));
    expect(Array.from(randomAugmentation(train, reference, new Rng(4)).indices)).toEqual(
      Array.from(rnd.indices),
    );
    expect(Array.from(randomAugmentation(train, reference, new Rng(5)).indices)).not.toEqual(
      Array.from(rnd.indices),
    );
  });

  it('refuses a reference of another shape', () => {
    const other = { ...reference, cols: reference.cols + 1 };
    expect(() => randomAugmentation(train, other, new Rng(1))).toThrow(/reference A′ is 80×121/);
  });

  it('shuffled profiles: same rows, every user given another user’s row', () => {
    const rows = 9;
    const cols = 4;
    const data = Float32Array.from({ length: rows * cols }, (_, k) => Math.floor(k / cols) + (k % cols) / 10);
    const { matrix, permutation } = shuffleRows({ rows, cols, data }, new Rng(7));
    expect([...permutation].sort()).toEqual([...Array(rows).keys()]);
    for (let u = 0; u < rows; u++) {
      expect(permutation[u]).not.toBe(u);
      expect(Array.from(matrix.data.subarray(u * cols, (u + 1) * cols))).toEqual(
        Array.from(data.subarray(permutation[u] * cols, (permutation[u] + 1) * cols)),
      );
    }
  });
});
