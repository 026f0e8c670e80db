// `buildReport`: a Markdown report with SVG plots over finished training runs — results (mean ± std
// over seeds), gains of +ProMax over the base model, the authors' numbers where comparable,
// validation curves, test recall by user sparsity and the profile-retrieval comparison.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type Matrix, PromaxError } from '@promax/core';
import { type Dataset, loadEmbeddings } from '@promax/data';
import { formatPaired, type MeanStd, meanStd, pairedBySeed, RankingEvaluator } from '@promax/eval';
import { markdownTable } from './markdown.js';
import {
  FAMILY_LABEL,
  findReferenceRun,
  loadReferenceCurve,
  loadReferenceSummary,
  locateReferenceLogs,
  type ReferenceRun,
  referenceDataset,
} from './reference.js';
import {
  datasetLoader,
  findRunDirs,
  methodLabel,
  type RunInfo,
  readRun,
  resolveDatasetSource,
  runLabel,
} from './run-dir.js';
import { degreeQuartileGroups, evaluatedUsers, metricsByGroup, type SparsityGroup } from './sparsity.js';
import { barChart, type LineSeries, lineChart } from './svg.js';

export interface BuildReportOptions {
  /** Run directories (or folders above them, e.g. a `promax reproduce` output folder). */
  runs: readonly string[];
  /** More runs to compare against (e.g. base runs); they join every table and plot. */
  compare?: readonly string[];
  /** Where report.md and plots/ go. */
  outDir: string;
  title?: string;
  /** Base for relative dataset folders recorded in config.json (default process.cwd()). */
  cwd?: string;
  /** Loads a dataset by registered name or folder (default: loadDataset without embeddings, cached per call). */
  loadDataset?: (source: string) => Dataset;
  /** Evaluate test recall per user-sparsity group from the saved embeddings (default true). */
  sparsity?: boolean;
  /** The authors' reference_logs folder (default: located in the data directory); null: leave them out. */
  referenceDir?: string | null;
  /**
   * Final embeddings already in memory, by run directory (e.g. from `runExperiment`), used instead
   * of reading the run's user_emb.npy / item_emb.npy again.
   */
  embeddings?: ReadonlyMap<string, { users: Matrix; items: Matrix }>;
}

export interface BuildReportResult {
  reportPath: string;
  /** Written plot files. */
  plots: string[];
  markdown: string;
  /** Why a section or plot was left out or limited. */
  notes: string[];
  runs: RunInfo[];
  /** The Markdown lines of the "authors' reference numbers" section (without its heading). */
  authorsSection: string[];
}

/** The metrics of the results tables (method.md §7). */
export const REPORT_METRICS = ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20'] as const;

/** Runs that share dataset, model, methods and every setting (seeds of one configuration). */
export interface RunGroup {
  key: string;
  model: string;
  dataset: string;
  /** The method plugins (`[]`: the base model). */
  methods: string[];
  promax: boolean;
  /** `lightgcn+ProMax (S2DR)`, with the settings that tell it apart from its look-alikes: `lightgcn (layers=4)`. */
  label: string;
  /** The settings that tell this group apart from groups of the same model and methods ('' when none). */
  variant: string;
  runs: RunInfo[];
  /** Test metrics over the runs: mean, sample std (null for one run), n. */
  test: Record<string, MeanStd>;
}

export function groupRuns(runs: readonly RunInfo[]): RunGroup[] {
  const families = new Map<string, RunInfo[]>();
  for (const run of runs) {
    const f = `${run.dataset}\u0000${run.model}\u0000${methodLabel(run)}`;
    families.set(f, [...(families.get(f) ?? []), run]);
  }
  const groups = new Map<string, RunGroup>();
  for (const [f, members] of families) {
    // Settings every run of the family recorded (a setting added in a later version is missing from
    // older runs and cannot tell them apart); runs that differ in one of them are configurations apart.
    const common = Object.keys((members[0] as RunInfo).settings)
      .filter((k) => members.every((r) => k in r.settings))
      .sort();
    const own = new Map<string, RunGroup>();
    for (const run of members) {
      const key = `${f}\u0000${JSON.stringify(common.map((k) => run.settings[k]))}`;
      let g = own.get(key);
      if (!g) {
        g = {
          key,
          model: run.model,
          dataset: run.dataset,
          methods: run.methods,
          promax: run.promax,
          label: runLabel(run),
          variant: '',
          runs: [],
          test: {},
        };
        own.set(key, g);
      }
      g.runs.push(run);
    }
    if (own.size > 1) {
      const differing = common.filter(
        (k) => new Set([...own.values()].map((g) => (g.runs[0] as RunInfo).settings[k])).size > 1,
      );
      for (const g of own.values()) {
        const s = (g.runs[0] as RunInfo).settings;
        g.variant = differing.map((k) => `${shortKey(k)}=${shortValue(s[k])}`).join(', ');
        g.label = `${g.label} (${g.variant})`;
      }
    }
    for (const [k, g] of own) groups.set(k, g);
  }
  for (const g of groups.values()) {
    const keys = new Set(g.runs.flatMap((r) => Object.keys(r.test)));
    for (const k of keys) {
      const values = g.runs
        .map((r) => r.test[k])
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (values.length) g.test[k] = meanStd(values);
    }
  }
  return [...groups.values()].sort(
    (a, b) =>
      a.dataset.localeCompare(b.dataset) ||
      a.model.localeCompare(b.model) ||
      Number(a.methods.length > 0) - Number(b.methods.length > 0) ||
      a.label.localeCompare(b.label),
  );
}

/** `model.layers` → `layers`, `input.aug` → `aug`; `trainer.lr` and `promax.sdr.lambda1` stay as they are. */
const shortKey = (k: string): string => k.replace(/^(model|input)\./, '');
/** A setting's value for a label: numbers and words as they are, file paths by their last two parts. */
function shortValue(v: string | undefined): string {
  if (v === undefined) return '–';
  let x: unknown;
  try {
    x = JSON.parse(v);
  } catch {
    return v;
  }
  if (x === null) return "the dataset's";
  if (typeof x === 'string') return x.includes('/') ? x.split('/').slice(-2).join('/') : x;
  return typeof x === 'number' ? String(Number(x.toPrecision(4))) : JSON.stringify(x);
}

/**
 * Whether two runs share the model's and the trainer's settings (what a base run must share with a
 * method's run), over the settings both recorded.
 */
const sameModelAndTrainer = (a: RunInfo, b: RunInfo): boolean =>
  Object.keys(a.settings)
    .filter((k) => (k.startsWith('model.') || k.startsWith('trainer.')) && k in b.settings)
    .every((k) => a.settings[k] === b.settings[k]);

/**
 * The base group (same model and dataset, no method) a method's group is measured against: the one
 * trained with the same model and trainer settings, else the only base group there is; undefined
 * when there is none, or several and none matches (the comparison would be ambiguous).
 */
export function baseGroupOf(g: RunGroup, groups: readonly RunGroup[]): RunGroup | undefined {
  if (!g.methods.length) return undefined;
  const bases = groups.filter((b) => !b.methods.length && b.model === g.model && b.dataset === g.dataset);
  const same = bases.find((b) => sameModelAndTrainer(b.runs[0] as RunInfo, g.runs[0] as RunInfo));
  return same ?? (bases.length === 1 ? bases[0] : undefined);
}

/** Relative gain and whether the difference of means exceeds the larger seed std of the two groups. */
export interface Gain {
  relative: number;
  delta: number;
  /** null when either side has a single run (no std). */
  beyondStd: boolean | null;
}

export function gainOf(base: MeanStd, treated: MeanStd): Gain {
  const delta = treated.mean - base.mean;
  const std = base.std === null || treated.std === null ? null : Math.max(base.std, treated.std);
  return { relative: delta / base.mean, delta, beyondStd: std === null ? null : Math.abs(delta) > std };
}

const fmt = (v: number | undefined, d = 4): string =>
  v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d);
const fmtMeanStd = (s: MeanStd | undefined): string =>
  !s ? '–' : s.std === null ? fmt(s.mean) : `${fmt(s.mean)} ± ${fmt(s.std)}`;
const fmtPct = (x: number): string =>
  Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%` : '–';
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'dataset';
/** The method column: `none`, `ProMax (SDR + S2DR)`, `rlmrec-con`. */
const methodCell = (r: RunInfo): string =>
  r.methods.length
    ? r.methods.map((id) => (id === 'promax' ? `ProMax (${termsOf(r)})` : id)).join(' + ')
    : 'none';
const termsOf = (r: RunInfo): string =>
  r.components
    ? [r.components.sdr && 'SDR', r.components.s2dr && 'S2DR'].filter(Boolean).join(' + ') || 'no ProMax term'
    : 'unrecorded terms';

/**
 * The paired tests of a group against its base group over the seeds both ran; '' below 2 pairs, or
 * when a seed repeats within a group (the pairing would be ambiguous).
 */
function pairedCell(treated: RunGroup, base: RunGroup, metric: string): string {
  const values = (g: RunGroup) =>
    g.runs.flatMap((r) => (r.seed === null ? [] : [{ seed: r.seed, value: r.test[metric] ?? Number.NaN }]));
  const t = values(treated);
  const b = values(base);
  const unique = (v: { seed: number }[]) => new Set(v.map((x) => x.seed)).size === v.length;
  if (!unique(t) || !unique(b)) return '';
  const p = pairedBySeed(t, b);
  return p.n >= 2 ? formatPaired(p) : '';
}

/** `+8.2% (beyond std)`: relative gain of the mean, tagged against the spread over seeds (and `extra`, e.g. a p-value). */
export function gainCell(g: Gain, extra = ''): string {
  const tag = g.beyondStd === null ? '1 seed' : g.beyondStd ? 'beyond std' : 'within std';
  return `${fmtPct(g.relative)} (${tag}${extra ? `, ${extra}` : ''})`;
}

/** profile_retrieval.json: `{ ks, <method>: { metrics: { 'recall@K': … } } … }`. */
export function readProfileRetrieval(path: string): {
  ks: number[];
  methods: { name: string; metrics: Record<string, number> }[];
} {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file: path,
      message: `cannot read profile_retrieval.json: ${(cause as Error).message}`,
      cause,
    });
  }
  const methods: { name: string; metrics: Record<string, number> }[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === 'ks' || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const src = ((value as Record<string, unknown>).metrics ?? value) as Record<string, unknown>;
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(src))
      if (/^recall@\d+$/.test(k) && typeof v === 'number') metrics[k] = v;
    if (Object.keys(metrics).length) methods.push({ name, metrics });
  }
  const ks = Array.isArray(json.ks)
    ? json.ks.map(Number).filter((k) => Number.isInteger(k) && k > 0)
    : [...new Set(methods.flatMap((m) => Object.keys(m.metrics).map((k) => Number(k.slice(7)))))];
  return { ks: [...ks].sort((a, b) => a - b), methods };
}

interface SparsityResult {
  dataset: string;
  quartiles: [number, number, number];
  groups: (SparsityGroup & { testUsers: number })[];
  /** Per run group label: recall@20 per sparsity group over its runs. */
  byRunGroup: { group: RunGroup; values: (MeanStd | null)[] }[];
}

async function sparsityFor(
  dataset: string,
  runs: readonly RunInfo[],
  runGroups: readonly RunGroup[],
  load: (source: string) => Dataset,
  cwd: string,
  evaluator: () => RankingEvaluator,
  notes: string[],
  inMemory: BuildReportOptions['embeddings'],
): Promise<SparsityResult | undefined> {
  const withEmb = runs.filter(
    (r) => existsSync(join(r.dir, 'user_emb.npy')) && existsSync(join(r.dir, 'item_emb.npy')),
  );
  if (!withEmb.length) {
    notes.push(
      `${dataset}: no run has user_emb.npy and item_emb.npy, so test recall by user sparsity is not shown`,
    );
    return undefined;
  }
  const first = withEmb[0] as RunInfo;
  let ds: Dataset;
  try {
    ds = load(resolveDatasetSource(first.datasetSource, { cwd, runDir: first.dir }));
  } catch (e) {
    notes.push(
      `${dataset}: the dataset '${first.datasetSource}' could not be loaded (${(e as Error).message.split('\n')[0]}), so test recall by user sparsity is not shown`,
    );
    return undefined;
  }
  const { quartiles, groups } = degreeQuartileGroups(ds.train);
  const perRun = new Map<RunInfo, number[]>();
  for (const run of withEmb) {
    const held = inMemory?.get(resolve(run.dir));
    const userEmb = held?.users ?? loadEmbeddings(join(run.dir, 'user_emb.npy'));
    const itemEmb = held?.items ?? loadEmbeddings(join(run.dir, 'item_emb.npy'));
    if (userEmb.rows !== ds.numUsers || itemEmb.rows !== ds.numItems || userEmb.cols !== itemEmb.cols) {
      notes.push(
        `${run.dir}: embeddings are ${userEmb.rows}×${userEmb.cols} (users) and ${itemEmb.rows}×${itemEmb.cols} (items) but ${dataset} has ${ds.numUsers} users and ${ds.numItems} items; left out of the sparsity plot`,
      );
      continue;
    }
    const res = await metricsByGroup(
      evaluator(),
      { userEmb, itemEmb, train: ds.train, heldOut: ds.test },
      groups,
    );
    perRun.set(
      run,
      res.map((r) => (r.users > 0 ? (r.metrics['recall@20'] ?? Number.NaN) : Number.NaN)),
    );
  }
  if (!perRun.size) return undefined;
  const byRunGroup = runGroups
    .filter((g) => g.dataset === dataset && g.runs.some((r) => perRun.has(r)))
    .map((group) => ({
      group,
      values: groups.map((_, k) => {
        const vals = group.runs
          .map((r) => perRun.get(r)?.[k])
          .filter((v): v is number => v !== undefined && Number.isFinite(v));
        return vals.length ? meanStd(vals) : null;
      }),
    }));
  return {
    dataset,
    quartiles,
    groups: groups.map((g) => ({ ...g, testUsers: evaluatedUsers(ds.test, g) })),
    byRunGroup,
  };
}

/**
 * Writes `outDir/report.md` and `outDir/plots/*.svg` for finished runs. Sections that need
 * something absent (embeddings, the dataset, the reference logs) are replaced by a note saying why.
 */
export async function buildReport(options: BuildReportOptions): Promise<BuildReportResult> {
  const cwd = options.cwd ?? process.cwd();
  const outDir = resolve(cwd, options.outDir);
  const expand = (dirs: readonly string[] | undefined): string[] =>
    (dirs ?? []).flatMap((d) => {
      const abs = resolve(cwd, d);
      const found = findRunDirs(abs);
      return found.length ? found : [abs]; // readRun then says why the folder is not a run
    });
  const runDirs = [...new Set([...expand(options.runs), ...expand(options.compare)])];
  if (!runDirs.length) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'runs',
      message: 'no run directory to report on',
      fix: 'pass at least one run directory (--run DIR)',
    });
  }
  const compareSet = new Set(expand(options.compare));
  const runs = runDirs.map(readRun);
  const groups = groupRuns(runs);
  const datasets = [...new Set(runs.map((r) => r.dataset))];
  const multi = datasets.length > 1;
  const plotFile = (base: string, dataset: string): string =>
    multi ? `${base}-${slug(dataset)}.svg` : `${base}.svg`;
  const plotsDir = join(outDir, 'plots');
  mkdirSync(plotsDir, { recursive: true });
  const plots: string[] = [];
  const notes: string[] = [];
  const writePlot = (name: string, svg: string): string => {
    const path = join(plotsDir, name);
    writeFileSync(path, svg);
    plots.push(path);
    return `plots/${name}`;
  };
  const rel = (p: string): string => relative(outDir, p) || '.';

  const refDir =
    options.referenceDir === undefined ? locateReferenceLogs().path : (options.referenceDir ?? undefined);
  const refReason =
    options.referenceDir === null
      ? 'reference logs not requested'
      : (locateReferenceLogs().reason ?? 'reference logs not found');
  let refRuns: ReferenceRun[] = [];
  if (refDir && existsSync(join(refDir, 'summary.csv'))) refRuns = loadReferenceSummary(refDir);

  const md: string[] = [];
  md.push(`# ${options.title ?? 'ProMax training report'}`, '');
  md.push(
    `${runs.length} run${runs.length === 1 ? '' : 's'} on ${datasets.join(', ')}. Test metrics are those of each run's best-validation epoch (full ranking over all items, train items masked; method.md §7); where several seeds share model, dataset, methods and settings the table gives mean ± sample std over them and n; groups of one model and methods that differ in settings are labelled by what differs.`,
    '',
  );

  // Results
  md.push('## Results (test split)', '');
  md.push(
    markdownTable(
      ['model', 'dataset', 'method', 'n', ...REPORT_METRICS],
      groups.map((g) => [
        g.variant ? `${g.model} (${g.variant})` : g.model,
        g.dataset,
        methodCell(g.runs[0] as RunInfo),
        String(g.runs.length),
        ...REPORT_METRICS.map((k) => fmtMeanStd(g.test[k])),
      ]),
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
  );

  // Gains
  md.push('## Gains over the base model', '');
  const gainRows: string[][] = [];
  for (const g of groups.filter((x) => x.methods.length)) {
    const base = baseGroupOf(g, groups);
    if (!base) {
      const several = groups.filter(
        (b) => !b.methods.length && b.model === g.model && b.dataset === g.dataset,
      );
      md.push(
        several.length
          ? `- ${g.label} on ${g.dataset}: ${several.length} base ${g.model} configurations (${several.map((b) => b.variant).join('; ')}) and none trained with its model and trainer settings, so no gain is computed.`
          : `- ${g.label} on ${g.dataset}: no base ${g.model} run on ${g.dataset} to compare with (pass one with --compare).`,
      );
      continue;
    }
    gainRows.push([
      base.variant ? `${g.label} vs ${base.label}` : g.label,
      g.dataset,
      `${base.runs.length} / ${g.runs.length}`,
      ...REPORT_METRICS.map((k) =>
        base.test[k] && g.test[k]
          ? gainCell(gainOf(base.test[k] as MeanStd, g.test[k] as MeanStd), pairedCell(g, base, k))
          : '–',
      ),
    ]);
  }
  if (gainRows.length) {
    md.push(
      markdownTable(['model', 'dataset', 'n base / n method', ...REPORT_METRICS], gainRows, [
        'l',
        'l',
        'r',
        'r',
        'r',
        'r',
        'r',
        'r',
        'r',
      ]),
      '',
      'Relative gain of the mean; "beyond std" when the difference of means exceeds the larger of the two sample stds over seeds, "1 seed" when either side has a single run (no spread to compare with); p: two-sided paired t-test against the base over the seeds both ran (paired by seed, from 2 seeds on), "W p" the Wilcoxon signed-rank test (from 5 seeds on).',
      '',
    );
  } else if (!groups.some((g) => g.methods.length)) md.push('No method run among these runs.', '');
  else md.push('');

  // Authors' numbers
  md.push("## The authors' reference numbers", '');
  const authors: string[] = [];
  const promaxGroups = groups.filter((g) => g.promax);
  if (!promaxGroups.length)
    authors.push("No +ProMax run, so nothing to set beside the authors' LightGCN+ProMax numbers.", '');
  for (const g of promaxGroups) {
    const refDs = referenceDataset(g.dataset);
    const first = g.runs[0] as RunInfo;
    const comps = first.components;
    const head = `**${g.label} on ${g.dataset}**`;
    const compNotes = [...new Set(g.runs.flatMap((r) => r.components?.notes ?? []))];
    const ran = `${comps ? `it ran ${termsOf(first)}` : 'its run did not record which ProMax terms ran'}${compNotes.length ? ` (${compNotes.join('; ')})` : ''}`;
    if (!refDs) {
      authors.push(
        `${head}: the authors released no run on ${g.dataset} (only Amazon-book, Yelp and Steam), so there is nothing comparable.`,
        '',
      );
      continue;
    }
    if (g.model !== 'lightgcn') {
      authors.push(
        `${head}: the authors' numbers are for LightGCN+ProMax only, so they are not comparable with ${g.model}+ProMax and are not shown; ${ran}.`,
        '',
      );
      continue;
    }
    if (!comps?.sdr || !comps.s2dr) {
      authors.push(
        `${head}: ${ran}. The authors' numbers come from training with both SDR and S2DR, so they are not comparable and are not shown here.`,
        '',
      );
      continue;
    }
    const pm = findReferenceRun(refRuns, 'lightgcn_promax', refDs);
    if (!pm) {
      authors.push(
        `${head}: comparable with the authors' LightGCN+ProMax on ${refDs}, but their numbers are unavailable (${refReason}).`,
        '',
      );
      continue;
    }
    const ex = findReferenceRun(refRuns, 'lightgcn_proex', refDs);
    const rows: string[][] = [
      [`ours: ${g.label} (n=${g.runs.length})`, ...REPORT_METRICS.map((k) => fmtMeanStd(g.test[k]))],
      [`authors: ${FAMILY_LABEL.lightgcn_promax} (seed 2025)`, ...REPORT_METRICS.map((k) => fmt(pm.test[k]))],
      [
        'ours vs authors',
        ...REPORT_METRICS.map((k) =>
          g.test[k] && pm.test[k] ? fmtPct((g.test[k] as MeanStd).mean / (pm.test[k] as number) - 1) : '–',
        ),
      ],
    ];
    if (ex)
      rows.push([
        `authors: ${FAMILY_LABEL.lightgcn_proex} (context)`,
        ...REPORT_METRICS.map((k) => fmt(ex.test[k])),
      ]);
    authors.push(
      `${head}: both SDR and S2DR ran, as in the authors' runs (${refDs}, best epoch ${pm.bestEpoch}).`,
      '',
    );
    authors.push(markdownTable(['', ...REPORT_METRICS], rows), '');
    const budget = g.runs.filter((r) => r.stopped === 'max-epochs');
    if (budget.length) {
      authors.push(
        `Note: ${budget.length} of these runs stopped at the epoch budget (${[...new Set(budget.map((r) => r.epochs))].join(', ')} epochs) rather than by early stopping; the authors' best epoch was ${pm.bestEpoch}, so the gap may be training length, not the method.`,
        '',
      );
    }
  }
  md.push(...authors);

  // Validation curves
  md.push('## Validation recall@20 by epoch', '');
  const groupOf = new Map(groups.flatMap((g) => g.runs.map((r) => [r, g] as const)));
  for (const dataset of datasets) {
    const dsRuns = runs.filter((r) => r.dataset === dataset);
    const series: LineSeries[] = [];
    const names = new Set<string>();
    for (const r of dsRuns) {
      const points = r.valCurve
        .filter((p) => p.metrics['recall@20'] !== undefined)
        .map((p) => ({ x: p.epoch, y: p.metrics['recall@20'] as number }));
      if (!points.length) continue;
      let name = `${groupOf.get(r)?.label ?? runLabel(r)}${r.seed === null ? '' : ` seed ${r.seed}`}`;
      if (names.has(name)) name = `${name} (${rel(r.dir)})`;
      names.add(name);
      series.push({ name, points });
    }
    if (!series.length) {
      md.push(`${dataset}: no validation evaluations recorded (metrics.jsonl has no val lines).`, '');
      continue;
    }
    const refDs = referenceDataset(dataset);
    let refText = '';
    const curve = refDs && refDir ? loadReferenceCurve(refDir, 'lightgcn_promax', refDs) : undefined;
    if (curve?.val.length) {
      // Up to our last epoch or their best one, whichever is later: cutting at a short run's end
      // would show their mid-training dip without the recovery that follows it.
      const ourMax = Math.max(...series.flatMap((s) => s.points.map((p) => p.x)));
      const refLast = (curve.val[curve.val.length - 1] as { epoch: number }).epoch;
      const best = curve.val.reduce((a, b) =>
        (b.metrics['recall@20'] ?? -1) > (a.metrics['recall@20'] ?? -1) ? b : a,
      );
      const clip = Math.max(ourMax, best.epoch);
      const points = curve.val
        .filter((p) => p.epoch <= clip && p.metrics['recall@20'] !== undefined)
        .map((p) => ({ x: p.epoch, y: p.metrics['recall@20'] as number }));
      series.push({ name: "authors' LightGCN+ProMax (log)", points, dashed: true });
      refText = ` Dashed: the authors' LightGCN+ProMax validation curve on ${refDs} (their logged run${clip < refLast ? `, shown up to epoch ${clip} of ${refLast}` : ''}; best ${fmt(best.metrics['recall@20'])} at epoch ${best.epoch}; its dip around epochs 30–45 is in their log too, method.md §8).`;
    } else if (refDs) {
      refText = ` (The authors' curve is not drawn: ${refDir ? 'no reference curve for this dataset' : refReason}.)`;
    }
    const link = writePlot(
      plotFile('val_recall20', dataset),
      lineChart({
        title: `Validation recall@20 — ${dataset}`,
        xLabel: 'epoch',
        yLabel: 'recall@20 (validation)',
        series,
      }),
    );
    md.push(`![validation recall@20 on ${dataset}](${link})`, '', `One line per run.${refText}`, '');
  }

  // Sparsity
  if (options.sparsity !== false) {
    md.push('## Test recall@20 by user sparsity', '');
    const load = options.loadDataset ?? datasetLoader();
    let ev: RankingEvaluator | undefined;
    const evaluator = (): RankingEvaluator => {
      ev ??= new RankingEvaluator({ ks: [10, 20] });
      return ev;
    };
    try {
      for (const dataset of datasets) {
        const sparseNotes: string[] = [];
        const sp = await sparsityFor(
          dataset,
          runs.filter((r) => r.dataset === dataset),
          groups,
          load,
          cwd,
          evaluator,
          sparseNotes,
          options.embeddings,
        );
        notes.push(...sparseNotes);
        if (!sp) {
          md.push(...sparseNotes.map((n) => `- ${n}`), '');
          continue;
        }
        const groupLabels = sp.groups.map(
          (g) =>
            `${g.name}: degree ${g.minDegree === g.maxDegree ? g.minDegree : `${g.minDegree}–${g.maxDegree}`}\n${g.testUsers} test users`,
        );
        const link = writePlot(
          plotFile('sparsity_gains', dataset),
          barChart({
            title: `Test recall@20 by user sparsity — ${dataset}`,
            yLabel: 'recall@20 (test)',
            xLabel: 'users grouped by train-degree quartile (Q1 sparsest)',
            groups: groupLabels,
            series: sp.byRunGroup.map(({ group, values }) => ({
              name: group.label,
              values: values.map((v) => (v ? v.mean : null)),
              errors: values.map((v) => v?.std ?? null),
            })),
          }),
        );
        const pairs = sp.byRunGroup.flatMap((x) => {
          const of = baseGroupOf(x.group, groups);
          const base = of && sp.byRunGroup.find((b) => b.group === of);
          return base ? [{ pm: x, base }] : [];
        });
        const header = [
          'group',
          'train degree',
          'test users',
          ...sp.byRunGroup.map((x) => x.group.label),
          ...pairs.map((p) => `gain ${p.pm.group.label}`),
        ];
        const rows = sp.groups.map((g, k) => [
          g.name,
          g.minDegree === g.maxDegree ? String(g.minDegree) : `${g.minDegree}–${g.maxDegree}`,
          String(g.testUsers),
          ...sp.byRunGroup.map((x) => fmtMeanStd(x.values[k] ?? undefined)),
          ...pairs.map((p) => {
            const a = p.base.values[k];
            const b = p.pm.values[k];
            return a && b ? fmtPct(b.mean / a.mean - 1) : '–';
          }),
        ]);
        md.push(
          `![test recall@20 by user sparsity on ${dataset}](${link})`,
          '',
          `Users of ${dataset} grouped by train degree at its quartiles (${sp.quartiles.map((q) => fmt(q, 1)).join(' / ')}); each run's saved embeddings evaluated on the test split restricted to each group (mean ± std over seeds; whiskers in the plot).`,
          '',
          markdownTable(
            header,
            rows.map((r) => r.map(cell)),
          ),
          '',
        );
        if (sparseNotes.length) md.push(...sparseNotes.map((n) => `- ${n}`), '');
      }
    } finally {
      await ev?.release();
    }
  }

  // Profile retrieval
  const prFiles = [
    ...new Set([
      ...runs.map((r) => join(r.dir, 'profile_retrieval.json')),
      join(outDir, 'profile_retrieval.json'),
    ]),
  ].filter((p) => existsSync(p));
  if (prFiles.length) {
    md.push('## Profile retrieval', '');
    prFiles.forEach((file, i) => {
      const pr = readProfileRetrieval(file);
      if (!pr.methods.length || !pr.ks.length) {
        notes.push(`${file}: no recall@K values to plot`);
        return;
      }
      const name = i === 0 ? 'profile_retrieval.svg' : `profile_retrieval-${i + 1}.svg`;
      const link = writePlot(
        name,
        barChart({
          title: 'Profile retrieval: recall@K of held-out items',
          yLabel: 'recall@K',
          groups: pr.ks.map((k) => `Recall@${k}`),
          series: pr.methods.map((m) => ({
            name: m.name,
            values: pr.ks.map((k) => m.metrics[`recall@${k}`] ?? null),
          })),
        }),
      );
      md.push(
        `![profile retrieval](${link})`,
        '',
        `From ${rel(file)}.`,
        '',
        markdownTable(
          ['method', ...pr.ks.map((k) => `recall@${k}`)],
          pr.methods.map((m) => [m.name, ...pr.ks.map((k) => fmt(m.metrics[`recall@${k}`]))]),
        ),
        '',
      );
    });
  }

  // Runs
  md.push('## Runs', '');
  md.push(
    markdownTable(
      ['run', 'role', 'model', 'dataset', 'seed', 'method', 'best epoch', 'epochs', 'stopped'],
      runs.map((r) =>
        [
          rel(r.dir),
          compareSet.has(r.dir) ? 'compare' : 'run',
          r.model,
          r.dataset,
          r.seed === null ? '–' : String(r.seed),
          methodCell(r),
          r.bestEpoch === null ? '–' : String(r.bestEpoch),
          r.epochs === null ? '–' : String(r.epochs),
          r.stopped ?? '–',
        ].map(cell),
      ),
      ['l', 'l', 'l', 'l', 'r', 'l', 'r', 'r', 'l'],
    ),
    '',
  );

  const markdown = `${md
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
  const reportPath = join(outDir, 'report.md');
  writeFileSync(reportPath, markdown);
  return { reportPath, plots, markdown, notes, runs, authorsSection: authors };
}
