// One training step of each rival method (rlmrec-con, rlmrec-gen, proex, kar) on LightGCN at
// Amazon-book shapes with SYNTHETIC structured 1536-d profiles (timing and memory only: they carry
// no real profile signal), against a PyTorch CPU peer of each written from baselines.md
// (bench/peers/methods_step_torch.py), same machine, same run. Prints one JSON line
// {"rlmrec-con": {"step_ms", "torch_step_ms", "speedup", "epoch_s"}, …, "peak_rss_mb", …}.
// Usage: node bench/methods-bench.mjs [--runs 3] [--warmup 1] [--threads N] [--methods a,b] [--no-torch]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset, resolveDataDir } from '../packages/data/dist/index.js';
import {
  createModelTrainable,
  resolvePluginSettings,
  TripleSampler,
} from '../packages/pipeline/dist/index.js';
import { benchDir, median, plugin, report, round } from './common.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string' },
    methods: { type: 'string', default: 'rlmrec-con,rlmrec-gen,proex,kar' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
const D = 1536;
const ds = await loadDataset('amazon-book');
const engine = args.threads ? { intraOpNumThreads: Number(args.threads) } : {};

// Low-rank factors from the train matrix plus noise (as bench/synthetic-profiles.mjs), in memory.
function syntheticProfiles(seed) {
  const R = 16;
  const rng = new Rng(seed);
  const proj = Float32Array.from({ length: R * D }, () => rng.nextNormal() / Math.sqrt(R));
  const itemLatent = Float32Array.from({ length: ds.numItems * R }, () => rng.nextNormal());
  const userLatent = new Float32Array(ds.numUsers * R);
  for (let u = 0; u < ds.numUsers; u++) {
    const s = ds.train.indptr[u];
    const e = ds.train.indptr[u + 1];
    for (let p = s; p < e; p++)
      for (let r = 0; r < R; r++) userLatent[u * R + r] += itemLatent[ds.train.indices[p] * R + r] / (e - s);
  }
  const expand = (latent, n) => {
    const m = new Float32Array(n * D);
    for (let i = 0; i < n; i++)
      for (let d = 0; d < D; d++) {
        let v = 0.3 * rng.nextNormal();
        for (let r = 0; r < R; r++) v += latent[i * R + r] * proj[r * D + d];
        m[i * D + d] = v;
      }
    return { rows: n, cols: D, data: m };
  };
  return { users: expand(userLatent, ds.numUsers), items: expand(itemLatent, ds.numItems) };
}

const base = syntheticProfiles(1);
const extras = [2, 3, 4].map(syntheticProfiles);
const inputs = {
  userProfiles: base.users,
  itemProfiles: base.items,
  extraProfiles: { users: extras.map((e) => e.users), items: extras.map((e) => e.items) },
  sources: { profileEmbeddings: 'synthetic', extraProfileEmbeddings: 'synthetic' },
};
const sampler = new TripleSampler(ds.train, { batchSize: 4096 });
sampler.sampleEpoch(new Rng(2025));
const stepsPerEpoch = sampler.numBatches;

async function timeMethod(id) {
  const def = await plugin('method', id);
  const lightgcn = await plugin('model', 'lightgcn');
  // RLMRec-Gen's released LightGCN uses 2 layers on Amazon; the others 3.
  const model = lightgcn.create(id === 'rlmrec-gen' ? { layers: 2 } : {});
  const settings = resolvePluginSettings(def, { dataset: 'amazon-book' }).settings;
  const prepared = await def.create(settings).doPrepare({
    dataset: { name: 'amazon-book', numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train },
    model: { modelId: 'lightgcn', capabilities: model.capabilities, embeddingSize: 32, encodesViews: true },
    inputs,
    seed: 2025,
  });
  const t = await createModelTrainable({
    model,
    data: ds,
    seed: 2025,
    l2: 1e-6,
    engine,
    methods: [{ id, prepared }],
  });
  const times = [];
  for (let k = 0; k < warmup + runs; k++) {
    const batch = sampler.batch(k % stepsPerEpoch);
    const t0 = performance.now();
    await t.trainBatch(batch);
    if (k >= warmup) times.push(performance.now() - t0);
  }
  const e0 = performance.now();
  await t.embed();
  const embedMs = performance.now() - e0;
  await t.release();
  return { step_ms: round(median(times)), embed_ms: round(embedMs) };
}

function torchStep(id) {
  if (args['no-torch']) return { error: 'skipped (--no-torch)' };
  const r = spawnSync(
    'python3',
    [
      join(benchDir, 'peers', 'methods_step_torch.py'),
      '--method',
      id,
      '--runs',
      String(runs),
      '--warmup',
      String(warmup),
      '--data',
      join(resolveDataDir() ?? join(benchDir, '..', '..', 'shared', 'data'), 'amazon_book'),
      ...(args.threads ? ['--threads', args.threads] : []),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] };
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const result = {};
for (const id of args.methods.split(',')) {
  const ours = await timeMethod(id);
  const peer = torchStep(id);
  result[id] = {
    step_ms: ours.step_ms,
    torch_step_ms: peer.step_ms ?? null,
    speedup: peer.step_ms ? round(peer.step_ms / ours.step_ms) : null,
    epoch_s: round((ours.step_ms * stepsPerEpoch) / 1000, 1),
    embed_ms: ours.embed_ms,
    ...(peer.error ? { torch_error: peer.error } : {}),
  };
}
result.steps_per_epoch = stepsPerEpoch;
result.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024, 0);
result.profiles = 'synthetic structured 1536-d (timing and memory only)';
result.runs = runs;
report('methods', result);
