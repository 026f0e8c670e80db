// Full training runs of zoo models (optionally with methods) through the one recipe, runExperiment:
// method.md §6 protocol (Adam lr 1e-3, batch 4096, λreg 1e-6, validation every 3 epochs, keep
// the best by recall@20, stop after 20 evaluations without improvement, test once).
// Usage:
//   npx tsc -b && node bench/zoo-runs.mjs --model lightgcn [--method promax] --dataset amazon-book [--seed 2025]
//     [--max-epochs 1000] [--settings '{"layers":3}'] [--set trainer.patience=10]... [--run-dir runs/x]
//     (--model takes any installed model plugin: the list is found, not kept)
//     [--threads N] (onnxruntime intra-op threads; 1 lets two runs share 2 cores) [--tag NAME] (result file suffix)
//     [--preset NAME|none] (model settings preset; default: the one named like the dataset, if any)
// Progress goes to stderr; the results JSON (train()'s results.json plus the model settings and
// the trainer config) to stdout and to bench/results/zoo-<model>-<dataset>-<seed>.json.
import { parseArgs } from 'node:util';
import { loadDataset } from '../packages/data/dist/index.js';
import { applyOverrides, runExperiment } from '../packages/pipeline/dist/index.js';
import { plugin, pluginIds, report, round } from './common.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'lightgcn' },
    method: { type: 'string', multiple: true, default: [] },
    dataset: { type: 'string', default: 'amazon-book' },
    seed: { type: 'string', default: '2025' },
    'max-epochs': { type: 'string' },
    settings: { type: 'string', default: '{}' },
    set: { type: 'string', multiple: true, default: [] },
    'run-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    threads: { type: 'string' },
    tag: { type: 'string' },
    preset: { type: 'string' },
  },
});
const models = await pluginIds('model');
if (!models.includes(args.model)) throw new Error(`--model must be one of ${models.join(', ')}`);

const seed = Number(args.seed);
const raw = { trainer: args['max-epochs'] ? { maxEpochs: Number(args['max-epochs']) } : {} };
applyOverrides(raw, args.set);
const trainer = raw.trainer;
const log = (line) => {
  if (!args.quiet) process.stderr.write(`${line}\n`);
};
const fmt = (o) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${round(v, 4)}`)
    .join(' ');
const onProgress = (e) => {
  if (e.type === 'epoch-end') log(`epoch ${e.epoch} ${fmt(e.losses)} (${round(e.trainMs / 1000, 2)} s)`);
  else if (e.type === 'evaluation') {
    const m = e.metrics;
    log(
      `  ${e.split} @${e.epoch}: recall@20=${round(m['recall@20'] ?? Number.NaN, 4)} ndcg@20=${round(m['ndcg@20'] ?? Number.NaN, 4)}${e.improved ? ' *' : ''}`,
    );
  } else if (e.type === 'warning' || e.type === 'info') log(`${e.type}: ${e.message}`);
};
// The one training recipe (presets by canonical dataset name, as `promax train` resolves them).
const { results: result, resolved } = await runExperiment({
  dataset: loadDataset(args.dataset),
  model: {
    definition: await plugin('model', args.model),
    settings: JSON.parse(args.settings),
    preset: args.preset,
  },
  methods: await Promise.all(args.method.map(async (id) => ({ definition: await plugin('method', id) }))),
  trainer,
  seed,
  threads: args.threads ? Number(args.threads) : undefined,
  out: args['run-dir'],
  overwrite: true,
  onProgress,
});
const tag = [resolved.label, args.tag].filter(Boolean).join('-');

report(`zoo-${tag}-${args.dataset}-${seed}`, { ...result, trainer: resolved.trainer });
