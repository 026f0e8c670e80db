import { csrFromCoo, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { compileInference } from '../compile/program.js';
import { GraphBuilder } from '../graph/builder.js';
import { ParameterStore } from '../train/parameter-store.js';
import { adjacencyFeeds, normalizedBipartiteAdjacency } from './adjacency.js';

describe('normalizedBipartiteAdjacency', () => {
  const rng = new Rng(5);
  const row: number[] = [];
  const col: number[] = [];
  for (let u = 0; u < 7; u++) {
    for (let i = 0; i < 5; i++) {
      if (rng.nextFloat() < 0.4) {
        row.push(u);
        col.push(i);
      }
    }
  }
  const r = csrFromCoo({ rows: 7, cols: 5, row, col }).matrix;

  it('builds symmetric D^-½ A D^-½ edge arrays sorted by destination', () => {
    const a = normalizedBipartiteAdjacency(r);
    expect(a.rows).toBe(12);
    expect(a.src.length).toBe(2 * row.length);
    for (let k = 1; k < a.dst.length; k++) expect(a.dst[k] >= a.dst[k - 1]).toBe(true);
    const edges = new Set(Array.from(a.src, (s, k) => `${s}-${a.dst[k]}`));
    for (const e of edges) expect(edges.has(e.split('-').reverse().join('-'))).toBe(true);
    const w = normalizedBipartiteAdjacency(r, { form: 'weighted' });
    expect(w.weight?.length).toBe(a.src.length);
  });

  for (const [form, selfLoops] of [
    ['factored', false],
    ['weighted', false],
    ['factored', true],
  ] as const) {
    it(`propagates like the dense normalised matrix (${form}${selfLoops ? ', self loops' : ''})`, async () => {
      const a = normalizedBipartiteAdjacency(r, { form, selfLoops });
      const n = 12;
      const g = new GraphBuilder();
      const adj = g.adjacency('A', { rows: n, form, symmetric: true });
      const program = await compileInference({
        graph: g,
        outputs: { y: g.propagate(g.param('x', [n, 3]), adj) },
      });
      const store = new ParameterStore();
      const x = store.set(
        'x',
        [n, 3],
        Float32Array.from({ length: n * 3 }, (_, i) => Math.cos(i)),
      );
      const y = (await program.run(adjacencyFeeds('A', a), store)).y.data as Float32Array;
      // Dense reference.
      const deg = new Array(n).fill(0);
      const dense = Array.from({ length: n }, () => new Array(n).fill(0));
      for (let k = 0; k < row.length; k++) {
        dense[row[k]][7 + col[k]] = 1;
        dense[7 + col[k]][row[k]] = 1;
      }
      if (selfLoops) for (let i = 0; i < n; i++) dense[i][i] = 1;
      for (let i = 0; i < n; i++) deg[i] = dense[i].reduce((s: number, v: number) => s + v, 0);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let j = 0; j < n; j++) if (dense[i][j]) s += x[j * 3 + c] / Math.sqrt(deg[i] * deg[j]);
          expect(y[i * 3 + c]).toBeCloseTo(s, 5);
        }
      }
    });
  }
});
