import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CsrMatrix, PromaxError, Rng } from '@promax/core';
import { loadEmbeddings, loadSparseMatrix, saveEmbeddings, saveSparseMatrix } from '@promax/data';
import {
  formatPaired,
  formatPValue,
  meanStd,
  pairedBySeed,
  RankingEvaluator,
  type SeedPairedTest,
} from '@promax/eval';
import { barChart, degreeQuartileGroups, metricsByGroup } from '@promax/report';
import { popularityAugmentation, randomAugmentation, shuffleRows } from '@promax/retrieval';
import { uniqueList } from '../args/unique-list.js';
import { createProgressRenderer, type Io } from '../io.js';
import { positiveIntFlag } from '../profile-pipeline/cli-args.js';
import { markdownTable } from '../render/table.js';
import { type RunConfig, resolveRunConfig } from '../training/run-config.js';
import {
  executePlan,
  type PlannedRun,
  planRun,
  requireDatasetAndOut,
  SWEEP_OPTIONS,
  threadsPerRun,
} from '../training/run-plan.js';
import { checkRunConfig, getDataset, type TrainingRun, withOverrides } from '../training/run-training.js';
import type { Command } from './command.js';
import { intFlag, seedsFlag } from './train.js';

/**
 * The arms of an ablation. Every arm trains the model with ProMax (its dataset preset and the
 * dataset's profile embeddings, when there are any) and changes one input; the base (method off)
 * always runs as the reference of the paired tests.
 */
const BUILTIN_ARMS = {
  released: 'the A′ shipped with the dataset (or --reference-aug)',
  random: 'uniform non-train items, exactly the reference A′’s per-user added counts (drawn per seed)',
  popularity: 'non-train items drawn ∝ train degree, the same per-user counts (drawn per seed)',
  'no-edges': 'S2DR over A′ = A: no added edge, both views coincide; only its in-batch terms act',
  none: 'no A′: S2DR off (SDR alone where profile embeddings exist)',
  shuffled: 'SDR teacher from shuffled user profiles (same distribution, every user another’s row)',
  'sdr-off': 'SDR off: S2DR over the released A′ alone',
} as const;

/** The arms run when --arms is not given (plus `none` where the dataset has profile embeddings). */
const DEFAULT_ARMS = ['released', 'random', 'popularity', 'no-edges'];

const KEYS = ['recall@10', 'recall@20', 'ndcg@10', 'ndcg@20'];
const PRIMARY = 'recall@20';

const usage = `promax ablate --dataset D --model M [--arms ${DEFAULT_ARMS.join(',')}] --out DIR
              [--seeds 2025,2026,2027] [--arm-aug NAME=FILE ...] [--reference-aug FILE]
              [--embeddings DIR] [--max-epochs N] [--config FILE] [--set key=value ...]
              [--jobs N] [--queue URL] [--threads N] [--fresh] [--quiet] [--json]

Trains the base model and one ProMax arm per A′ source or SDR teacher, every arm on the same
seeds, and writes DIR/ablate.json (per arm: runs, mean, std, paired p-values against the base
over seeds, and against the released arm when it ran) and DIR/ablate.md with plots (recall@20 per
arm; gain per train-degree quartile).

Arms:
${Object.entries(BUILTIN_ARMS)
  .map(([k, v]) => `  ${k.padEnd(11)} ${v}`)
  .join('\n')}
  NAME        an A′ file given as --arm-aug NAME=FILE, e.g. the outputs of promax augment:
              --arm-aug llm=out/llm/aug_trn_mat.npz --arm-aug retrieval=out/ret/aug_trn_mat.npz

  --arms LIST           default: ${DEFAULT_ARMS.join(', ')}, plus none where the dataset
                        has profile embeddings; without them none would train the base again
                        and sdr-off the released arm, so both are refused
  --reference-aug FILE  the A′ whose per-user counts random/popularity copy (default: the dataset's)
  --jobs N              train N runs at once, each in its own process (its log: RUN_DIR.log)
  --queue URL           hand the runs to 'promax worker --queue URL' processes (Redis job queue)
  --fresh               retrain finished runs (by default a finished run of the same config is reused)`;

export interface AblateOptions {
  dataset: string;
  model: string;
  /** Default: released, random, popularity, no-edges, plus none where profile embeddings exist. */
  arms?: string[];
  seeds: number[];
  outDir: string;
  /** A′ files of named arms (e.g. llm, retrieval from `promax augment`). */
  armAug?: Record<string, string>;
  referenceAug?: string;
  embeddings?: string;
  file?: string;
  sets?: string[];
  maxEpochs?: number;
  jobs?: number;
  threads?: number;
  fresh?: boolean;
  cliEntry?: string;
  /** A Redis URL: runs go to `promax worker` processes through the job queue instead. */
  queue?: string;
}

export interface AblateArm {
  arm: string;
  description: string;
  runs: { seed: number; dir: string; test: Record<string, number>; quartiles?: Record<string, number> }[];
  /** Per metric: mean and sample std over seeds. */
  mean: Record<string, number>;
  std: Record<string, number | null>;
  /** Per metric: relative gain of the mean over the base. */
  gain: Record<string, number>;
  /** Paired t-test p-value of recall@20 against the base (null for the base itself). */
  p_value: number | null;
  /** Per metric: the paired tests. */
  tests: Record<string, SeedPairedTest>;
  /** recall@20 per train-degree quartile (mean over seeds) and its relative gain over the base. */
  quartiles?: Record<string, { mean: number; gain: number | null; p_value: number | null }>;
  /**
   * recall@20 against the released arm (when it ran and this arm is another one): the difference of
   * the means (this arm − released) and the paired test over the seeds both ran. Answers "does this
   * A′ (or teacher) do as well as the shipped one?".
   */
  vs_released?: SeedPairedTest & { diff: number };
}

export interface AblateResult {
  dataset: string;
  model: string;
  seeds: number[];
  arms: AblateArm[];
  quartileRanges?: Record<string, string>;
  markdown: string;
}

interface ArmRun extends PlannedRun {
  arm: string;
  seed: number;
}

/** Writes (once) the files an arm's run needs and returns its run config. */
function armConfig(
  arm: string,
  seed: number,
  base: (extra: Record<string, unknown>) => RunConfig,
  ctx: {
    outDir: string;
    armAug: Record<string, string>;
    reference: () => { train: CsrMatrix; aug: CsrMatrix };
    train: () => CsrMatrix;
    embeddings: () => { user: string; item: string } | undefined;
  },
): RunConfig {
  const promax = { methods: ['promax'] };
  if (arm === 'base') return base({ methods: [] });
  if (arm === 'released') return base(promax);
  if (arm === 'none') return base({ ...promax, 'methodSettings.promax.s2dr.enabled': false });
  if (arm === 'sdr-off') return base({ ...promax, 'methodSettings.promax.sdr.enabled': false });
  if (arm === 'no-edges') {
    // One file for every seed: A′ is the train matrix itself (nothing drawn).
    const path = join(ctx.outDir, 'inputs', 'no-edges', 'aug_trn_mat.npz');
    if (!existsSync(path)) {
      mkdirSync(join(path, '..'), { recursive: true });
      saveSparseMatrix(path, ctx.train());
    }
    return base({ ...promax, aug: path });
  }
  if (arm === 'random' || arm === 'popularity') {
    const path = join(ctx.outDir, 'inputs', `${arm}-seed-${seed}`, 'aug_trn_mat.npz');
    if (!existsSync(path)) {
      const { train, aug } = ctx.reference();
      const rng = new Rng(seed * 7919 + (arm === 'random' ? 1 : 2));
      const m =
        arm === 'random' ? randomAugmentation(train, aug, rng) : popularityAugmentation(train, aug, rng);
      mkdirSync(join(path, '..'), { recursive: true });
      saveSparseMatrix(path, m);
    }
    return base({ ...promax, aug: path });
  }
  if (arm === 'shuffled') {
    const emb = ctx.embeddings();
    if (!emb) {
      throw new PromaxError({
        code: 'MISSING_INPUT',
        field: '--arms',
        message: "arm 'shuffled' needs profile embeddings and the dataset has none",
        fix: 'pass --embeddings DIR (usr_emb.npy / itm_emb.npy from promax embed) or drop the arm',
      });
    }
    const dir = join(ctx.outDir, 'inputs', `shuffled-seed-${seed}`);
    if (!existsSync(join(dir, 'itm_emb.npy'))) {
      mkdirSync(dir, { recursive: true });
      const users = loadEmbeddings(emb.user);
      saveEmbeddings(join(dir, 'usr_emb.npy'), shuffleRows(users, new Rng(seed * 7919 + 3)).matrix);
      copyFileSync(emb.item, join(dir, 'itm_emb.npy'));
    }
    return base({ ...promax, embeddings: dir });
  }
  const file = ctx.armAug[arm];
  if (!file) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: '--arms',
      message: `unknown arm '${arm}'`,
      fix: `use ${Object.keys(BUILTIN_ARMS).join(', ')}, or give its A′ as --arm-aug ${arm}=FILE (e.g. from promax augment)`,
    });
  }
  return base({ ...promax, aug: file });
}

export async function ablate(
  options: AblateOptions,
  io: Io,
  flags: { quiet?: boolean } = {},
): Promise<AblateResult> {
  const onProgress = createProgressRenderer(io, { quiet: flags.quiet });
  if (options.arms) uniqueList(options.arms, '--arms');
  uniqueList(options.seeds, '--seeds');
  if (options.arms?.includes('base')) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: '--arms',
      message: 'the base (method off) always runs; do not list it as an arm',
      fix: `drop 'base' from --arms`,
    });
  }
  const jobs = Math.max(1, options.jobs ?? 1);
  const threads = threadsPerRun(jobs, options.threads, availableParallelism());
  const armAug = options.armAug ?? {};
  // The profile embeddings every arm trains with: --embeddings, else the config file's or a --set's,
  // else the dataset's own.
  const probe = resolveRunConfig({
    file: options.file,
    flags: { dataset: options.dataset, embeddings: options.embeddings, model: options.model },
    sets: options.sets,
    sweepMethods: ['promax'],
  });
  const embeddings = probe.embeddings === undefined ? undefined : resolve(io.cwd, probe.embeddings);
  // Loaded once: the arms' inputs (reference A′, train matrix, profile files) all read this dataset.
  let dataset: ReturnType<typeof getDataset> | undefined;
  const ds = () => {
    dataset ??= withOverrides(getDataset(options.dataset), { embeddings });
    return dataset;
  };
  let reference: { train: CsrMatrix; aug: CsrMatrix } | undefined;
  const ctx = {
    outDir: options.outDir,
    armAug,
    reference: () => {
      if (reference) return reference;
      const d = ds();
      const aug = options.referenceAug ? loadSparseMatrix(options.referenceAug) : d.aug;
      if (!aug) {
        throw new PromaxError({
          code: 'MISSING_INPUT',
          field: '--reference-aug',
          message: `arms random/popularity copy the per-user counts of a reference A′ and ${options.dataset} ships none`,
          fix: 'pass --reference-aug FILE (e.g. aug_trn_mat.npz from promax augment)',
        });
      }
      reference = { train: d.train, aug };
      return reference;
    },
    train: () => ds().train,
    embeddings: () => {
      const d = ds();
      if (!d.userEmb || !d.itemEmb || !d.files.userEmb || !d.files.itemEmb) return undefined;
      return { user: d.files.userEmb, item: d.files.itemEmb };
    },
  };
  // Without profile embeddings SDR is skipped in every arm, so 'none' (S2DR off) would train the
  // base again and 'sdr-off' the released arm again: refused, not trained twice.
  const hasProfiles = ctx.embeddings() !== undefined;
  const armNames = options.arms ?? [...DEFAULT_ARMS, ...(hasProfiles ? ['none'] : [])];
  if (!hasProfiles) {
    const duplicate = { none: 'the base', 'sdr-off': 'the released arm' } as const;
    for (const arm of ['none', 'sdr-off'] as const) {
      if (!armNames.includes(arm)) continue;
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--arms',
        message: `arm '${arm}' would train ${duplicate[arm]} again: ${options.dataset} has no profile embeddings, so SDR is off in every arm`,
        fix: `drop '${arm}' from --arms (use no-edges to see what S2DR does without added edges), or pass --embeddings DIR (usr_emb.npy / itm_emb.npy from promax embed)`,
      });
    }
  }
  const planned: ArmRun[] = [];
  for (const seed of options.seeds) {
    for (const arm of ['base', ...armNames]) {
      const base = (extra: Record<string, unknown>) =>
        resolveRunConfig({
          file: options.file,
          flags: {
            dataset: options.dataset,
            embeddings: options.embeddings,
            aug: options.referenceAug,
            model: options.model,
            seed,
            threads,
            'trainer.maxEpochs': options.maxEpochs,
            ...extra,
          },
          sets: options.sets,
          // every arm but the base trains ProMax: its settings apply to those runs
          sweepMethods: ['promax'],
        });
      const config = armConfig(arm, seed, base, ctx);
      const dir = join(options.outDir, arm, `seed-${seed}`);
      planned.push({ ...planRun(`${options.model} ${arm} seed ${seed}`, dir, config), arm, seed });
    }
  }
  for (const run of planned) await checkRunConfig(run.config, io.cwd);
  const done = await executePlan(planned, io, {
    jobs,
    queue: options.queue,
    fresh: options.fresh,
    cliEntry: options.cliEntry,
    quiet: flags.quiet,
    onProgress,
  });
  const quartiles = await quartileMetrics(options.dataset, planned, done);
  const arms = summarise(['base', ...armNames], planned, done, quartiles.byRun);
  const markdown = renderMarkdown(options, arms, quartiles.ranges);
  mkdirSync(join(options.outDir, 'plots'), { recursive: true });
  writeFileSync(join(options.outDir, 'plots', 'ablate_recall20.svg'), armsPlot(arms, options));
  if (quartiles.ranges)
    writeFileSync(
      join(options.outDir, 'plots', 'ablate_quartiles.svg'),
      quartilePlot(arms, quartiles.ranges),
    );
  writeFileSync(join(options.outDir, 'ablate.md'), markdown);
  const result: AblateResult = {
    dataset: options.dataset,
    model: options.model,
    seeds: options.seeds,
    arms,
    quartileRanges: quartiles.ranges,
    markdown,
  };
  writeFileSync(
    join(options.outDir, 'ablate.json'),
    `${JSON.stringify({ ...result, markdown: undefined }, null, 2)}\n`,
  );
  return result;
}

/** recall@20 per train-degree quartile for every finished run with saved embeddings. */
async function quartileMetrics(
  dataset: string,
  planned: readonly ArmRun[],
  done: Map<PlannedRun, TrainingRun['results']>,
): Promise<{ byRun: Map<ArmRun, Record<string, number>>; ranges?: Record<string, string> }> {
  const byRun = new Map<ArmRun, Record<string, number>>();
  const ds = getDataset(dataset);
  const { groups } = degreeQuartileGroups(ds.train);
  const ranges = Object.fromEntries(
    groups.map((g) => [
      g.name,
      g.minDegree === g.maxDegree ? `${g.minDegree}` : `${g.minDegree}–${g.maxDegree}`,
    ]),
  );
  const evaluator = new RankingEvaluator({ ks: [20] });
  try {
    for (const run of planned) {
      if (!done.has(run)) continue;
      const u = join(run.dir, 'user_emb.npy');
      const i = join(run.dir, 'item_emb.npy');
      if (!existsSync(u) || !existsSync(i)) continue;
      const res = await metricsByGroup(
        evaluator,
        { userEmb: loadEmbeddings(u), itemEmb: loadEmbeddings(i), train: ds.train, heldOut: ds.test },
        groups,
      );
      byRun.set(
        run,
        Object.fromEntries(
          groups.map((g, k) => [g.name, res[k].users ? (res[k].metrics[PRIMARY] ?? Number.NaN) : Number.NaN]),
        ),
      );
    }
  } finally {
    await evaluator.release();
  }
  return { byRun, ranges: byRun.size ? ranges : undefined };
}

function summarise(
  arms: readonly string[],
  planned: readonly ArmRun[],
  done: Map<PlannedRun, TrainingRun['results']>,
  quartiles: Map<ArmRun, Record<string, number>>,
): AblateArm[] {
  const runsOf = (arm: string) => planned.filter((r) => r.arm === arm && done.has(r));
  const values = (arm: string, k: string) =>
    runsOf(arm).map((r) => ({
      seed: r.seed,
      value: (done.get(r) as TrainingRun['results']).test[k] ?? Number.NaN,
    }));
  const qValues = (arm: string, q: string) =>
    runsOf(arm).map((r) => ({ seed: r.seed, value: quartiles.get(r)?.[q] ?? Number.NaN }));
  const baseMean: Record<string, number> = {};
  for (const k of KEYS) baseMean[k] = meanStd(values('base', k).map((x) => x.value)).mean;
  const qNames = [...new Set([...quartiles.values()].flatMap((q) => Object.keys(q)))];
  return arms.map((arm) => {
    const mean: Record<string, number> = {};
    const std: Record<string, number | null> = {};
    const gain: Record<string, number> = {};
    const tests: Record<string, SeedPairedTest> = {};
    for (const k of KEYS) {
      const s = meanStd(values(arm, k).map((x) => x.value));
      mean[k] = s.mean;
      std[k] = s.std;
      gain[k] = (s.mean - baseMean[k]) / baseMean[k];
      if (arm !== 'base') tests[k] = pairedBySeed(values(arm, k), values('base', k));
    }
    const out: AblateArm = {
      arm,
      description:
        arm === 'base'
          ? 'the model without ProMax'
          : (BUILTIN_ARMS[arm as keyof typeof BUILTIN_ARMS] ?? 'A′ from --arm-aug'),
      runs: runsOf(arm).map((r) => ({
        seed: r.seed,
        dir: r.dir,
        test: (done.get(r) as TrainingRun['results']).test,
        ...(quartiles.has(r) ? { quartiles: quartiles.get(r) } : {}),
      })),
      mean,
      std,
      gain,
      p_value: arm === 'base' ? null : (tests[PRIMARY]?.p_value ?? null),
      tests,
    };
    if (arm !== 'base' && arm !== 'released' && arms.includes('released')) {
      const released = meanStd(values('released', PRIMARY).map((x) => x.value)).mean;
      out.vs_released = {
        diff: mean[PRIMARY] - released,
        ...pairedBySeed(values(arm, PRIMARY), values('released', PRIMARY)),
      };
    }
    if (qNames.length) {
      out.quartiles = {};
      for (const q of qNames) {
        const m = meanStd(qValues(arm, q).map((x) => x.value)).mean;
        const b = meanStd(qValues('base', q).map((x) => x.value)).mean;
        out.quartiles[q] = {
          mean: m,
          gain: Number.isFinite(b) && b > 0 ? (m - b) / b : null,
          p_value: arm === 'base' ? null : pairedBySeed(qValues(arm, q), qValues('base', q)).p_value,
        };
      }
    }
    return out;
  });
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4);

function renderMarkdown(options: AblateOptions, arms: AblateArm[], ranges?: Record<string, string>): string {
  const rows = arms.map((a) => [
    a.arm,
    ...KEYS.map((k) => `${num(a.mean[k])}${a.std[k] === null ? '' : ` ± ${num(a.std[k])}`}`),
    a.arm === 'base' ? '' : pct(a.gain[PRIMARY]),
    a.arm === 'base' ? '' : formatPaired(a.tests[PRIMARY]),
    a.description,
  ]);
  const lines = [
    `# Ablation of ProMax on ${options.dataset} (${options.model})`,
    '',
    `Seeds: ${options.seeds.join(', ')}${options.maxEpochs ? `; at most ${options.maxEpochs} epochs per run` : ''}. Test split at the best validation epoch; mean ± sample std over seeds; p: two-sided paired t-test of ${PRIMARY} against the base over seeds (paired by seed), W p: Wilcoxon signed-rank (≥ 5 seeds).`,
    '',
    markdownTable(['arm', ...KEYS, `gain ${PRIMARY}`, `p (${PRIMARY})`, 'what the arm changes'], rows),
    '',
    '![recall@20 per arm](plots/ablate_recall20.svg)',
    '',
  ];
  if (ranges) {
    const qs = Object.keys(ranges);
    lines.push(
      `## ${PRIMARY} by train-degree quartile`,
      '',
      markdownTable(
        ['arm', ...qs.map((q) => `${q} (degree ${ranges[q]})`)],
        arms.map((a) => [
          a.arm,
          ...qs.map((q) => {
            const c = a.quartiles?.[q];
            if (!c) return '–';
            return a.arm === 'base'
              ? num(c.mean)
              : `${num(c.mean)} (${pct(c.gain)}, ${formatPValue(c.p_value)})`;
          }),
        ]),
      ),
      '',
      '![gain by quartile](plots/ablate_quartiles.svg)',
      '',
    );
  }
  const vsReleased = arms.filter((a) => a.vs_released);
  if (vsReleased.length) {
    lines.push(
      `## Against the released A′`,
      '',
      `Each other arm's ${PRIMARY} minus the released arm's (difference of the means), the 95% interval of the paired difference and its paired t-test over seeds: does this A′ or teacher do as well as the shipped one?`,
      '',
      markdownTable(
        ['arm', `Δ ${PRIMARY} vs released`, '95% CI', 'p'],
        vsReleased.map((a) => {
          const v = a.vs_released as SeedPairedTest & { diff: number };
          const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
          return [
            a.arm,
            Number.isFinite(v.diff) ? signed(v.diff) : '–',
            v.ci95 ? `[${signed(v.ci95[0])}, ${signed(v.ci95[1])}]` : '–',
            formatPaired(v),
          ];
        }),
      ),
      '',
    );
  }
  const verdicts = arms
    .filter((a) => a.arm !== 'base')
    .map((a) => {
      const p = a.tests[PRIMARY]?.p_value;
      const sig = p !== null && p !== undefined && p < 0.05;
      return `- **${a.arm}**: ${pct(a.gain[PRIMARY])} ${PRIMARY} vs the base, ${formatPValue(p)} — ${sig ? (a.gain[PRIMARY] > 0 ? 'helps beyond seed noise' : 'hurts beyond seed noise') : 'not distinguishable from the base at these seeds'}.`;
    });
  lines.push('## Verdict per arm (p < 0.05, paired t-test)', '', ...verdicts, '');
  return lines.join('\n');
}

function armsPlot(arms: AblateArm[], options: AblateOptions): string {
  return barChart({
    title: `${PRIMARY} per arm: ${options.model} on ${options.dataset}`,
    yLabel: `test ${PRIMARY}`,
    groups: arms.map((a) => a.arm),
    series: [
      {
        name: `mean over ${options.seeds.length} seeds (± std)`,
        values: arms.map((a) => (Number.isFinite(a.mean[PRIMARY]) ? a.mean[PRIMARY] : null)),
        errors: arms.map((a) => a.std[PRIMARY]),
      },
    ],
  });
}

function quartilePlot(arms: AblateArm[], ranges: Record<string, string>): string {
  const qs = Object.keys(ranges);
  return barChart({
    title: `relative gain of ${PRIMARY} over the base, by train-degree quartile`,
    yLabel: 'gain (%)',
    groups: qs.map((q) => `${q}\ndegree ${ranges[q]}`),
    series: arms
      .filter((a) => a.arm !== 'base')
      .map((a) => ({
        name: a.arm,
        values: qs.map((q) =>
          (a.quartiles?.[q]?.gain ?? null) === null ? null : 100 * (a.quartiles?.[q]?.gain as number),
        ),
      })),
    valueDigits: 1,
  });
}

function armAugFlags(values: readonly string[], cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--arm-aug',
        message: `--arm-aug must be NAME=FILE, got '${v}'`,
        fix: 'pass e.g. --arm-aug llm=out/aug-llm/aug_trn_mat.npz',
      });
    }
    const name = v.slice(0, eq);
    if (name in BUILTIN_ARMS || name === 'base') {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--arm-aug',
        message: `'${name}' is a built-in arm; name an A′ file arm otherwise (e.g. llm, retrieval)`,
      });
    }
    out[name] = resolve(cwd, v.slice(eq + 1));
  }
  return out;
}

export const ablateCommand: Command = {
  summary:
    'which part of ProMax does the work: one arm per A′ source / SDR teacher vs the base, paired over seeds',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...SWEEP_OPTIONS,
        model: { type: 'string', default: 'lightgcn' },
        arms: { type: 'string' },
        seeds: { type: 'string', default: '2025,2026,2027' },
        'arm-aug': { type: 'string', multiple: true, default: [] },
        'reference-aug': { type: 'string' },
        embeddings: { type: 'string' },
        queue: { type: 'string' },
        fresh: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const { dataset, out } = requireDatasetAndOut(values, usage);
    const res = await ablate(
      {
        dataset: dataset,
        model: values.model,
        arms: values.arms
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        seeds: seedsFlag(values.seeds),
        outDir: resolve(io.cwd, out),
        armAug: armAugFlags(values['arm-aug'], io.cwd),
        referenceAug: values['reference-aug'] ? resolve(io.cwd, values['reference-aug']) : undefined,
        embeddings: values.embeddings ? resolve(io.cwd, values.embeddings) : undefined,
        file: values.config ? resolve(io.cwd, values.config) : undefined,
        sets: values.set,
        maxEpochs: intFlag(values['max-epochs'], '--max-epochs'),
        jobs: positiveIntFlag(values.jobs, '--jobs'),
        queue: values.queue,
        threads: positiveIntFlag(values.threads, '--threads'),
        fresh: values.fresh,
      },
      io,
      { quiet: values.quiet || values.json },
    );
    if (values.json) io.out(`${JSON.stringify({ ...res, markdown: undefined })}\n`);
    else io.out(`\n${res.markdown}\n`);
    return 0;
  },
};
