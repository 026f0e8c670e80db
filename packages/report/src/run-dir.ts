// Reading what `promax train` leaves in a run directory (config.json, results.json,
// metrics.jsonl, user_emb.npy / item_emb.npy) into one typed record for reports and commands.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { PromaxError } from '@promax/core';
import { canonicalDatasetName, type Dataset, type LoadDatasetOptions, loadDataset } from '@promax/data';
import { checkRunDirectory } from '@promax/pipeline';

/** Which ProMax terms a run trained with (results.json `promax.components`). */
export interface RunComponents {
  sdr: boolean;
  s2dr: boolean;
  notes: string[];
}

export interface RunInfo {
  dir: string;
  /** Base model id (`lightgcn`), without `+promax`. */
  model: string;
  /** Dataset name as the run recorded it (`amazon-book`, or a folder dataset's name). */
  dataset: string;
  /** What to load the dataset from: the config's `dataset` (a registered name or a folder). */
  datasetSource: string;
  seed: number | null;
  /** The method plugins the run trained with, in order (`[]` for the base model). */
  methods: string[];
  /** Whether ProMax was one of them. */
  promax: boolean;
  /**
   * What identifies the run's configuration apart from its seed, flattened to `path → JSON value`:
   * `model.*` (model settings), `<method>.*` (each method's settings), `trainer.*` (trainer settings
   * but the seed) and `input.*` (the A′ and profile-embedding files, the run's seed in a path read
   * as `{seed}`: an input drawn per seed is one input). Runs that differ here are different
   * configurations, never seeds of one.
   */
  settings: Record<string, string>;
  /** Undefined for base runs, or when the run did not record them. */
  components?: RunComponents;
  /** Test metrics of the best-validation parameters. */
  test: Record<string, number>;
  val: Record<string, number> | null;
  bestEpoch: number | null;
  epochs: number | null;
  stopped: string | null;
  maxEpochs: number | null;
  /** Validation evaluations in epoch order (metrics.jsonl, else results.json `history`). */
  valCurve: { epoch: number; metrics: Record<string, number> }[];
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      file: path,
      message: 'cannot read the file',
      fix: 'pass a run directory written by promax train',
      cause,
    });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file: path,
      message: `not valid JSON: ${(cause as Error).message}`,
      cause,
    });
  }
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function metricRecord(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
  return out;
}

/** Reads the run's config.json (an empty object when absent: older runs may lack it). */
export function readRunConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  return existsSync(path) ? obj(readJsonFile(path)) : {};
}

function readValCurve(dir: string, results: Record<string, unknown>): RunInfo['valCurve'] {
  const path = join(dir, 'metrics.jsonl');
  const curve: RunInfo['valCurve'] = [];
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let rec: Record<string, unknown>;
      try {
        rec = obj(JSON.parse(line));
      } catch {
        continue; // a line cut by an interrupted run
      }
      if (rec.type === 'evaluation' && rec.split === 'val' && typeof rec.epoch === 'number') {
        curve.push({ epoch: rec.epoch, metrics: metricRecord(rec.metrics) });
      }
    }
  }
  if (!curve.length && Array.isArray(results.history)) {
    for (const h of results.history) {
      const r = obj(h);
      if (typeof r.epoch === 'number') curve.push({ epoch: r.epoch, metrics: metricRecord(r.metrics) });
    }
  }
  return curve.sort((a, b) => a.epoch - b.epoch);
}

/** Reads one run directory; throws a PromaxError naming the folder when it holds no results.json. */
export function readRun(dir: string): RunInfo {
  const resultsPath = join(dir, 'results.json');
  if (!existsSync(resultsPath)) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      file: dir,
      message: 'no results.json in this folder: it is not a finished training run',
      fix: 'pass a run directory written by promax train (or a folder above several of them)',
    });
  }
  checkRunDirectory(dir);
  const results = obj(readJsonFile(resultsPath));
  const config = readRunConfig(dir);
  const promaxRecord = obj(results.promax ?? config.promax);
  const recordedModel = typeof results.model === 'string' ? results.model : undefined;
  const model =
    (typeof config.model === 'string' ? config.model : recordedModel?.replace(/\+promax$/i, '')) ?? 'unknown';
  const promax =
    typeof promaxRecord.enabled === 'boolean' ? promaxRecord.enabled : /\+promax$/i.test(recordedModel ?? '');
  const comps = obj(promaxRecord.components);
  const components: RunComponents | undefined =
    promax && typeof comps.sdr === 'boolean' && typeof comps.s2dr === 'boolean'
      ? { sdr: comps.sdr, s2dr: comps.s2dr, notes: Array.isArray(comps.notes) ? comps.notes.map(String) : [] }
      : undefined;
  const datasetSource =
    typeof config.dataset === 'string'
      ? config.dataset
      : typeof results.dataset === 'string'
        ? results.dataset
        : '';
  const dataset =
    typeof results.dataset === 'string'
      ? results.dataset
      : (canonicalDatasetName(datasetSource) ?? (basename(datasetSource) || 'unknown'));
  const trainer = obj(config.trainer);
  // The methods as results.json records them (id + resolved settings), else as config.json lists them.
  const recorded = Array.isArray(results.methods) ? results.methods.map(obj) : undefined;
  const methods = recorded
    ? recorded.map((m) => String(m.id))
    : Array.isArray(config.methods)
      ? config.methods.map((m) => (typeof m === 'string' ? m : String(obj(m).id)))
      : promax
        ? ['promax']
        : [];
  const settings: Record<string, string> = {};
  flatten(settings, 'model', results.model_settings ?? config.modelSettings);
  const methodSettings = obj(config.methodSettings);
  for (const [k, id] of methods.entries())
    flatten(settings, id, recorded ? recorded[k]?.settings : (methodSettings[id] ?? promaxRecord.settings));
  const { seed: _seed, ...trainerBut } = trainer;
  flatten(settings, 'trainer', trainerBut);
  // An input drawn per seed (ablate's random A′: inputs/random-seed-2025/…) is one input across seeds.
  const seed = numOrNull(results.seed ?? config.seed);
  const perSeed = seed === null ? null : new RegExp(`(?<![0-9])${seed}(?![0-9])`, 'g');
  // Always recorded: no file (null) means the dataset's own, a configuration of its own.
  for (const input of ['aug', 'embeddings'] as const) {
    const path = config[input];
    settings[`input.${input}`] = JSON.stringify(
      typeof path !== 'string' ? null : perSeed ? path.replace(perSeed, '{seed}') : path,
    );
  }
  return {
    dir,
    model,
    dataset,
    datasetSource,
    seed,
    methods,
    promax: promax || methods.includes('promax'),
    settings,
    components,
    test: metricRecord(results.test),
    val: results.val ? metricRecord(results.val) : null,
    bestEpoch: numOrNull(results.best_epoch),
    epochs: numOrNull(results.epochs),
    stopped: typeof results.stopped === 'string' ? results.stopped : null,
    maxEpochs: numOrNull(trainer.maxEpochs),
    valCurve: readValCurve(dir, results),
  };
}

/** `out[prefix.path] = JSON value` for every leaf of a settings object (arrays are leaves). */
function flatten(out: Record<string, string>, prefix: string, value: unknown): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(out, `${prefix}.${k}`, v);
  } else if (value !== undefined) out[prefix] = JSON.stringify(value);
}

/**
 * The run directories at or below `dir`: the folder itself when it holds results.json, else every
 * folder below it (up to `depth` levels, sorted) that does — so the output folder of
 * `promax reproduce` can be passed whole.
 */
export function findRunDirs(dir: string, depth = 4): string[] {
  if (existsSync(join(dir, 'results.json'))) return [dir];
  if (depth <= 0 || !existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const sub = join(dir, name);
      return name.startsWith('.') || !statSync(sub).isDirectory() ? [] : findRunDirs(sub, depth - 1);
    });
}

/**
 * Where a run's dataset is: a registered name stays as it is; a folder is taken relative to `cwd`,
 * else relative to the run directory (runs moved together with their data).
 */
export function resolveDatasetSource(source: string, where: { cwd: string; runDir: string }): string {
  if (!source || canonicalDatasetName(source) || isAbsolute(source)) return source;
  const fromCwd = resolve(where.cwd, source);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRun = resolve(where.runDir, source);
  return existsSync(fromRun) ? fromRun : fromCwd;
}

/** Loads datasets once per source for one caller (reports read many runs of the same data). */
export function datasetLoader(
  options: LoadDatasetOptions = { embeddings: false, aug: false },
): (source: string) => Dataset {
  const cache = new Map<string, Dataset>();
  return (source) => {
    let ds = cache.get(source);
    if (!ds) {
      ds = loadDataset(source, options);
      cache.set(source, ds);
    }
    return ds;
  };
}

/** The run's labels: `lightgcn`, `lightgcn+ProMax (S2DR)`, `lightgcn+rlmrec-con`. */
export function methodLabel(run: Pick<RunInfo, 'methods' | 'components'>): string {
  return run.methods
    .map((id) => {
      if (id !== 'promax') return `+${id}`;
      if (!run.components) return '+ProMax';
      const terms = [run.components.sdr && 'SDR', run.components.s2dr && 'S2DR'].filter(Boolean).join('+');
      return `+ProMax (${terms || 'no terms'})`;
    })
    .join('');
}

export const runLabel = (run: Pick<RunInfo, 'model' | 'methods' | 'components'>): string =>
  `${run.model}${methodLabel(run)}`;
