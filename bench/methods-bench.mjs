// One training step of each rival method (rlmrec-con, rlmrec-gen, proex, kar) on LightGCN at
// Amazon-book shapes with SYNTHETIC structured 1536-d profiles (timing and memory only: they carry
// no real profile signal), against a PyTorch CPU peer of each written from baselines.md
// (bench/peers/methods_step_torch.py), same machine, same run. Prints one JSON line
// {"rlmrec-con": {"step_ms", "torch_step_ms", "speedup", "epoch_s", …}, …, "peak_rss_mb", …}.
//
// Per method: step_ms / step_cpu_ms = median wall / process-CPU time of a full-batch step (CPU time
// sums every engine thread; it is the work done, less sensitive to other load on the machine);
// epoch_s = what one training epoch costs: (steps − 1) full steps + the last, shorter batch + the
// epoch's negative sampling; embed_ms = the scoring pass an evaluation runs first (ProEx and KAR
// project every profile there), and epoch_with_eval_s adds it once per eval_every epochs (the
// ranking itself is the base model's cost and not counted). The peer runs the released
// computation (RLMRec-Con and ProEx project every row at every step); for those two, the
// torch_same_rows_* fields time the peer restricted to the rows we project (baselines.md §3.5),
// i.e. both sides doing the same work. load_avg is the 1-minute load at start and end.
// Usage: node bench/methods-bench.mjs [--runs 3] [--warmup 1] [--threads N] [--methods a,b] [--no-torch]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset, resolveDataDir } from '../packages/data/dist/index.js';
import { TripleSampler, trainerConfigSchema } from '../packages/pipeline/dist/index.js';
import { benchDir, median, methodTrainable, report, round } from './common.mjs';
import { syntheticMethodInputs } from './synthetic-profiles.mjs';

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

// Low-rank (rank 16) factors from the train matrix plus noise, in memory; one seed per profile set.
const inputs = syntheticMethodInputs(ds, D);
const loadAtStart = loadavg()[0];
const { batchSize, evalEvery } = trainerConfigSchema.parse({});
const sampler = new TripleSampler(ds.train, { batchSize });
const s0 = performance.now();
sampler.sampleEpoch(new Rng(2025));
const sampleMs = performance.now() - s0;
const stepsPerEpoch = sampler.numBatches;
const cpuMs = (c) => (c.user + c.system) / 1000;

async function timeMethod(id) {
  const t = await methodTrainable(id, ds, inputs, engine);
  const times = [];
  const cpu = [];
  // Full batches only (the last batch of the epoch is shorter and timed separately).
  for (let k = 0; k < warmup + runs; k++) {
    const batch = sampler.batch(k % (stepsPerEpoch - 1));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await t.trainBatch(batch);
    if (k >= warmup) {
      times.push(performance.now() - t0);
      cpu.push(cpuMs(process.cpuUsage(c0)));
    }
  }
  const l0 = performance.now();
  await t.trainBatch(sampler.batch(stepsPerEpoch - 1));
  const lastMs = performance.now() - l0;
  const e0 = performance.now();
  await t.embed();
  const embedMs = performance.now() - e0;
  await t.release();
  return { step_ms: median(times), step_cpu_ms: median(cpu), last_step_ms: lastMs, embed_ms: embedMs };
}

function torchStep(id, rows = 'all') {
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
      '--rows',
      rows,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] };
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

// The peer projects every row as released; these two also run restricted to our rows (§3.5).
const ROW_RESTRICTED = new Set(['rlmrec-con', 'proex']);
const result = {};
for (const id of args.methods.split(',')) {
  const ours = await timeMethod(id);
  const peer = torchStep(id);
  const same = ROW_RESTRICTED.has(id) ? torchStep(id, 'batch') : undefined;
  const epochMs = (stepsPerEpoch - 1) * ours.step_ms + ours.last_step_ms + sampleMs;
  result[id] = {
    step_ms: round(ours.step_ms),
    step_cpu_ms: round(ours.step_cpu_ms),
    torch_step_ms: peer.step_ms ?? null,
    torch_step_cpu_ms: peer.step_cpu_ms ?? null,
    speedup: peer.step_ms ? round(peer.step_ms / ours.step_ms) : null,
    speedup_cpu: peer.step_cpu_ms ? round(peer.step_cpu_ms / ours.step_cpu_ms) : null,
    ...(same
      ? {
          torch_same_rows_step_ms: same.step_ms ?? null,
          torch_same_rows_step_cpu_ms: same.step_cpu_ms ?? null,
          speedup_same_rows: same.step_ms ? round(same.step_ms / ours.step_ms) : null,
        }
      : {}),
    last_step_ms: round(ours.last_step_ms),
    epoch_s: round(epochMs / 1000, 1),
    embed_ms: round(ours.embed_ms),
    epoch_with_eval_s: round((epochMs + ours.embed_ms / evalEvery) / 1000, 1),
    ...(peer.error ? { torch_error: peer.error } : {}),
    ...(same?.error ? { torch_same_rows_error: same.error } : {}),
  };
}
// The fp32 GEMM ceiling (torch/MKL at the dominant shape): a step's GFLOP over its CPU time can
// not exceed it, so a speed-up target above ceiling / peer rate is out of reach for exact code.
const ceiling = torchStep('gemm');
result.sgemm_ceiling = ceiling.error ? { error: ceiling.error } : ceiling;
result.steps_per_epoch = stepsPerEpoch;
result.sample_ms = round(sampleMs);
result.eval_every = evalEvery;
result.threads = args.threads ? Number(args.threads) : 'engine default (all cores)';
result.load_avg = { start: round(loadAtStart), end: round(loadavg()[0]) };
result.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024, 0);
result.profiles = 'synthetic structured 1536-d (timing and memory only)';
result.runs = runs;
report('methods', result);
