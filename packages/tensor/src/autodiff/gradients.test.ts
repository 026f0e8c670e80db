import type { Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import type { GraphBuilder } from '../graph/builder.js';
import type { SymbolicTensor } from '../graph/ir.js';
import { checkGradients, type GradCheckOptions } from '../testing/grad-check.js';

const TOL = 1e-3;
const positive = (rng: Rng): number => 0.5 + rng.nextFloat() * 1.5;
const awayFromZero = (rng: Rng): number => (rng.nextFloat() < 0.5 ? -1 : 1) * (0.3 + rng.nextFloat());

type Case = [name: string, build: (g: GraphBuilder) => SymbolicTensor, options?: GradCheckOptions];

async function expectGood(build: Case[1], options?: GradCheckOptions): Promise<void> {
  const r = await checkGradients(build, options);
  for (let i = 0; i < r.output.onnx.length; i++) {
    expect(Math.abs(r.output.onnx[i] - r.output.reference[i])).toBeLessThanOrEqual(
      1e-4 * (1 + Math.abs(r.output.reference[i])),
    );
  }
  expect(r.forwardError).toBeLessThan(1e-4);
  expect(r.maxGradError).toBeLessThan(TOL);
}

const unary: Case[] = [
  ['neg', (g) => g.neg(g.param('x', [3, 4]))],
  ['exp', (g) => g.exp(g.param('x', [3, 4]))],
  ['log', (g) => g.log(g.param('x', [3, 4])), { init: { x: positive } }],
  ['sqrt', (g) => g.sqrt(g.param('x', [3, 4])), { init: { x: positive } }],
  ['reciprocal', (g) => g.reciprocal(g.param('x', [3, 4])), { init: { x: awayFromZero } }],
  ['abs', (g) => g.abs(g.param('x', [3, 4])), { init: { x: awayFromZero } }],
  ['sigmoid', (g) => g.sigmoid(g.param('x', [3, 4]))],
  ['tanh', (g) => g.tanh(g.param('x', [3, 4]))],
  ['softplus', (g) => g.softplus(g.mul(g.param('x', [3, 4]), 5))],
  ['relu', (g) => g.relu(g.param('x', [3, 4])), { init: { x: awayFromZero } }],
  ['leakyRelu', (g) => g.leakyRelu(g.param('x', [3, 4]), 0.2), { init: { x: awayFromZero } }],
  ['pow 3', (g) => g.pow(g.param('x', [3, 4]), 3)],
  ['pow −0.5', (g) => g.pow(g.param('x', [3, 4]), -0.5), { init: { x: positive } }],
  ['square', (g) => g.square(g.param('x', [3, 4]))],
  ['clip', (g) => g.clip(g.param('x', [4, 5]), -0.5, 0.5)],
  ['stopGradient blocks', (g) => g.mul(g.param('x', [3]), g.stopGradient(g.exp(g.param('y', [3]))))],
  ['identity, cast float→float', (g) => g.identity(g.cast(g.mul(g.param('x', [3]), 2), 'float32'))],
  [
    'sign (zero gradient)',
    (g) => g.add(g.sign(g.param('x', [3])), g.param('y', [3])),
    { init: { x: awayFromZero } },
  ],
];

const binary: Case[] = [
  ['add [3,4]+[4]', (g) => g.add(g.param('a', [3, 4]), g.param('b', [4]))],
  ['sub [3,1]−[1,4]', (g) => g.sub(g.param('a', [3, 1]), g.param('b', [1, 4]))],
  ['mul [2,3,4]⊙[3,1]', (g) => g.mul(g.param('a', [2, 3, 4]), g.param('b', [3, 1]))],
  ['div [3,4]/[4]', (g) => g.div(g.param('a', [3, 4]), g.param('b', [4])), { init: { b: positive } }],
  ['div scalar/[3,4]', (g) => g.div(g.param('a', []), g.param('b', [3, 4])), { init: { b: positive } }],
  ['maximum', (g) => g.maximum(g.param('a', [3, 4]), g.param('b', [3, 4]))],
  ['minimum broadcast', (g) => g.minimum(g.param('a', [3, 4]), g.param('b', [1, 4]))],
  ['where', (g) => g.where(g.greater(g.param('c', [3, 4]), 0), g.param('a', [3, 4]), g.param('b', [4]))],
  ['addN', (g) => g.addN([g.param('a', [3, 4]), g.param('b', [4]), g.param('c', [3, 1])])],
  ['number operands', (g) => g.sub(1, g.div(2, g.add(g.param('a', [5]), 3))), { init: { a: positive } }],
];

const reductions: Case[] = [
  ['reduceSum axis 1', (g) => g.reduceSum(g.param('x', [3, 4, 2]), 1)],
  ['reduceSum keepdims', (g) => g.reduceSum(g.param('x', [3, 4, 2]), [0, 2], true)],
  ['reduceSum all', (g) => g.reduceSum(g.param('x', [3, 4]))],
  ['reduceMean', (g) => g.reduceMean(g.param('x', [3, 4, 2]), [1, 2])],
  ['reduceMax', (g) => g.reduceMax(g.param('x', [3, 4]), 1)],
  ['reduceMin keepdims', (g) => g.reduceMin(g.param('x', [3, 4]), 0, true)],
  ['softmax', (g) => g.softmax(g.param('x', [3, 5]), 1)],
  ['softmax axis 0', (g) => g.softmax(g.param('x', [3, 5]), 0)],
  ['logSoftmax', (g) => g.logSoftmax(g.param('x', [3, 5]))],
  ['logSumExp (row-max shift)', (g) => g.logSumExp(g.mul(g.param('x', [3, 5]), 10), 1)],
  ['logSumExp keepdims', (g) => g.logSumExp(g.param('x', [3, 5]), 0, true)],
];

const linalg: Case[] = [
  ['matmul', (g) => g.matmul(g.param('a', [3, 4]), g.param('b', [4, 5]))],
  ['matmul transA', (g) => g.matmul(g.param('a', [4, 3]), g.param('b', [4, 5]), { transposeA: true })],
  ['matmul transB', (g) => g.matmul(g.param('a', [3, 4]), g.param('b', [5, 4]), { transposeB: true })],
  [
    'matmul transA transB',
    (g) => g.matmul(g.param('a', [4, 3]), g.param('b', [5, 4]), { transposeA: true, transposeB: true }),
  ],
  ['matmul batched', (g) => g.matmul(g.param('a', [2, 3, 4]), g.param('b', [2, 4, 5]))],
  [
    'matmul batched × 2-D',
    (g) => g.matmul(g.param('a', [2, 3, 4]), g.param('b', [5, 4]), { transposeB: true }),
  ],
  [
    'matmul scaled + bias (alpha and C folding)',
    (g) =>
      g.add(
        g.matmul(g.mul(g.param('a', [3, 4]), 0.5), g.param('b', [5, 4]), { transposeB: true }),
        g.param('c', [5]),
      ),
  ],
  [
    'row-scaled matmul operands (scale pushdown)',
    (g) => {
      const e = g.exp(g.param('s', [6, 7]));
      const r = g.param('r', [6, 1]);
      const p = g.mul(e, r);
      return g.addN([
        g.reduceSum(g.tanh(g.matmul(p, g.param('b', [7, 2])))),
        g.reduceSum(g.tanh(g.matmul(p, g.param('a', [6, 2]), { transposeA: true }))),
        g.reduceSum(g.tanh(g.reduceSum(p, 1))),
      ]);
    },
  ],
];

const shapes: Case[] = [
  ['transpose', (g) => g.transpose(g.param('x', [2, 3, 4]), [2, 0, 1])],
  ['reshape −1', (g) => g.reshape(g.param('x', [2, 3, 4]), [-1, 4])],
  ['expand', (g) => g.expand(g.param('x', [3, 1]), [2, 3, 4])],
  ['concat', (g) => g.concat([g.param('a', [2, 3]), g.param('b', [2, 2])], 1)],
  [
    'split',
    (g) => {
      const [p, q] = g.split(g.param('x', [5, 3]), [2, 3], 0);
      return g.add(g.reduceSum(p, 0), g.mul(g.reduceSum(q, 0), 2));
    },
  ],
  ['split, one piece unused', (g) => g.split(g.param('x', [5, 3]), [2, 3], 0)[1]],
  ['slice', (g) => g.slice(g.param('x', [5, 6]), [1, -4], [4, Number.POSITIVE_INFINITY])],
  [
    'unsqueeze/squeeze',
    (g) => {
      const u = g.mul(g.unsqueeze(g.param('x', [3, 4]), 0), g.param('y', [2, 1, 1]));
      return g.squeeze(g.unsqueeze(g.reduceSum(u, 2), 2), 2);
    },
  ],
];

const idx32 = Int32Array.from([2, 0, 2, 4, 1]);
const indexing: Case[] = [
  [
    'gather int32, duplicates',
    (g) => g.gather(g.param('x', [5, 3]), g.input('i', 'int32', ['K'])),
    {
      feeds: { i: { data: idx32, dims: [5] } },
    },
  ],
  [
    'gather int64, 2-D indices',
    (g) => g.gather(g.param('x', [5, 3]), g.input('i', 'int64', [2, 2])),
    {
      feeds: { i: { data: BigInt64Array.from([1n, 3n, 3n, 0n]), dims: [2, 2] } },
    },
  ],
  [
    'gather axis 1',
    (g) => g.gather(g.param('x', [3, 5, 2]), g.input('i', 'int32', ['K']), 1),
    {
      feeds: { i: { data: idx32, dims: [5] } },
    },
  ],
  [
    'scatterAdd',
    (g) => g.scatterAdd(g.param('t', [5, 3]), g.input('i', 'int32', [5]), g.param('u', [5, 3])),
    {
      feeds: { i: { data: idx32, dims: [5] } },
    },
  ],
  [
    'segmentSum',
    (g) => g.segmentSum(g.exp(g.param('u', [5, 2])), g.input('i', 'int32', [5]), 6),
    {
      feeds: { i: { data: idx32, dims: [5] } },
    },
  ],
];

const composites: Case[] = [
  ['l2Normalize', (g) => g.l2Normalize(g.param('x', [4, 3]))],
  ['cosineSimilarity', (g) => g.cosineSimilarity(g.param('x', [4, 3]), g.param('y', [5, 3]), 5)],
  ['rowDot', (g) => g.rowDot(g.param('x', [4, 3]), g.param('y', [4, 3]))],
  [
    'softmax of bounded logits',
    (g) => g.softmax(g.cosineSimilarity(g.param('x', [4, 3]), g.param('y', [6, 3]), 5)),
  ],
  [
    'sumProduct via a product',
    (g) =>
      g.sumProduct(
        g.softmax(g.param('p', [4, 6])),
        g.matmul(g.param('x', [4, 3]), g.param('y', [6, 3]), { transposeB: true }),
      ),
  ],
  [
    'softCrossEntropy',
    (g) => g.softCrossEntropy(g.mul(g.param('s', [4, 6]), 3), g.softmax(g.param('p', [4, 6]))),
  ],
  [
    'softCrossEntropy ε = 1e-8',
    (g) =>
      g.softCrossEntropy(g.mul(g.param('s', [4, 6]), 3), g.softmax(g.param('p', [4, 6])), { epsilon: 1e-8 }),
  ],
  ['infoNce', (g) => g.infoNce(g.param('x', [5, 3]), g.param('y', [5, 3]), 0.2)],
  ['bprLoss', (g) => g.bprLoss(g.param('p', [6]), g.param('n', [6]))],
  [
    'dropout',
    (g) => g.dropout(g.param('x', [2, 3]), g.input('m', 'float32', [2, 3]), 0.5),
    {
      feeds: { m: { data: Float32Array.from([1, 0, 1, 1, 0, 0]), dims: [2, 3] } },
    },
  ],
];

describe('gradients match float64 central finite differences', () => {
  for (const [group, cases] of [
    ['unary', unary],
    ['binary with broadcasting', binary],
    ['reductions', reductions],
    ['linear algebra', linalg],
    ['shapes', shapes],
    ['indexing', indexing],
    ['composites', composites],
  ] as const) {
    describe(group, () => {
      for (const [name, build, options] of cases) {
        it(name, () => expectGood(build, options));
      }
    });
  }

  describe('symbolic dims', () => {
    const B = 5;
    const x = Float32Array.from({ length: B * 4 }, (_, i) => Math.sin(i));
    it('batch-symbolic input × parameter, broadcast parameter, mean over B', () =>
      expectGood(
        (g) => {
          const xs = g.input('x', 'float32', ['B', 4]);
          const h = g.tanh(g.add(g.matmul(xs, g.param('w', [4, 3])), g.param('b', [3])));
          return g.reduceMean(g.mul(h, g.param('s', [1, 3])), 0);
        },
        { feeds: { x: { data: x, dims: [B, 4] } } },
      ));
    it('concat of symbolic rows, slice and split', () =>
      expectGood(
        (g) => {
          const xs = g.input('x', 'float32', ['B', 4]);
          const c = g.concat([g.mul(xs, g.param('a', [4])), g.param('p', [2, 4])], 0);
          const [head] = g.split(c, ['B', 2], 0);
          return g.add(g.reduceSum(g.slice(c, [1], [Number.POSITIVE_INFINITY]), 0), g.reduceSum(head, 0));
        },
        { feeds: { x: { data: x, dims: [B, 4] } } },
      ));
    it('reshape flattening a symbolic dim and back', () =>
      expectGood(
        (g) => {
          const xs = g.input('x', 'float32', ['B', 4]);
          const flat = g.reshape(g.mul(xs, g.param('a', [4])), [-1]);
          return g.reshape(g.exp(flat), ['B', 2, 2]);
        },
        { feeds: { x: { data: x, dims: [B, 4] } } },
      ));
  });

  describe('sparse propagation', () => {
    // A 4-node undirected graph, edges listed both ways and sorted by destination.
    const pairs = [
      [0, 1],
      [1, 2],
      [2, 3],
      [0, 3],
      [1, 3],
    ];
    const src: number[] = [];
    const dst: number[] = [];
    for (const [a, b] of pairs) {
      src.push(a, b);
      dst.push(b, a);
    }
    const deg = [0, 0, 0, 0];
    for (const s of src) deg[s]++;
    const scale = Float32Array.from(deg, (d) => 1 / Math.sqrt(d));
    const e = src.length;
    const feeds = {
      'A.src': { data: BigInt64Array.from(src, BigInt), dims: [e] },
      'A.dst': { data: BigInt64Array.from(dst, BigInt), dims: [e] },
      'A.left': { data: scale, dims: [4] },
      'A.right': { data: scale, dims: [4] },
    };
    it('factored, symmetric, 3 layers summed (LightGCN)', () =>
      expectGood(
        (g) => {
          const adj = g.adjacency('A', { rows: 4, form: 'factored', symmetric: true });
          let x = g.param('x', [4, 3]);
          const layers: SymbolicTensor[] = [];
          for (let l = 0; l < 3; l++) {
            x = g.propagate(x, adj);
            layers.push(x);
          }
          return g.addN(layers);
        },
        { feeds },
      ));
    it('factored with distinct left/right scales, not declared symmetric', () =>
      expectGood((g) => g.propagate(g.param('x', [4, 3]), g.adjacency('A', { rows: 4 })), {
        feeds: { ...feeds, 'A.left': { data: Float32Array.from([0.5, 1, 2, 3]), dims: [4] } },
      }));
    it('weighted, rectangular (3 × 5)', () =>
      expectGood(
        (g) =>
          g.propagate(
            g.param('x', [5, 2]),
            g.adjacency('R', { rows: 3, cols: 5, form: 'weighted', indexType: 'int32' }),
          ),
        {
          feeds: {
            'R.src': { data: Int32Array.from([0, 4, 2, 2, 1]), dims: [5] },
            'R.dst': { data: Int32Array.from([0, 0, 1, 2, 2]), dims: [5] },
            'R.weight': { data: Float32Array.from([0.5, -1, 2, 0.25, 1.5]), dims: [5] },
          },
        },
      ));
  });

  it('optimised and unoptimised programs agree', async () => {
    const build = (g: GraphBuilder): SymbolicTensor => {
      const s = g.cosineSimilarity(g.param('x', [6, 4]), g.param('y', [9, 4]), 5);
      const p = g.softmax(g.cosineSimilarity(g.param('u', [6, 4]), g.param('v', [9, 4]), 5));
      return g.add(g.softCrossEntropy(s, p), g.logSumExp(s, 1));
    };
    const a = await checkGradients(build, { compile: { optimize: false } });
    const b = await checkGradients(build);
    expect(a.maxGradError).toBeLessThan(TOL);
    expect(b.maxGradError).toBeLessThan(TOL);
    for (let i = 0; i < a.output.onnx.length; i++) expect(b.output.onnx[i]).toBeCloseTo(a.output.onnx[i], 5);
  });
});
