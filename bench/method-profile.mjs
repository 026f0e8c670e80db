// Where one training step of a method on LightGCN spends its time at Amazon-book shapes with
// SYNTHETIC 1536-d profiles (timing only): wall and process-CPU time of a step, the onnxruntime
// call, the Adam step, and onnxruntime's per-operator and per-node profile of one replayed step
// (GEMM shapes show which products dominate). Diagnostic only: it reads the compiled session of the
// training program (an internal field), as bench/epoch-profile.mjs does.
//
// Usage: node bench/method-profile.mjs [--method kar] [--threads 1]   Prints one JSON object.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset } from '../packages/data/dist/index.js';
import {
  createModelTrainable,
  resolvePluginSettings,
  TripleSampler,
} from '../packages/pipeline/dist/index.js';
import { plugin, round } from './common.mjs';
import { syntheticProfiles } from './synthetic-profiles.mjs';

const ort = createRequire(new URL('../packages/tensor/package.json', import.meta.url))('onnxruntime-node');
const { values: args } = parseArgs({
  options: { method: { type: 'string', default: 'kar' }, threads: { type: 'string', default: '1' } },
});
const id = args.method;
const threads = Number(args.threads);
const ds = await loadDataset('amazon-book');
const base = syntheticProfiles(ds, { dim: 1536, rank: 16, seed: 1 });
const extras = [2, 3, 4].map((s) => syntheticProfiles(ds, { dim: 1536, rank: 16, seed: s }));
const inputs = {
  userProfiles: base.users,
  itemProfiles: base.items,
  extraProfiles: { users: extras.map((e) => e.users), items: extras.map((e) => e.items) },
  sources: {},
};
const def = await plugin('method', id);
const model = (await plugin('model', 'lightgcn')).create(id === 'rlmrec-gen' ? { layers: 2 } : {});
const settings = resolvePluginSettings(def, { dataset: 'amazon-book' }).settings;
const prepared = await def
  .create(settings)
  .doPrepare({
    dataset: { name: 'amazon-book', numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train },
    model: { modelId: 'lightgcn', capabilities: model.capabilities, embeddingSize: 32, encodesViews: true },
    inputs,
    seed: 2025,
  });
const engine = { intraOpNumThreads: threads };
const t = await createModelTrainable({
  model,
  data: ds,
  seed: 2025,
  l2: 1e-6,
  engine,
  methods: [{ id, prepared }],
});
const sampler = new TripleSampler(ds.train, { batchSize: 4096 });
sampler.sampleEpoch(new Rng(2025));
const compiled = t.program.compiled;
const run = compiled.run.bind(compiled);
let captured;
let runMs = 0;
compiled.run = async (f, o) => {
  captured ??= f;
  const t0 = performance.now();
  const r = await run(f, o);
  runMs += performance.now() - t0;
  return r;
};
await t.trainBatch(sampler.batch(0));
runMs = 0;
let adamMs = 0;
const c0 = process.cpuUsage();
const w0 = performance.now();
for (let b = 1; b <= 3; b++) {
  const { grads } = await t.computeGradients(sampler.batch(b));
  const a0 = performance.now();
  t.optimizer.step(t.store, grads);
  adamMs += performance.now() - a0;
}
const wall = (performance.now() - w0) / 3;
const cpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 3000;
const prefix = join(tmpdir(), `kp-${process.pid}`);
const session = await ort.InferenceSession.create(t.program.modelBytes, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  ...engine,
  enableProfiling: true,
  profileFilePrefix: prefix,
  logSeverityLevel: 3,
});
for (let i = 0; i < 3; i++) await session.run(captured);
await session.endProfiling();
const file = readdirSync(tmpdir()).find((f) => join(tmpdir(), f).startsWith(prefix));
const events = JSON.parse(readFileSync(join(tmpdir(), file), 'utf8'));
rmSync(join(tmpdir(), file));
const byOp = {};
const byNode = {};
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  byOp[e.args.op_name] = (byOp[e.args.op_name] ?? 0) + e.dur / 3000;
  const k = `${e.args.op_name} ${e.name.replace('_kernel_time', '')} ${JSON.stringify(e.args.output_type_shape ?? '').slice(0, 80)}`;
  byNode[k] = (byNode[k] ?? 0) + e.dur / 3000;
}
const top = Object.fromEntries(
  Object.entries(byNode)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([k, v]) => [k, round(v, 1)]),
);
process.stdout.write(
  `${JSON.stringify({
    method: id,
    threads,
    profiles: 'synthetic 1536-d (timing only)',
    step_wall_ms: round(wall),
    step_cpu_ms: round(cpu),
    onnxruntime_ms: round(runMs / 3),
    adam_ms: round(adamMs / 3),
    kernel_ms_per_step: round(Object.values(byOp).reduce((a, b) => a + b, 0)),
    kernel_ms_by_op: Object.fromEntries(
      Object.entries(byOp)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([k, v]) => [k, round(v, 1)]),
    ),
    kernel_ms_by_node: top,
  })}\n`,
);
await session.release();
await t.release();
