// Full-ranking evaluation speed on Amazon-book shapes (11,000 users × 9,332 items, d = 64).
// Usage: pnpm bench:eval   (prints one JSON object; also bench/results/eval.json)
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset } from '../packages/data/dist/index.js';
import { RankingEvaluator } from '../packages/eval/dist/index.js';
import { compileModel, float32Tensor, int64Tensor } from '../packages/tensor/dist/index.js';
import { report, round, timeIt } from './common.mjs';

const D = 64;
const ds = await loadDataset('amazon-book');
const U = ds.numUsers;
const N = ds.numItems;
const rng = new Rng(2025);
const gauss = (n) => Float32Array.from({ length: n }, () => rng.nextNormal());
const userEmb = { rows: U, cols: D, data: gauss(U * D) };
const itemEmb = { rows: N, cols: D, data: gauss(N * D) };

const results = {};
for (const chunkUsers of [256, 512, 1024, 2048]) {
  const ev = new RankingEvaluator({ chunkUsers });
  const t = await timeIt(() => ev.evaluate({ userEmb, itemEmb, train: ds.train, heldOut: ds.test }));
  results[`eval_chunk${chunkUsers}`] = t;
  await ev.release();
}

// Bare kernel for reference: MatMul + TopK20 over all users, no masking, no metrics.
const bare = await compileModel({
  graph: {
    name: 'bare',
    inputs: [
      { name: 'u', dtype: 'float32', shape: ['b', D] },
      { name: 'it', dtype: 'float32', shape: [D, N] },
      { name: 'k', dtype: 'int64', shape: [1] },
    ],
    outputs: [
      { name: 'v', dtype: 'float32' },
      { name: 'i', dtype: 'int64' },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['u', 'it'], outputs: ['s'] },
      { op: 'TopK', inputs: ['s', 'k'], outputs: ['v', 'i'] },
    ],
  },
});
const itT = gauss(D * N);
const bareT = await timeIt(async () => {
  for (let s = 0; s < U; s += 2048) {
    const b = Math.min(2048, U - s);
    await bare.run({
      u: float32Tensor(userEmb.data.subarray(s * D, (s + b) * D), [b, D]),
      it: float32Tensor(itT, [D, N]),
      k: int64Tensor(BigInt64Array.of(20n), [1]),
    });
  }
});
const best = Object.entries(results).sort((a, b) => a[1].median_ms - b[1].median_ms)[0];
report('eval', {
  shape: { users: U, items: N, dim: D, evaluated_users: undefined },
  target_ms: 200,
  eval_median_ms: best[1].median_ms,
  best_config: best[0],
  configs: results,
  bare_matmul_topk20_ms: bareT.median_ms,
  ratio_eval_over_bare: round(best[1].median_ms / bareT.median_ms),
});
