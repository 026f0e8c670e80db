import { Rng } from '@promax/core';
import { compileInference, GraphBuilder } from '@promax/tensor';
import { describe, expect, it } from 'vitest';
import { m64, rlmrecInfoNce64, rows64 } from '../testing/baselines-reference.js';
import { rlmrecInfoNce } from './contrastive.js';
import { distinctCounts } from './profile-rows.js';

describe('rlmrecInfoNce on folded rows', () => {
  it('distinctCounts: ascending distinct ids, their counts and log counts', () => {
    const d = distinctCounts(Int32Array.of(4, 1, 4, 0, 4, 1), 6);
    expect([...d.values]).toEqual([0, 1, 4]);
    expect([...d.counts]).toEqual([1, 2, 3]);
    for (const [k, c] of [1, 2, 3].entries()) expect(d.logCounts[k]).toBeCloseTo(Math.log(c), 6);
    expect([...distinctCounts(BigInt64Array.of(2n, 2n), 3).values]).toEqual([2]);
  });

  it('equals the released sum over repeated rows (in-batch denominator with duplicates kept)', async () => {
    const rng = new Rng(21);
    const [N, d, tau] = [7, 4, 0.3];
    const z = Float32Array.from({ length: N * d }, () => rng.nextNormal());
    const p = Float32Array.from({ length: N * d }, () => rng.nextNormal());
    const batch = Int32Array.of(3, 0, 3, 5, 3, 0, 6);
    // The spec, float64: rows of the batch (duplicates kept) against the batch's rows.
    const pb = rows64(m64(N, d, p), batch);
    const want = rlmrecInfoNce64(rows64(m64(N, d, z), batch), pb, pb, tau);
    const { values, counts, logCounts } = distinctCounts(batch, N);
    const g = new GraphBuilder();
    const ids = g.input('ids', 'int64', ['R']);
    const rows = g.gather(g.input('p', 'float32', [N, d]), ids);
    const folded = rlmrecInfoNce(g, g.gather(g.input('z', 'float32', [N, d]), ids), rows, rows, tau, {
      rows: g.input('counts', 'float32', ['R']),
      logColumns: g.input('logCounts', 'float32', ['R']),
    });
    const program = await compileInference({ graph: g, outputs: { folded } }, { cache: false });
    const out = await program.run({ ids: BigInt64Array.from(values, BigInt), p, z, counts, logCounts });
    await program.release();
    const got = (out.folded.data as Float32Array)[0];
    expect(values.length).toBe(4);
    expect(Math.abs(got - want) / Math.abs(want)).toBeLessThan(1e-5);
  });
});
