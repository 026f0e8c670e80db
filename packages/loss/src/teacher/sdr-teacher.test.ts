import { type CsrMatrix, csrFromCoo, type Matrix, type ProgressEvent, PromaxError, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { mat64, teacherReference } from '../testing/reference.js';
import { buildSdrTeacher, type SdrTeacherOptions } from './sdr-teacher.js';

const NU = 9;
const NI = 11;
const K = 5;

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => rng.nextNormal()) };
}

function fixture(seed = 1) {
  const rng = new Rng(seed);
  const users = randomMatrix(rng, NU, K);
  const items = randomMatrix(rng, NI, K);
  // Train rows of varied length (user 4 has none).
  const rows: number[][] = Array.from({ length: NU }, (_, u) =>
    u === 4 ? [] : [u % NI, (3 * u + 1) % NI, (5 * u + 2) % NI],
  );
  const mask: CsrMatrix = csrFromCoo(
    { rows: NU, cols: NI, row: rows.flatMap((r, u) => r.map(() => u)), col: rows.flat() },
    { duplicates: 'binary' },
  ).matrix;
  const maskRows = Array.from({ length: NU }, (_, u) =>
    Array.from(mask.indices.subarray(mask.indptr[u], mask.indptr[u + 1])),
  );
  return { users, items, mask, maskRows };
}

const ALL = Int32Array.from({ length: NU }, (_, u) => u);

async function rowsAndWeights(options: SdrTeacherOptions) {
  const teacher = await buildSdrTeacher(options);
  try {
    return { rows: await teacher.rowsFor(ALL), weights: teacher.weightsFor(ALL), info: teacher.info };
  } finally {
    await teacher.release();
  }
}

describe('buildSdrTeacher', () => {
  const cases = [
    { name: 'reference (no mask, all items)', mask: false, topK: null },
    { name: 'train items masked', mask: true, topK: null },
    { name: 'top-3', mask: false, topK: 3 },
    { name: 'masked top-4', mask: true, topK: 4 },
  ] as const;
  for (const c of cases) {
    for (const budget of [2 ** 30, 0]) {
      it(`${c.name}, ${budget ? 'precomputed' : 'per batch'}: rows and weights equal the float64 reference`, async () => {
        const f = fixture();
        const got = await rowsAndWeights({
          userProfiles: f.users,
          itemProfiles: f.items,
          tauP: 0.2,
          mask: c.mask ? f.mask : undefined,
          topK: c.topK,
          memoryBudgetBytes: budget,
          blockUsers: 4,
        });
        expect(got.info.storage).toBe(budget ? 'precomputed' : 'per-batch');
        const want = teacherReference(mat64(NU, K, f.users.data), mat64(NI, K, f.items.data), {
          tauP: 0.2,
          mask: c.mask ? f.maskRows : undefined,
          topK: c.topK,
        });
        let maxErr = 0;
        for (let i = 0; i < want.p.data.length; i++)
          maxErr = Math.max(maxErr, Math.abs(got.rows[i] - want.p.data[i]));
        expect(maxErr).toBeLessThan(2e-6);
        for (let u = 0; u < NU; u++) {
          expect(got.weights[u]).toBeCloseTo(want.weights[u], 5);
          let s = 0;
          for (let i = 0; i < NI; i++) s += got.rows[u * NI + i];
          expect(s).toBeCloseTo(1, 5);
          if (c.mask) for (const i of f.maskRows[u]) expect(got.rows[u * NI + i]).toBe(0);
          if (c.topK !== null) {
            let nonZero = 0;
            for (let i = 0; i < NI; i++) if (got.rows[u * NI + i] > 0) nonZero++;
            expect(nonZero).toBe(c.topK);
          }
        }
      });
    }
  }

  it('reports the memory estimate and picks the storage by the budget', async () => {
    const f = fixture();
    const events: ProgressEvent[] = [];
    const teacher = await buildSdrTeacher({
      userProfiles: f.users,
      itemProfiles: f.items,
      memoryBudgetBytes: NU * NI * 4,
      onProgress: (e) => events.push(e),
    });
    expect(teacher.info).toMatchObject({
      storage: 'precomputed',
      bytesPerUser: NI * 4,
      estimatedBytes: NU * NI * 4,
      storedBytes: NU * NI * 4,
      tauP: 0.2,
      topK: null,
      masked: false,
    });
    const info = events.find((e) => e.type === 'info');
    expect(info).toMatchObject({
      type: 'info',
      data: { estimatedBytes: NU * NI * 4, storage: 'precomputed' },
    });
    expect(events.at(-1)).toMatchObject({ type: 'task-end', task: 'sdr-teacher', done: NU });
    await teacher.release();
    const small = await buildSdrTeacher({
      userProfiles: f.users,
      itemProfiles: f.items,
      memoryBudgetBytes: NU * NI * 4 - 1,
    });
    expect(small.info).toMatchObject({ storage: 'per-batch', storedBytes: 0 });
    await small.release();
    const top = await buildSdrTeacher({ userProfiles: f.users, itemProfiles: f.items, topK: 3 });
    expect(top.info).toMatchObject({ topK: 3, bytesPerUser: 24, estimatedBytes: NU * 24 });
    await top.release();
    // Amazon-book dense: 11,000 × 9,332 float32 ≈ 410 MB.
    expect(11000 * 9332 * 4).toBeCloseTo(410.6e6, -6);
  });

  it('rowsFor handles repeats, any order and a larger out buffer; weightsFor matches weights', async () => {
    const f = fixture(2);
    for (const budget of [2 ** 30, 0]) {
      const teacher = await buildSdrTeacher({
        userProfiles: f.users,
        itemProfiles: f.items,
        memoryBudgetBytes: budget,
        blockUsers: 2,
      });
      const all = await teacher.rowsFor(ALL);
      const ids = Int32Array.of(7, 2, 7, 0, 8);
      const out = new Float32Array(ids.length * NI + 13).fill(-1);
      const rows = await teacher.rowsFor(ids, out);
      expect(rows.length).toBe(ids.length * NI);
      expect(rows.buffer).toBe(out.buffer);
      for (const [r, u] of ids.entries()) {
        expect(Array.from(rows.subarray(r * NI, (r + 1) * NI))).toEqual(
          Array.from(all.subarray(u * NI, (u + 1) * NI)),
        );
      }
      expect(Array.from(teacher.weightsFor(ids))).toEqual(Array.from(ids, (u) => teacher.weights[u]));
      await expect(teacher.rowsFor(Int32Array.of(NU))).rejects.toThrow(/outside/);
      await teacher.release();
    }
  });

  it('precomputed and per-batch rows agree', async () => {
    const f = fixture(4);
    const a = await rowsAndWeights({ userProfiles: f.users, itemProfiles: f.items, blockUsers: 3 });
    const b = await rowsAndWeights({
      userProfiles: f.users,
      itemProfiles: f.items,
      blockUsers: 3,
      memoryBudgetBytes: 0,
    });
    for (let i = 0; i < a.rows.length; i++) expect(Math.abs(a.rows[i] - b.rows[i])).toBeLessThan(1e-7);
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
  });

  it('uniform rows get w = 0.1, near one-hot rows w = 1', async () => {
    const rng = new Rng(3);
    const users = randomMatrix(rng, 3, 4);
    const same: Matrix = { rows: NI, cols: 4, data: new Float32Array(NI * 4).fill(0.5) };
    const uniform = await buildSdrTeacher({ userProfiles: users, itemProfiles: same });
    expect(Array.from(uniform.weights)).toEqual([0.1, 0.1, 0.1].map(Math.fround));
    const rows = await uniform.rowsFor(Int32Array.of(0));
    for (const v of rows) expect(v).toBeCloseTo(1 / NI, 6);
    await uniform.release();
    // Items along distinct axes, users equal to item 0, τp tiny: p ≈ one-hot.
    const items: Matrix = {
      rows: 4,
      cols: 4,
      data: Float32Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? 1 : 0)),
    };
    const sharp = await buildSdrTeacher({
      userProfiles: { rows: 1, cols: 4, data: Float32Array.of(1, 0, 0, 0) },
      itemProfiles: items,
      tauP: 0.01,
    });
    expect(sharp.weights[0]).toBe(1);
    await sharp.release();
  });

  it('rejects bad inputs with PromaxErrors', async () => {
    const f = fixture();
    const base = { userProfiles: f.users, itemProfiles: f.items };
    const nan: Matrix = { ...f.users, data: Float32Array.from(f.users.data) };
    nan.data[2 * K + 1] = Number.NaN;
    await expect(buildSdrTeacher({ ...base, userProfiles: nan })).rejects.toMatchObject({
      code: 'NON_FINITE',
      details: { row: 2 },
    });
    await expect(
      buildSdrTeacher({
        ...base,
        itemProfiles: { rows: NI, cols: K + 1, data: new Float32Array(NI * (K + 1)) },
      }),
    ).rejects.toThrow(PromaxError);
    await expect(buildSdrTeacher({ ...base, tauP: 0 })).rejects.toThrow(/tauP/);
    await expect(buildSdrTeacher({ ...base, topK: 0 })).rejects.toThrow(/topK/);
    await expect(buildSdrTeacher({ ...base, weightClip: [0.5, 0.2] })).rejects.toThrow(/weightClip/);
    const wrongMask = csrFromCoo({ rows: NU, cols: NI + 1, row: [0], col: [0] }).matrix;
    await expect(buildSdrTeacher({ ...base, mask: wrongMask })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
    const full = csrFromCoo({
      rows: NU,
      cols: NI,
      row: Array(NI).fill(3),
      col: Array.from({ length: NI }, (_, i) => i),
    }).matrix;
    await expect(buildSdrTeacher({ ...base, mask: full })).rejects.toMatchObject({
      code: 'INVALID_DATA',
      details: { user: 3 },
    });
  });
});
