import type { Matrix, ProgressEvent } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { syntheticProfiles } from '../testing/synthetic.js';
import { preprocessProfiles } from './preprocess-profiles.js';
import { applyWhitening, fitWhitening } from './whitening.js';

const users = syntheticProfiles({ rows: 240, dim: 24, seed: 11, rank: 24, clusters: 5, offset: 2 });
// Items live in a shifted, differently-shaped distribution (as item profiles do).
const items = syntheticProfiles({
  rows: 180,
  dim: 24,
  seed: 12,
  rank: 24,
  decay: 1.1,
  clusters: 4,
  offset: 2,
});

function rowNorms(m: Matrix): number[] {
  return Array.from({ length: m.rows }, (_, r) =>
    Math.hypot(...m.data.subarray(r * m.cols, (r + 1) * m.cols)),
  );
}

describe('preprocessProfiles', () => {
  it("'separate' (default) fits users and items on their own and L2-normalises", async () => {
    const events: ProgressEvent[] = [];
    const out = await preprocessProfiles({ users, items, k: 6, onProgress: (e) => events.push(e) });
    expect(out.info).toMatchObject({ mode: 'separate', inputDim: 24, dim: 6, users: 240, items: 180 });
    expect(out.users).toMatchObject({ rows: 240, cols: 6 });
    expect(out.items).toMatchObject({ rows: 180, cols: 6 });
    for (const n of [...rowNorms(out.users), ...rowNorms(out.items)]) expect(n).toBeCloseTo(1, 5);
    const wu = await fitWhitening(users, { k: 6 });
    expect(Array.from(out.whitening.users?.components ?? [])).toEqual(Array.from(wu.components));
    expect(Array.from(out.users.data)).toEqual(Array.from((await applyWhitening(users, wu)).data));
    expect(out.whitening.items).not.toBe(out.whitening.users);
    expect(out.info.timings.users?.eigenMs).toBeGreaterThanOrEqual(0);
    expect(events.map((e) => e.type)).toEqual(['task-start', 'task-progress', 'task-end']);
  });

  it("'joint' fits one whitening on the stacked rows; it differs from 'separate'", async () => {
    const sep = await preprocessProfiles({ users, items, k: 6, mode: 'separate' });
    const joint = await preprocessProfiles({ users, items, k: 6, mode: 'joint' });
    expect(joint.whitening.users).toBe(joint.whitening.items);
    expect(joint.whitening.users?.rows).toBe(420);
    let diff = 0;
    for (let i = 0; i < sep.users.data.length; i++)
      diff = Math.max(diff, Math.abs(sep.users.data[i] - joint.users.data[i]));
    expect(diff).toBeGreaterThan(0.05);
    for (const n of rowNorms(joint.items)) expect(n).toBeCloseTo(1, 5);
  });

  it("'none' only L2-normalises in the full space", async () => {
    const out = await preprocessProfiles({ users, items, mode: 'none' });
    expect(out.info).toMatchObject({ mode: 'none', dim: 24 });
    expect(out.whitening).toEqual({});
    const n0 = Math.hypot(...users.data.subarray(0, 24));
    expect(out.users.data[5]).toBeCloseTo(users.data[5] / n0, 6);
  });

  it('is deterministic', async () => {
    const a = await preprocessProfiles({ users, items, k: 5 });
    const b = await preprocessProfiles({ users, items, k: 5 });
    expect(Buffer.from(a.users.data.buffer).equals(Buffer.from(b.users.data.buffer))).toBe(true);
    expect(Buffer.from(a.items.data.buffer).equals(Buffer.from(b.items.data.buffer))).toBe(true);
  });

  it('rejects mismatched widths, a missing k and unknown modes', async () => {
    const narrow = syntheticProfiles({ rows: 30, dim: 20, seed: 1 });
    await expect(preprocessProfiles({ users, items: narrow, k: 4 })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
    await expect(preprocessProfiles({ users, items })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'k',
    });
    await expect(preprocessProfiles({ users, items, k: 4, mode: 'pca' as never })).rejects.toThrow(
      /unknown preprocessing mode/,
    );
  });
});
