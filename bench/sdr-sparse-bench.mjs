// Dense vs sparse SDR teacher on Amazon-book (LightGCN + SDR, S2DR off), same seed and batches:
// teacher memory, s/epoch (from the first --batches batches, scaled to the epoch), peak RSS, and
// the SDR loss of the first batch (same initial parameters: how far the sparse estimate is from
// the dense value). Profiles are SYNTHETIC (64-d, low-rank from train co-occurrence plus noise:
// bench/synthetic-profiles.mjs's construction), so this measures cost and agreement, not accuracy.
// Each sparse K runs with both ways of computing the candidates' logits (sdr.sparseLogits: 'gather'
// Bu·(K+M)·d item values, or one [Bu, N] 'product'); peak RSS is per child process.
// Usage: node bench/sdr-sparse-bench.mjs [--ks 64,256,1024] [--logits gather,product] [--negatives 256] [--batches 5] [--seed 2025]
// Prints one JSON line; also bench/results/sdr-sparse.json.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { report, round } from './common.mjs';

const { values: args } = parseArgs({
  options: {
    ks: { type: 'string', default: '64,256,1024' },
    logits: { type: 'string', default: 'gather,product' },
    negatives: { type: 'string', default: '256' },
    batches: { type: 'string', default: '5' },
    seed: { type: 'string', default: '2025' },
    child: { type: 'string' },
  },
});

if (args.child) {
  const job = JSON.parse(args.child);
  const { Rng } = await import('../packages/core/dist/index.js');
  const { loadDataset } = await import('../packages/data/dist/index.js');
  const { createModelTrainable, resolvePluginSettings, TripleSampler } = await import(
    '../packages/pipeline/dist/index.js'
  );
  const { plugin } = await import('./common.mjs');
  const ds = await loadDataset('amazon-book');
  const { syntheticProfiles } = await import('./synthetic-profiles.mjs');
  const { users: userProfiles, items: itemProfiles } = syntheticProfiles(ds, { dim: 64, rank: 32, seed: 7 });
  const def = await plugin('method', 'promax');
  const model = (await plugin('model', 'lightgcn')).create({});
  const sdr =
    job.teacher === 'dense'
      ? { teacher: 'dense' }
      : { teacher: 'sparse', sparseK: job.k, sparseNegatives: job.negatives, sparseLogits: job.logits };
  const settings = resolvePluginSettings(def, {
    dataset: 'amazon-book',
    overrides: { sdr, s2dr: { enabled: false } },
  }).settings;
  const tPrep = performance.now();
  const prepared = await def.create(settings).doPrepare({
    dataset: { name: 'amazon-book', numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train },
    model: {
      modelId: 'lightgcn',
      capabilities: model.capabilities,
      embeddingSize: model.embeddingSize,
      encodesViews: true,
    },
    inputs: { userProfiles, itemProfiles, sources: { profileEmbeddings: 'synthetic' } },
    seed: job.seed,
  });
  const prepareS = (performance.now() - tPrep) / 1000;
  const trainable = await createModelTrainable({
    model,
    data: ds,
    seed: job.seed,
    optimizer: { lr: 1e-3 },
    l2: 1e-6,
    methods: [{ id: 'promax', prepared }],
  });
  const sampler = new TripleSampler(ds.train, { batchSize: 4096 });
  sampler.sampleEpoch(new Rng(job.seed));
  await trainable.onEpochStart(1);
  const t0 = performance.now();
  const losses = [];
  for (let b = 0; b < job.batches; b++) losses.push(await trainable.trainBatch(sampler.batch(b)));
  const perBatch = (performance.now() - t0) / 1000 / job.batches;
  const info = prepared.report.details.sparseTeacher;
  const dense = prepared.report.details.teacher;
  await trainable.release();
  await prepared.release();
  const out = {
    teacher: job.teacher,
    k: info?.k ?? null,
    logits: job.logits ?? null,
    teacher_bytes: info ? info.sparseBytes : dense.estimatedBytes,
    teacher_build_s: round((info?.buildMs ?? dense.buildMs) / 1000, 2),
    prepare_s: round(prepareS, 2),
    s_per_epoch: round(perBatch * sampler.numBatches, 2),
    first_batch_sdr: round(losses[0].sdr, 6),
    peak_rss_gb: round(process.resourceUsage().maxRSS / 2 ** 20, 3),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

const script = fileURLToPath(import.meta.url);
const common = { negatives: Number(args.negatives), batches: Number(args.batches), seed: Number(args.seed) };
const jobs = [
  { teacher: 'dense' },
  ...args.ks
    .split(',')
    .flatMap((k) => args.logits.split(',').map((logits) => ({ teacher: 'sparse', k: Number(k), logits }))),
];
const rows = [];
for (const job of jobs) {
  const res = spawnSync(process.execPath, [script, '--child', JSON.stringify({ ...common, ...job })], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (res.status !== 0) throw new Error(`child ${JSON.stringify(job)} failed:\n${res.stderr}`);
  const row = JSON.parse(res.stdout.trim().split('\n').at(-1));
  process.stderr.write(`  ${JSON.stringify(row)}\n`);
  rows.push(row);
}
const dense = rows[0];
for (const r of rows)
  r.sdr_rel_diff_vs_dense = round(
    Math.abs(r.first_batch_sdr - dense.first_batch_sdr) / dense.first_batch_sdr,
    5,
  );
report('sdr-sparse', { dataset: 'amazon-book', profiles: 'synthetic 64-d', ...common, rows });
