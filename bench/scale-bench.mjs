// Scale benchmark: how training, evaluation, the SDR teacher and ANN retrieval grow with data size.
//
// Usage: pnpm bench:scale [--sizes 200k,1m,2m] [--configs lightgcn,s2dr,sdr_sparse] [--ann-rows 1000000]
//        [--ann-index ivf-hnsw-sq|ivf-pq] [--k 256] [--negatives 256] [--epochs 1] [--batches N]
//        [--no-ann] [--merge] [--threads N]
// --batches N times only the first N batches of the epoch and scales by the number of batches
// (recorded as epoch_from_batches); 0 (default) times whole epochs.
// Each size × configuration (LightGCN, +S2DR, +SDR with the sparse teacher) runs in a child
// process, so peak RSS is per configuration (process.resourceUsage().maxRSS). Data is synthetic
// power-law interactions with structured profile embeddings (bench/scale-data.mjs). Prints one
// JSON line; writes bench/results/scale.json and bench/results/scale-{time,memory}.svg.
// --merge keeps sizes measured by earlier invocations (so sizes can be run one job at a time).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { environment, round } from './common.mjs';

const SIZES = {
  '200k': { users: 20_000, items: 10_000, interactions: 200_000 },
  '1m': { users: 100_000, items: 50_000, interactions: 1_000_000 },
  '2m': { users: 200_000, items: 100_000, interactions: 2_000_000 },
};
const CONFIGS = ['lightgcn', 's2dr', 'sdr_sparse'];
const script = fileURLToPath(import.meta.url);
const resultsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200k,1m,2m' },
    'ann-rows': { type: 'string', default: '1000000' },
    k: { type: 'string', default: '256' },
    negatives: { type: 'string', default: '256' },
    epochs: { type: 'string', default: '1' },
    batches: { type: 'string', default: '0' },
    configs: { type: 'string', default: 'lightgcn,s2dr,sdr_sparse' },
    'ann-index': { type: 'string', default: 'ivf-hnsw-sq' },
    'no-ann': { type: 'boolean', default: false },
    merge: { type: 'boolean', default: false },
    threads: { type: 'string' },
    child: { type: 'string' },
  },
});
const engine = args.threads ? { intraOpNumThreads: Number(args.threads) } : {};
const peakRssGb = () => round(process.resourceUsage().maxRSS / 2 ** 20, 3);

if (args.child) {
  const job = JSON.parse(args.child);
  const out = job.kind === 'ann' ? await annChild(job) : await trainChild(job);
  process.stdout.write(`${JSON.stringify({ ...out, peak_rss_gb: peakRssGb() })}\n`);
  process.exit(0);
}

/** One size × configuration: build, `epochs` timed epochs, and (LightGCN) one full-ranking evaluation. */
async function trainChild({ size, config, k, negatives, epochs, batches }) {
  const { Rng } = await import('../packages/core/dist/index.js');
  const { RankingEvaluator } = await import('../packages/eval/dist/index.js');
  const { resolvePromaxSettings } = await import('../packages/loss/dist/index.js');
  const { createModelTrainable, preparePromax, TripleSampler } = await import(
    '../packages/pipeline/dist/index.js'
  );
  const { createLightGcn } = await import('../models/lightgcn/dist/index.js');
  const { powerLawDataset } = await import('./scale-data.mjs');
  const tData = performance.now();
  const ds = powerLawDataset(SIZES[size]);
  const dataS = (performance.now() - tData) / 1000;
  const model = createLightGcn();
  let prepared;
  const tPrep = performance.now();
  if (config !== 'lightgcn') {
    const settings = resolvePromaxSettings('custom', {
      sdr:
        config === 'sdr_sparse'
          ? { enabled: true, lambda1: 0.5, teacher: 'sparse', sparseK: k, sparseNegatives: negatives }
          : { enabled: false },
      s2dr: { enabled: config === 's2dr' },
      preprocess: { mode: 'none' },
    });
    prepared = await preparePromax({
      settings,
      model,
      data: {
        numUsers: ds.numUsers,
        numItems: ds.numItems,
        train: ds.train,
        aug: config === 's2dr' ? ds.aug : undefined,
        userProfiles: ds.userProfiles,
        itemProfiles: ds.itemProfiles,
      },
      modelDim: 64,
      engine,
    });
  }
  const prepareS = (performance.now() - tPrep) / 1000;
  const trainable = await createModelTrainable({
    model,
    data: {
      numUsers: ds.numUsers,
      numItems: ds.numItems,
      train: ds.train,
      aug: config === 's2dr' ? ds.aug : undefined,
    },
    seed: 2025,
    optimizer: { lr: 1e-3 },
    l2: 1e-6,
    engine,
    extraLoss: prepared?.extraLoss,
    feedsForBatch: prepared?.feedsForBatch,
  });
  const sampler = new TripleSampler(ds.train, { batchSize: 4096 });
  const rng = new Rng(2025);
  const epochS = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    await trainable.onEpochStart(epoch);
    sampler.sampleEpoch(rng);
    const n = batches > 0 ? Math.min(batches, sampler.numBatches) : sampler.numBatches;
    for (let b = 0; b < n; b++) await trainable.trainBatch(sampler.batch(b));
    epochS.push(((performance.now() - t0) / 1000) * (sampler.numBatches / n));
  }
  let evalS = null;
  let metrics = null;
  if (config === 'lightgcn') {
    const emb = await trainable.embed();
    const ev = new RankingEvaluator({ ks: [20], engine });
    const t0 = performance.now();
    const r = await ev.evaluate({
      userEmb: emb.users,
      itemEmb: emb.items,
      train: ds.train,
      heldOut: ds.test,
    });
    evalS = (performance.now() - t0) / 1000;
    metrics = { 'recall@20': round(r.metrics['recall@20'], 4) };
    await ev.release();
  }
  const teacher = prepared?.sparseTeacherInfo;
  await trainable.release();
  await prepared?.release();
  return {
    size,
    config,
    users: ds.numUsers,
    items: ds.numItems,
    interactions: ds.interactions,
    train_interactions: ds.train.indptr[ds.numUsers],
    data_s: round(dataS, 2),
    prepare_s: round(prepareS, 2),
    s_per_epoch: round(Math.min(...epochS), 3),
    batches_per_epoch: sampler.numBatches,
    epoch_from_batches: batches > 0 ? Math.min(batches, sampler.numBatches) : null,
    eval_s: evalS === null ? null : round(evalS, 3),
    metrics,
    teacher: teacher
      ? {
          k: teacher.k,
          sparse_bytes: teacher.sparseBytes,
          dense_bytes: teacher.denseBytes,
          build_s: round(teacher.buildMs / 1000, 2),
          source: teacher.source,
        }
      : null,
  };
}

/** ANN on LanceDB vs exact brute force on clustered vectors: build, query and recall@20. */
async function annChild({ rows, dim, queries: nq, index }) {
  const { createExactRetriever, recallAgainstExact } = await import('../packages/retrieval/dist/index.js');
  const { createLanceRetriever } = await import('../packages/retrieval-lancedb/dist/index.js');
  const { clusteredVectors } = await import('./scale-data.mjs');
  const corpus = clusteredVectors(rows, dim, 7);
  const queries = clusteredVectors(nq, dim, 8);
  const dir = mkdtempSync(join(tmpdir(), 'promax-scale-ann-'));
  try {
    const ann = await createLanceRetriever({ dir, index: { type: index } });
    await ann.index(corpus);
    const tb = performance.now();
    await ann.prepare('cosine');
    const buildS = (performance.now() - tb) / 1000;
    const exact = createExactRetriever({ engine });
    await exact.index(corpus);
    // warm both (session creation, table open) on a few queries, then time the full query set
    const warm = { rows: 8, cols: dim, data: queries.data.subarray(0, 8 * dim) };
    await ann.doSearch({ queries: warm, k: 20, metric: 'cosine' });
    await exact.doSearch({ queries: warm, k: 20, metric: 'cosine' });
    const r = await recallAgainstExact({
      approximate: ann,
      exact,
      queries,
      k: 20,
      metric: 'cosine',
      sample: nq,
    });
    await ann.release();
    await exact.release();
    return {
      kind: 'ann',
      rows,
      dim,
      queries: nq,
      index: ann.provider,
      recall_at_20: round(r.recall, 4),
      build_s: round(buildS, 2),
      query_ms: round(r.approximateMs / nq, 3),
      exact_query_ms: round(r.exactMs / nq, 3),
      speedup_vs_exact: round(r.exactMs / r.approximateMs, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(job) {
  const t0 = performance.now();
  const res = spawnSync(
    process.execPath,
    [script, '--child', JSON.stringify(job), ...(args.threads ? ['--threads', args.threads] : [])],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  if (res.status !== 0)
    throw new Error(`child ${JSON.stringify(job)} failed (${res.status}):\n${res.stderr}`);
  const line = res.stdout.trim().split('\n').at(-1);
  process.stderr.write(
    `  ${JSON.stringify(job)} → ${line} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
  return JSON.parse(line);
}

mkdirSync(resultsDir, { recursive: true });
const resultFile = join(resultsDir, 'scale.json');
const previous = args.merge && existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : null;
const runs = previous?.runs ? [...previous.runs] : [];
const k = Number(args.k);
for (const size of args.sizes.split(',').filter(Boolean)) {
  if (!(size in SIZES))
    throw new Error(`--sizes: unknown size '${size}' (have ${Object.keys(SIZES).join(', ')})`);
  for (const config of args.configs.split(',').filter(Boolean)) {
    if (!CONFIGS.includes(config))
      throw new Error(`--configs: unknown '${config}' (have ${CONFIGS.join(', ')})`);
    const r = runChild({
      kind: 'train',
      size,
      config,
      k,
      negatives: Number(args.negatives),
      epochs: Number(args.epochs),
      batches: Number(args.batches),
    });
    const at = runs.findIndex((x) => x.size === size && x.config === config);
    if (at >= 0) runs[at] = r;
    else runs.push(r);
  }
}
let ann = previous?.ann ?? null;
if (!args['no-ann'])
  ann = runChild({
    kind: 'ann',
    rows: Number(args['ann-rows']),
    dim: 64,
    queries: 1000,
    index: args['ann-index'],
  });

const sizes = Object.keys(SIZES).filter((s) => runs.some((r) => r.size === s));
const scale = sizes.map((s) => {
  const of = (c) => runs.find((r) => r.size === s && r.config === c);
  const all = CONFIGS.map(of).filter(Boolean);
  const base = of('lightgcn') ?? all[0];
  return {
    users: base.users,
    items: base.items,
    interactions: base.interactions,
    s_per_epoch: base.s_per_epoch,
    peak_rss_gb: Math.max(...all.map((r) => r.peak_rss_gb)),
    eval_s: base.eval_s,
    by_config: Object.fromEntries(
      all.map((r) => [r.config, { s_per_epoch: r.s_per_epoch, peak_rss_gb: r.peak_rss_gb }]),
    ),
    recall_at_20_after_epochs: base.metrics?.['recall@20'] ?? null,
  };
});
const largest = sizes.at(-1);
const teacherRun = runs.find((r) => r.size === largest && r.config === 'sdr_sparse')?.teacher ?? null;
const teacher = teacherRun
  ? {
      dense_bytes: teacherRun.dense_bytes,
      sparse_bytes: teacherRun.sparse_bytes,
      k: teacherRun.k,
      build_s: teacherRun.build_s,
    }
  : null;
const perInteraction = (row, cfg) => (row.by_config[cfg]?.s_per_epoch ?? Number.NaN) / row.interactions;
const growth =
  scale.length >= 2
    ? Object.fromEntries(
        CONFIGS.map((c) => [c, round(perInteraction(scale.at(-1), c) / perInteraction(scale[0], c), 3)]),
      )
    : null;
// The ProMax terms alone (config minus LightGCN per epoch): what the sparse teacher makes linear.
const termGrowth =
  scale.length >= 2
    ? Object.fromEntries(
        ['s2dr', 'sdr_sparse'].map((c) => {
          const per = (row) =>
            ((row.by_config[c]?.s_per_epoch ?? Number.NaN) - row.by_config.lightgcn.s_per_epoch) /
            row.interactions;
          return [c, round(per(scale.at(-1)) / per(scale[0]), 3)];
        }),
      )
    : null;
const targets = {
  ann_recall_at_20_ge_0_95: ann ? ann.recall_at_20 >= 0.95 : null,
  ann_faster_than_exact: ann ? ann.speedup_vs_exact > 1 : null,
  teacher_10x_smaller: teacher ? teacher.dense_bytes / teacher.sparse_bytes >= 10 : null,
  time_per_interaction_growth_le_1_5: growth ? Object.values(growth).every((g) => g <= 1.5) : null,
  peak_rss_at_largest_le_8gb: scale.length ? scale.at(-1).peak_rss_gb <= 8 : null,
};
const result = {
  ann: ann && {
    recall_at_20: ann.recall_at_20,
    speedup_vs_exact: ann.speedup_vs_exact,
    build_s: ann.build_s,
    query_ms: ann.query_ms,
    rows: ann.rows,
    dim: ann.dim,
    index: ann.index,
    exact_query_ms: ann.exact_query_ms,
  },
  teacher,
  scale,
  time_per_interaction_growth: growth,
  term_time_per_interaction_growth: termGrowth,
  targets,
};

const { lineChart } = await import('../apps/cli/dist/report/svg.js');
const series = (metric) =>
  CONFIGS.map((c) => ({
    name: { lightgcn: 'LightGCN', s2dr: '+S2DR', sdr_sparse: `+SDR (sparse, K=${k})` }[c],
    points: scale
      .filter((r) => r.by_config[c])
      .map((r) => ({ x: r.interactions / 1e6, y: r.by_config[c][metric] })),
  }));
writeFileSync(
  join(resultsDir, 'scale-time.svg'),
  lineChart({
    title: 'Seconds per epoch vs interactions (2 shared CPU cores)',
    xLabel: 'interactions (millions)',
    yLabel: 's / epoch',
    series: series('s_per_epoch'),
    yFromZero: true,
  }),
);
writeFileSync(
  join(resultsDir, 'scale-memory.svg'),
  lineChart({
    title: 'Peak RSS vs interactions',
    xLabel: 'interactions (millions)',
    yLabel: 'peak RSS (GB)',
    series: series('peak_rss_gb'),
    yFromZero: true,
  }),
);
writeFileSync(
  resultFile,
  `${JSON.stringify({ benchmark: 'scale', ...result, runs, environment: environment() }, null, 2)}\n`,
);
process.stdout.write(`${JSON.stringify(result)}\n`);
