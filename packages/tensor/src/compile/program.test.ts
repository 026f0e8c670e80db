import { csrFromCoo, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { adjacencyFeeds, normalizedBipartiteAdjacency } from '../graph-data/adjacency.js';
import { Adam } from '../train/optimizers.js';
import { ParameterStore } from '../train/parameter-store.js';
import { compileInference, compileTraining, LARGE_CONSTANT_BYTES, type TrainingProgram } from './program.js';

function tinyModel() {
  const g = new GraphBuilder();
  const w = g.param('w', [4, 3]);
  const b = g.param('b', [3]);
  const x = g.input('x', 'float32', ['B', 4]);
  const y = g.add(g.matmul(x, w), b);
  return { g, y, loss: g.reduceMean(g.square(y)) };
}

describe('compiled programs', () => {
  it('validates feeds: missing, wrong dtype, wrong rank, inconsistent symbolic dims, unknown names', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['B', 2]);
    const ids = g.input('ids', 'int32', ['B']);
    const e = g.param('e', [5, 2]);
    const program = await compileTraining({ graph: g, loss: g.reduceSum(g.mul(x, g.gather(e, ids))) });
    const store = new ParameterStore().initialize(g, new Rng(1));
    const x3 = { data: new Float32Array(6), dims: [3, 2] };
    await expect(program.run({ x: x3 }, store)).rejects.toThrow(
      /missing feed for input 'ids' \(int32\[B\]\)/,
    );
    await expect(program.run({ x: x3, ids: new Float32Array(3) }, store)).rejects.toThrow(
      /wants int32 \(Int32Array\), got Float32Array/,
    );
    await expect(program.run({ x: x3, ids: new Int32Array(4) }, store)).rejects.toThrow(
      /dim 'B' is 4 in input 'ids' but 3 in input 'x'/,
    );
    await expect(
      program.run({ x: { data: new Float32Array(6), dims: [6] }, ids: new Int32Array(3) }, store),
    ).rejects.toThrow(/must have rank 2/);
    await expect(
      program.run({ x: x3, ids: new Int32Array(3), typo: new Int32Array(1) }, store),
    ).rejects.toThrow(/feed 'typo' is not an input/);
    await expect(program.run({ x: x3, ids: new Int32Array(3) }, new ParameterStore())).rejects.toThrow(
      /no parameter named 'e'/,
    );
    // A single symbolic dim is inferred from the length.
    const ok = await program.run({ x: new Float32Array(6), ids: Int32Array.of(0, 1, 4) }, store);
    expect(Number.isFinite(ok.loss)).toBe(true);
  });

  it('caches sessions by graph structure', async () => {
    const a = tinyModel();
    const p2 = await compileTraining({ graph: a.g, loss: a.loss });
    const b = tinyModel();
    const p3 = await compileTraining({ graph: b.g, loss: b.loss });
    const compiled = (p: TrainingProgram) => (p as unknown as { compiled: unknown }).compiled;
    expect(p2.modelBytes).toEqual(p3.modelBytes);
    expect(compiled(p2)).toBe(compiled(p3));
    expect(p2.params).toEqual(['w', 'b']);
  });

  it('gives a model with large constants its own session, which release() frees', async () => {
    // X [rows, 64] held as a constant (> LARGE_CONSTANT_BYTES), loss = mean((X·w)²).
    const rows = Math.ceil(LARGE_CONSTANT_BYTES / (64 * 4)) + 1;
    const data = Float32Array.from({ length: rows * 64 }, (_, k) => ((k % 7) - 3) / 8);
    const build = () => {
      const g = new GraphBuilder();
      const w = g.param('w', [64, 1]);
      const y = g.matmul(g.constant(data, { shape: [rows, 64] }), w);
      return { g, loss: g.reduceMean(g.square(y)) };
    };
    const a = build();
    const b = build();
    const pa = await compileTraining({ graph: a.g, loss: a.loss });
    const pb = await compileTraining({ graph: b.g, loss: b.loss });
    const compiled = (p: TrainingProgram) => (p as unknown as { compiled: unknown }).compiled;
    expect(Buffer.from(pa.modelBytes).equals(Buffer.from(pb.modelBytes))).toBe(true);
    expect(compiled(pa) === compiled(pb)).toBe(false);
    const store = new ParameterStore();
    store.set('w', [64, 1]).fill(0.5);
    // Row k of X sums to 0.5·Σ_c ((k·64 + c) % 7 − 3)/8; check the loss against it.
    let want = 0;
    for (let r = 0; r < rows; r++) {
      let v = 0;
      for (let c = 0; c < 64; c++) v += 0.5 * data[r * 64 + c];
      want += v * v;
    }
    want /= rows;
    const out = await pa.run({}, store);
    expect(Math.abs(out.loss - want) / want).toBeLessThan(1e-5);
    await pa.release();
    await expect(pa.run({}, store)).rejects.toThrow();
    expect(Number.isFinite((await pb.run({}, store)).loss)).toBe(true);
    await pb.release();
  });

  it('returns named outputs, differentiates only the requested parameters, rejects reserved names', async () => {
    const { g, y, loss } = tinyModel();
    const program = await compileTraining({ graph: g, loss, outputs: { y }, params: ['w'] });
    const store = new ParameterStore().initialize(g, new Rng(2));
    const r = await program.run({ x: new Float32Array(8).fill(1) }, store);
    expect([...r.grads.keys()]).toEqual(['w']);
    expect(r.outputs.y.shape).toEqual([2, 3]);
    await expect(compileTraining({ graph: g, loss, outputs: { loss: y } })).rejects.toThrow(/reserved/);
    await expect(compileTraining({ graph: g, loss, params: ['nope'] })).rejects.toThrow(/not a parameter/);
    await expect(compileTraining({ graph: g, loss: y })).rejects.toThrow(/loss must be a float32 scalar/);
  });

  it('refuses overlapping runs of one program (gradient buffers are shared)', async () => {
    const { g, loss } = tinyModel();
    const program = await compileTraining({ graph: g, loss });
    const store = new ParameterStore().initialize(g, new Rng(2));
    const feeds = { x: new Float32Array(8) };
    const first = program.run(feeds, store);
    await expect(program.run(feeds, store)).rejects.toThrow(/already running/);
    await first;
  });

  it('falls back to the CPU when other execution providers cannot start, and says so', async () => {
    const { g, y } = tinyModel();
    const warnings: string[] = [];
    // CUDA is absent on CPU-only machines (its provider library does not load); where it is
    // present the program simply runs on it.
    const program = await compileInference(
      { graph: g, outputs: { y } },
      {
        executionProviders: ['cuda', 'cpu'],
        cache: false,
        onProgress: (e) => {
          if (e.type === 'warning') warnings.push(e.message);
        },
      },
    );
    const store = new ParameterStore().initialize(g, new Rng(1));
    const out = await program.run({ x: new Float32Array(4) }, store);
    expect(out.y.shape).toEqual([1, 3]);
    await program.release();
    expect(warnings.length).toBeLessThanOrEqual(1);
    if (warnings.length === 1) {
      expect(warnings[0]).toMatch(/execution providers \[cuda, cpu\] failed/);
      await expect(
        compileInference(
          { graph: g, outputs: { y } },
          { executionProviders: ['cuda', 'cpu'], fallbackToCpu: false, cache: false },
        ),
      ).rejects.toThrow(/onnxruntime rejected graph/);
    }
  });

  it('compiles inference graphs', async () => {
    const { g, y } = tinyModel();
    const program = await compileInference({ graph: g, outputs: { y, doubled: g.mul(y, 2) } });
    const store = new ParameterStore();
    store.set(
      'w',
      [4, 3],
      Float32Array.from({ length: 12 }, (_, i) => i),
    );
    store.set('b', [3], Float32Array.of(1, 2, 3));
    const out = await program.run({ x: { data: Float32Array.of(1, 0, 0, 1), dims: [1, 4] } }, store);
    expect(Array.from(out.y.data as Float32Array)).toEqual([0 + 9 + 1, 1 + 10 + 2, 2 + 11 + 3]);
    expect(Array.from(out.doubled.data as Float32Array)).toEqual([20, 26, 32]);
  });

  it('same seed → bit-identical parameters after training steps (LightGCN + BPR)', async () => {
    const train = async (): Promise<Float32Array[]> => {
      const rng = new Rng(11);
      const row: number[] = [];
      const col: number[] = [];
      for (let u = 0; u < 50; u++) {
        for (let i = 0; i < 40; i++) {
          if (rng.nextFloat() < 0.1) {
            row.push(u);
            col.push(i);
          }
        }
      }
      const r = csrFromCoo({ rows: 50, cols: 40, row, col }).matrix;
      const g = new GraphBuilder();
      const e = g.param('emb', [90, 8]);
      const adj = g.adjacency('A', { rows: 90, symmetric: true });
      const z1 = g.propagate(e, adj);
      const z = g.add(z1, g.propagate(z1, adj));
      const users = g.input('u', 'int32', ['B']);
      const u = g.gather(z, users);
      const zi = g.gather(z, g.input('i', 'int32', ['B']));
      const zj = g.gather(z, g.input('j', 'int32', ['B']));
      const loss = g.add(g.bprLoss(g.rowDot(u, zi), g.rowDot(u, zj)), g.infoNce(u, zi, 0.2));
      const program = await compileTraining({ graph: g, loss });
      const store = new ParameterStore().initialize(g, rng);
      const adam = new Adam({ lr: 0.01 });
      const feeds = adjacencyFeeds('A', normalizedBipartiteAdjacency(r));
      for (let step = 0; step < 15; step++) {
        const B = 32;
        const ub = new Int32Array(B);
        const ib = new Int32Array(B);
        const jb = new Int32Array(B);
        for (let k = 0; k < B; k++) {
          ub[k] = rng.nextInt(50);
          ib[k] = 50 + rng.nextInt(40);
          jb[k] = 50 + rng.nextInt(40);
        }
        const { grads } = await program.run({ ...feeds, u: ub, i: ib, j: jb }, store);
        adam.step(store, grads);
      }
      return [store.get('emb').slice()];
    };
    const [a] = await train();
    const [b] = await train();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});
