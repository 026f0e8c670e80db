// Matrix factorisation trained with BPR on a tiny synthetic matrix: the README example, kept
// runnable and exercised by src/examples.test.ts so it cannot rot.
// Run it through its test: npx vitest run packages/tensor/src/examples.test.ts
import { Rng } from '@promax/core';
import { Adam, compileTraining, GraphBuilder, ParameterStore } from '../src/index.js';

export async function trainMfBpr({ nUsers = 50, nItems = 40, steps = 300, seed = 1 } = {}) {
  const B = 256;
  const liked = (u: number, i: number) => u % 4 === i % 4; // tiny synthetic matrix: 4 taste groups
  const rng = new Rng(seed);

  const g = new GraphBuilder();
  const U = g.param('user_emb', [nUsers, 16]);
  const I = g.param('item_emb', [nItems, 16]);
  const u = g.gather(U, g.input('users', 'int32', ['B'])); // 'B': batch size, may vary per run
  const pos = g.rowDot(u, g.gather(I, g.input('pos', 'int32', ['B'])));
  const neg = g.rowDot(u, g.gather(I, g.input('neg', 'int32', ['B'])));
  const loss = g.add(g.bprLoss(pos, neg), g.mul(g.add(g.sumSquares(U), g.sumSquares(I)), 1e-4));

  const program = await compileTraining({ graph: g, loss }); // ONE ONNX model: loss + gradients
  const store = new ParameterStore().initialize(g, rng); // Xavier-uniform from the seeded Rng
  const adam = new Adam({ lr: 0.05 });
  const pick = (ok: (i: number) => boolean) => {
    let i = rng.nextInt(nItems);
    while (!ok(i)) i = rng.nextInt(nItems);
    return i;
  };
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const users = Int32Array.from({ length: B }, () => rng.nextInt(nUsers));
    const liked_ = users.map((x) => pick((i) => liked(x, i)));
    const other = users.map((x) => pick((i) => !liked(x, i)));
    const { loss: value, grads } = await program.run({ users, pos: liked_, neg: other }, store);
    adam.step(store, grads); // in place, no allocation
    losses.push(value);
  }
  return { losses, store, liked };
}
