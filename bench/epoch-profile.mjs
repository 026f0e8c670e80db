// Where one LightGCN training batch spends its time at a given data size (bench/scale-data.mjs sizes):
// negative sampling per epoch, forward + backward in onnxruntime, the Adam step, other JS work, and
// onnxruntime's own per-operator profile of one batch (Gather / ScatterND are the graph propagation).
//
// Usage: node bench/epoch-profile.mjs [--size 200k|1m|2m] [--batch 4096] [--batches 10] [--threads N]
// Prints one JSON object. Diagnostic only: it reads the compiled session of the training program
// (an internal field) to replay one batch's exact inputs under onnxruntime's profiler.
import { parseArgs } from 'node:util';
import { Rng } from '../packages/core/dist/index.js';
import { createModelTrainable, TripleSampler } from '../packages/pipeline/dist/index.js';
import { plugin, profileReplay, round, timeBatches, topMs } from './common.mjs';
import { powerLawDataset } from './scale-data.mjs';

const SIZES = {
  '200k': { users: 20_000, items: 10_000, interactions: 200_000 },
  '1m': { users: 100_000, items: 50_000, interactions: 1_000_000 },
  '2m': { users: 200_000, items: 100_000, interactions: 2_000_000 },
};
const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '200k' },
    batch: { type: 'string', default: '4096' },
    batches: { type: 'string', default: '10' },
    threads: { type: 'string' },
  },
});
if (!(args.size in SIZES)) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
const engine = args.threads ? { intraOpNumThreads: Number(args.threads) } : {};

const ds = powerLawDataset(SIZES[args.size]);
const trainable = await createModelTrainable({
  model: (await plugin('model', 'lightgcn')).create(),
  data: { numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train },
  seed: 2025,
  optimizer: { lr: 1e-3 },
  l2: 1e-6,
  engine,
});
const sampler = new TripleSampler(ds.train, { batchSize: Number(args.batch) });
const rng = new Rng(2025);
let t = performance.now();
sampler.sampleEpoch(rng);
const sampleMs = performance.now() - t;

// Time the onnxruntime call inside each batch and keep one batch's inputs for the profiler.
const n = Math.min(Number(args.batches), sampler.numBatches - 1);
const timed = await timeBatches(trainable, sampler, n);
const batchMs = timed.wallMs;
t = performance.now();
await trainable.embed();
const forwardMs = performance.now() - t;

const { byOp } = await profileReplay(trainable, timed.feeds, engine);
const kernelMs = Object.values(byOp).reduce((a, b) => a + b, 0);
const propagationMs = (byOp.Gather ?? 0) + (byOp.ScatterND ?? 0) + (byOp.Mul ?? 0);
await trainable.release();

const edges = ds.train.indptr[ds.numUsers];
const perBatchRun = timed.onnxruntimeMs;
process.stdout.write(
  `${JSON.stringify({
    size: args.size,
    users: ds.numUsers,
    items: ds.numItems,
    train_edges: edges,
    batch: Number(args.batch),
    batches_per_epoch: sampler.numBatches,
    threads: engine.intraOpNumThreads ?? null,
    sample_ms_per_epoch: round(sampleMs, 1),
    batch_ms: round(batchMs, 1),
    onnxruntime_ms_per_batch: round(perBatchRun, 1),
    adam_ms_per_batch: round(timed.adamMs, 1),
    other_js_ms_per_batch: round(batchMs - perBatchRun - timed.adamMs, 1),
    forward_only_ms: round(forwardMs, 1),
    kernel_ms_per_batch: round(kernelMs, 1),
    propagation_share_of_kernels: round(propagationMs / kernelMs, 3),
    kernel_ms_by_op: topMs(byOp, Infinity, 0.05),
    epoch_s: round((sampleMs + batchMs * sampler.numBatches) / 1000, 1),
    us_per_train_edge_per_epoch: round(((sampleMs + batchMs * sampler.numBatches) * 1000) / edges, 2),
  })}\n`,
);
