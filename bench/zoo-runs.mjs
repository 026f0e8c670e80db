// Full training runs of zoo models through the pipeline (createModelTrainable + train()):
// method.md §6 protocol (Adam lr 1e-3, batch 4096, λreg 1e-6, validation every 3 epochs, keep
// the best by recall@20, stop after 20 evaluations without improvement, test once).
// Usage:
//   npx tsc -b && node bench/zoo-runs.mjs --model lightgcn --dataset amazon-book [--seed 2025]
//     [--max-epochs 1000] [--settings '{"layers":3}'] [--set trainer.patience=10]... [--run-dir runs/x]
//     [--threads N] (onnxruntime intra-op threads; 1 lets two runs share 2 cores) [--tag NAME] (result file suffix)
//     [--preset NAME|none] (model settings preset; default: the one named like the dataset, if any)
// Progress goes to stderr; the results JSON (train()'s results.json plus the model settings and
// the trainer config) to stdout and to bench/results/zoo-<model>-<dataset>-<seed>.json.
import { parseArgs } from 'node:util';
import { loadDataset } from '../packages/data/dist/index.js';
import {
  applyOverrides,
  createModelTrainable,
  parseConfig,
  train,
  validateConfig,
} from '../packages/pipeline/dist/index.js';
import { report, round } from './common.mjs';

const MODELS = {
  mf: () => import('../models/mf/dist/index.js').then((m) => m.mfDefinition),
  lightgcn: () => import('../models/lightgcn/dist/index.js').then((m) => m.lightGcnDefinition),
  gccf: () => import('../models/gccf/dist/index.js').then((m) => m.gccfDefinition),
  simgcl: () => import('../models/simgcl/dist/index.js').then((m) => m.simGclDefinition),
  sgl: () => import('../models/sgl/dist/index.js').then((m) => m.sglDefinition),
};

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'lightgcn' },
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
if (!(args.model in MODELS)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}`);

const definition = await MODELS[args.model]();
const seed = Number(args.seed);
// The model's preset for this dataset (e.g. RLMRec's SimGCL/SGL values) beneath --settings, as
// `promax train` does; --preset none turns it off.
const presetName =
  args.preset ??
  (definition.presets && Object.hasOwn(definition.presets, args.dataset) ? args.dataset : 'none');
if (presetName !== 'none' && !definition.presets?.[presetName])
  throw new Error(`${definition.id} has no preset '${presetName}'`);
const preset = presetName === 'none' ? {} : definition.presets[presetName];
const settings = validateConfig(
  definition.settingsSchema,
  { ...preset, ...JSON.parse(args.settings) },
  {
    source: `--settings (${definition.id})`,
  },
);
const raw = { trainer: { seed, ...(args['max-epochs'] ? { maxEpochs: Number(args['max-epochs']) } : {}) } };
applyOverrides(raw, args.set);
const config = parseConfig(raw.trainer, { source: 'trainer' });

const ds = await loadDataset(args.dataset);
const model = definition.create(settings);
const trainable = await createModelTrainable({
  model,
  data: ds,
  seed,
  optimizer: { lr: config.lr },
  l2: config.l2,
  engine: args.threads ? { intraOpNumThreads: Number(args.threads) } : undefined,
});

const log = (line) => {
  if (!args.quiet) process.stderr.write(`${line}\n`);
};
const fmt = (o) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${round(v, 4)}`)
    .join(' ');
const result = await train({
  trainable,
  data: ds,
  config,
  model: definition.id,
  dataset: args.dataset,
  runDir: args['run-dir'],
  runConfig: { model_settings: model.settings },
  onProgress: (e) => {
    if (e.type === 'epoch-end') log(`epoch ${e.epoch} ${fmt(e.losses)} (${round(e.trainMs / 1000, 2)} s)`);
    else if (e.type === 'evaluation') {
      const m = e.metrics;
      log(
        `  ${e.split} @${e.epoch}: recall@20=${round(m['recall@20'] ?? Number.NaN, 4)} ndcg@20=${round(m['ndcg@20'] ?? Number.NaN, 4)}${e.improved ? ' *' : ''}`,
      );
    } else if (e.type === 'warning') log(`warning: ${e.message}`);
  },
});

report(`zoo-${definition.id}${args.tag ? `-${args.tag}` : ''}-${args.dataset}-${seed}`, {
  ...result,
  model_settings: model.settings,
  model_preset: presetName,
  trainer: config,
});
