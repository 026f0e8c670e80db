// Where one training step of a rival method on LightGCN spends its time at Amazon-book shapes with
// SYNTHETIC 1536-d profiles (timing only): wall and process-CPU time of a step, the onnxruntime
// call, the Adam step, and onnxruntime's per-operator and per-node profile of one replayed step
// (the GEMM shapes show which products dominate). Diagnostic only: like bench/epoch-profile.mjs it
// reads the compiled session of the training program (an internal field).
//
// Usage: node bench/method-profile.mjs [--method kar] [--threads 1] [--steps 3]   Prints one JSON object.
import { parseArgs } from 'node:util';
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset } from '../packages/data/dist/index.js';
import { TripleSampler } from '../packages/pipeline/dist/index.js';
import { methodTrainable, profileReplay, round, timeBatches, topMs } from './common.mjs';
import { syntheticMethodInputs } from './synthetic-profiles.mjs';

const { values: args } = parseArgs({
  options: {
    method: { type: 'string', default: 'kar' },
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '3' },
  },
});
const engine = { intraOpNumThreads: Number(args.threads) };
const steps = Number(args.steps);
const ds = await loadDataset('amazon-book');
const t = await methodTrainable(args.method, ds, syntheticMethodInputs(ds, 1536), engine);
const sampler = new TripleSampler(ds.train, { batchSize: 4096 });
sampler.sampleEpoch(new Rng(2025));
const timed = await timeBatches(t, sampler, steps);
const { byOp, byNode } = await profileReplay(t, timed.feeds, engine);
await t.release();
process.stdout.write(
  `${JSON.stringify({
    method: args.method,
    threads: engine.intraOpNumThreads,
    profiles: 'synthetic 1536-d (timing only)',
    step_wall_ms: round(timed.wallMs),
    step_cpu_ms: round(timed.cpuMs),
    onnxruntime_ms: round(timed.onnxruntimeMs),
    adam_ms: round(timed.adamMs),
    kernel_ms_per_step: round(Object.values(byOp).reduce((a, b) => a + b, 0)),
    kernel_ms_by_op: topMs(byOp, 12),
    kernel_ms_by_node: topMs(byNode, 20),
  })}\n`,
);
