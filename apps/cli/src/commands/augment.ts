import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ProgressHandler, PromaxError, parseSettings } from '@promax/core';
import { type Dataset, saveSparseMatrix } from '@promax/data';
import { applyOverrides } from '@promax/pipeline';
import {
  type ChatJobSummary,
  createChatClient,
  DEFAULT_RERANK_REPAIRS,
  type Domain,
  domainSchema,
  jobSettingsSchema,
  RERANK_PROMPT_VERSION,
  ResultStore,
} from '@promax/profiles';
import {
  type AugmentConfig,
  type AugmentedGraph,
  buildAugmentedGraph,
  type Reranker,
} from '@promax/retrieval';
import { z } from 'zod';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../io.js';
import {
  choiceFlag,
  pathIn,
  redactUrl,
  requireFlag,
  writeJson,
  writeText,
} from '../profile-pipeline/cli-args.js';
import { datasetRecord, loadDatasetArg } from '../profile-pipeline/dataset-arg.js';
import { defaultDomain, loadItemTexts, rawIds } from '../profile-pipeline/dataset-texts.js';
import { type EmbeddingPair, loadEmbeddingPair } from '../profile-pipeline/embedding-files.js';
import { exitCodesHelp, watchInterrupts } from '../profile-pipeline/job-exit.js';
import { createJobProgressRenderer } from '../profile-pipeline/job-progress.js';
import { formatJobSummary } from '../profile-pipeline/job-summary.js';
import { LLM_JOB_OPTIONS, llmJobFlagSettings, llmJobHelp } from '../profile-pipeline/llm-job-flags.js';
import { type RerankTexts, recordingReranker, runLlmRerank } from '../profile-pipeline/llm-reranker.js';
import {
  loadProfileMap,
  locateProfiles,
  type ProfileFile,
  type ProfileKind,
} from '../profile-pipeline/profile-files.js';
import { markdownTable } from '../render/table.js';
import type { Command } from './command.js';

const JOB_HELP = llmJobHelp({
  repairsDefault: DEFAULT_RERANK_REPAIRS,
  store: '--out/rerank.store.jsonl',
  entity: 'user',
});

const usage = `promax augment --dataset NAME|DIR --embeddings DIR --out DIR [--llm-base-url URL --llm-model M] [--set KEY=VALUE ...]

Builds the augmented train matrix A′ ⊇ train (method.md §5): users below the 75th percentile of
train degree are topped up to the next quartile boundary + 1 with items found by profile
retrieval (user–item cosine plus the train items of profile-similar users). Without an LLM the
best-scoring candidates are taken (retrieval-only); with --llm-base-url and --llm-model an LLM
re-ranks each user's candidates (resumable store in --out, key from OPENAI_API_KEY, never
written). Prompts show titles from the dataset's item table and the profiles recorded in the
embeddings' manifest (or --profiles).

Writes --out/aug_trn_mat.npz (SciPy CSR, binary), augment_manifest.json (config, seed, pools,
re-ranker, counts) and augment_report.md (added edges per degree bucket, popularity of the added
items, validation hit rate vs random); prints a summary.

  --dataset NAME|DIR     the dataset (its train split is kept whole; val is used for the report only)
  --embeddings DIR       the --out folder of \`promax embed\` (usr_emb.npy, itm_emb.npy)
  --out DIR              output folder
  --llm-base-url URL     OpenAI-compatible endpoint incl. /v1 (with --llm-model: LLM re-ranking)
  --llm-model M          chat model for re-ranking
LLM re-ranking only (one call per augmented user; each flag is also an llm.* key below):
${JOB_HELP.flags}
  --profiles DIR|FILE    profile texts for the prompts (default: those embed recorded)
  --domain D             prompt wording (books, businesses, games, movies, generic)
  --set KEY=VALUE        settings, repeatable:
                           augment.itemPool (50), augment.userPool (10), augment.neighbourWeight (1),
                           augment.maxCandidates (100), augment.seed (2025),
                           augment.sparsity.quantiles ([25,50,75]), augment.sparsity.offset (1),
                           augment.sparsity.fixedN, augment.sparsity.maxPerUser,
                           augment.sparsity.percentileMethod (linear);
                           llm.<job setting> for the re-ranking job, e.g. llm.concurrency=8,
                           llm.requestsPerMinute=500, llm.temperature=0, llm.maxOutputTokens=600,
                           llm.requestTimeoutMs, llm.maxRetries, llm.repairAttempts (flags win)
  --quiet                no progress output

A user whose re-ranking still fails keeps the retrieval order in A′ (counted in the report).

${JOB_HELP.notes}

${exitCodesHelp('some re-ranking calls failed (those users keep the retrieval order in A′)')}`;

const sparsitySchema = z.strictObject({
  quantiles: z.array(z.number().min(0).max(100)).min(1).optional(),
  percentileMethod: z.enum(['linear', 'lower', 'higher', 'midpoint']).optional(),
  offset: z.number().int().min(0).optional(),
  fixedN: z.number().int().positive().optional(),
  maxPerUser: z.number().int().positive().optional(),
});

/** `--set` settings: `augment.*` for the A′ builder, `llm.*` for the re-ranking job. */
const augmentCliSchema = z.strictObject({
  augment: z
    .strictObject({
      sparsity: sparsitySchema.optional(),
      itemPool: z.number().int().min(0).optional(),
      userPool: z.number().int().min(0).optional(),
      neighbourWeight: z.number().min(0).optional(),
      maxCandidates: z.number().int().positive().optional(),
      rerankConcurrency: z.number().int().positive().optional(),
      seed: z.number().int().min(0).optional(),
    })
    .optional(),
  llm: jobSettingsSchema.omit({ model: true }).partial().optional(),
});

const RERANK_STORE = 'rerank.store.jsonl';
const RERANK_RUN = 'rerank.run.json';

/** Profile texts for the prompts: --profiles, else what embed recorded as each side's text source. */
async function promptTexts(
  io: Io,
  ds: Dataset,
  pair: EmbeddingPair,
  profilesFlag: string | undefined,
  domain: Domain,
): Promise<RerankTexts & { sources: Record<string, string | null> }> {
  const userIds = rawIds(ds, 'user');
  const itemIds = rawIds(ds, 'item');
  const files: Partial<Record<ProfileKind, ProfileFile>> = profilesFlag
    ? locateProfiles(pathIn(io, profilesFlag))
    : {};
  if (!profilesFlag) {
    for (const kind of ['user', 'item'] as const) {
      const src = pair.manifest?.[kind]?.textSource;
      if (src?.kind === 'profiles' && src.file && existsSync(src.file)) {
        files[kind] = {
          kind,
          path: src.file,
          format: /\.json(\.gz)?$/i.test(src.file) ? 'rlmrec-json' : 'jsonl',
          idSpace: /\.json(\.gz)?$/i.test(src.file) ? 'dense' : 'raw',
        };
      }
    }
  }
  const userProfiles = files.user
    ? (await loadProfileMap(files.user, userIds)).map
    : new Map<string, string>();
  const itemProfiles = files.item
    ? (await loadProfileMap(files.item, itemIds)).map
    : new Map<string, string>();
  const table = loadItemTexts(ds);
  const titles = new Map<string, string>();
  if (table) for (const [id, t] of table.byId) if (t.title) titles.set(id, t.title);
  return {
    userIds,
    itemIds,
    titles,
    itemProfiles,
    userProfiles,
    domain,
    sources: {
      userProfiles: files.user?.path ?? null,
      itemProfiles: files.item?.path ?? null,
      titles: table?.file ?? null,
    },
  };
}

const f4 = (x: number): string => x.toFixed(4);

function reportMarkdown(
  ds: Dataset,
  g: AugmentedGraph,
  mode: string,
  pair: EmbeddingPair,
  llm: { summary: ChatJobSummary; model: string } | undefined,
): string {
  const { manifest: m, report: r } = g;
  const lines: string[] = [
    `# A′ for ${ds.name}`,
    '',
    `- mode: ${mode}`,
    `- embeddings: ${pair.dir} (${pair.manifest?.encoder?.modelId ?? 'unknown encoder'}, ${pair.userEmb.cols}-d; cosine in the full space)`,
    `- shape: ${m.shape.users} users × ${m.shape.items} items`,
    `- edges: train ${m.totals.trainEdges} + added ${m.totals.addedEdges} = A′ ${m.totals.augmentedEdges} (every train edge kept)`,
    `- users augmented: ${m.totals.usersAugmented}; added per augmented user: min ${r.perUserAdded.min}, mean ${r.perUserAdded.mean.toFixed(2)}, max ${r.perUserAdded.max}`,
    `- degree boundaries (percentiles ${m.config.sparsity.quantiles.join('/')} of user train degree): ${m.sparsity.boundaries.join(' / ')}; targets ${m.sparsity.targets.map((t) => t ?? '—').join(' / ')}`,
    `- candidates: itemPool ${m.candidates.itemPool}, userPool ${m.candidates.userPool}, maxCandidates ${m.candidates.maxCandidates}; kept per user: mean ${m.candidates.meanKept.toFixed(1)}, min ${m.candidates.minKept}`,
    `- seed: ${m.seed}`,
    '',
    '## Added edges per degree bucket',
    '',
    markdownTable(
      ['bucket', 'target degree', 'users', 'users augmented', 'planned', 'added', 'shortfall', 'val hits'],
      r.buckets.map((b) => [
        b.label,
        b.target === null ? '—' : String(b.target),
        String(b.users),
        String(b.usersAugmented),
        String(b.planned),
        String(b.added),
        String(b.shortfall),
        b.valHits === null ? '—' : String(b.valHits),
      ]),
    ),
    '',
    '## Popularity of the added items',
    '',
    markdownTable(
      ['', 'mean train degree'],
      [
        ['added items (one term per added edge)', r.popularity.addedItemMeanDegree.toFixed(2)],
        ['catalogue (per item)', r.popularity.catalogueMeanDegree.toFixed(2)],
        ['items of observed train edges', r.popularity.trainEdgeMeanItemDegree.toFixed(2)],
      ],
    ),
    '',
    `Added items are ${r.popularity.ratioToCatalogue.toFixed(2)}× as popular as the average catalogue item; ${r.popularity.distinctAddedItems} distinct items were added.`,
    '',
    '## Validation hit rate',
    '',
  ];
  if (r.validation) {
    const v = r.validation;
    lines.push(
      markdownTable(
        ['', 'value'],
        [
          ['added edges', String(v.addedEdges)],
          ['added edges that are validation positives', String(v.hits)],
          ['hit rate', f4(v.hitRate)],
          ['expected hit rate of random non-train items', f4(v.expectedRandomHitRate)],
          ['lift over random', `${v.lift.toFixed(2)}×`],
        ],
      ),
      '',
      'The test split is never used.',
    );
  } else lines.push('The dataset has no validation split: the hit rate is not computed.');
  lines.push('', '## Re-ranking', '');
  const rr = r.rerank;
  lines.push(
    markdownTable(
      ['', 'value'],
      [
        ['mode', rr.mode],
        ['re-ranked users', String(rr.calls)],
        ['users whose answer needed repair', String(rr.usersWithIssues)],
        ['failed calls (retrieval order used)', String(rr.failures)],
        ['invalid ids dropped', String(rr.invalidIds)],
        ['duplicate ids dropped', String(rr.duplicateIds)],
        ['items filled from the retrieval order', String(rr.filled)],
      ],
    ),
  );
  if (llm) {
    const s = llm.summary;
    lines.push('', `LLM ${llm.model}: ${formatJobSummary(s, 'users')}.`);
  }
  lines.push(
    '',
    '## Timings',
    '',
    `candidates ${(r.timings.candidatesMs / 1000).toFixed(2)} s, selection ${(r.timings.selectionMs / 1000).toFixed(2)} s, total ${(r.timings.totalMs / 1000).toFixed(2)} s`,
    '',
  );
  return lines.join('\n');
}

export const augmentCommand: Command = {
  summary: 'build the profile-augmented train graph A′ (retrieval-only or LLM re-ranked)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        embeddings: { type: 'string' },
        out: { type: 'string' },
        'llm-base-url': { type: 'string' },
        'llm-model': { type: 'string' },
        profiles: { type: 'string' },
        domain: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        ...LLM_JOB_OPTIONS,
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const datasetArg = requireFlag(values.dataset, '--dataset', usage);
    const embDir = pathIn(io, requireFlag(values.embeddings, '--embeddings', usage));
    const outDir = pathIn(io, requireFlag(values.out, '--out', usage));
    const baseURL = values['llm-base-url'];
    const model = values['llm-model'];
    if ((baseURL === undefined) !== (model === undefined)) {
      const missing = baseURL === undefined ? '--llm-base-url' : '--llm-model';
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: missing,
        message: `LLM re-ranking needs both --llm-base-url and --llm-model; ${missing} is missing`,
        fix: `pass ${missing}, or neither for retrieval-only A′`,
      });
    }
    const jobFlags = llmJobFlagSettings(values);
    const jobFlag = (['timeout', 'retries', 'repairs', 'verbose'] as const).find((k) => values[k]);
    if (model === undefined && jobFlag) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: `--${jobFlag}`,
        message: `--${jobFlag} applies to LLM re-ranking, and no --llm-model is given`,
        fix: `drop --${jobFlag}, or pass --llm-base-url and --llm-model`,
      });
    }
    const cfg = parseSettings(augmentCliSchema, applyOverrides({}, values.set), { source: '--set' });
    const ds = loadDatasetArg(io, datasetArg);
    const domain: Domain =
      values.domain === undefined
        ? defaultDomain(ds)
        : choiceFlag(values.domain, '--domain', domainSchema.options);
    const pair = loadEmbeddingPair(embDir, ds);
    const onProgress: ProgressHandler = createJobProgressRenderer(io, {
      quiet: values.quiet,
      verbose: values.verbose,
    });
    const config: AugmentConfig = cfg.augment ?? {};
    const base = {
      train: ds.train,
      val: ds.val,
      userEmb: pair.userEmb,
      itemEmb: pair.itemEmb,
      config,
      onProgress,
    };
    const t0 = performance.now();

    let graph: AugmentedGraph;
    let llm: { summary: ChatJobSummary; model: string; record: Record<string, unknown> } | undefined;
    if (model === undefined) {
      graph = await buildAugmentedGraph(base);
    } else {
      const texts = await promptTexts(io, ds, pair, values.profiles, domain);
      if (texts.titles.size === 0 && texts.itemProfiles.size === 0) {
        io.err(
          `warning: dataset '${ds.name}' has no item titles or item profiles: the LLM sees only item ids\n`,
        );
      }
      const recorder = recordingReranker();
      await buildAugmentedGraph({ ...base, rerank: recorder.rerank, onProgress: undefined });
      const settings = { ...(cfg.llm ?? {}), ...jobFlags, model };
      const store = await ResultStore.open(join(outDir, RERANK_STORE), { onProgress });
      const interrupt = watchInterrupts(io);
      let rerank: Reranker;
      try {
        const res = await runLlmRerank(recorder.requests, texts, {
          client: createChatClient({ baseURL }, io.env),
          settings,
          store,
          prompt: { domain },
          onProgress,
          task: 're-ranking',
          unit: 'users',
          abortSignal: interrupt.signal,
          manifestPath: join(outDir, RERANK_RUN),
        });
        rerank = res.rerank;
        llm = {
          summary: res.summary,
          model,
          record: {
            baseURL: redactUrl(baseURL),
            model,
            settings: { ...(cfg.llm ?? {}), ...jobFlags },
            template: RERANK_PROMPT_VERSION,
            domain,
            promptsSha256: res.promptsSha256,
            textSources: texts.sources,
            store: join(outDir, RERANK_STORE),
            runManifest: join(outDir, RERANK_RUN),
            requests: res.summary.unique,
            failures: res.failures,
            usage: res.summary.usage,
            costUsd: res.summary.costUsd ?? null,
          },
        };
        if (res.failures > 0) {
          io.err(
            `warning: ${res.failures} re-ranking request(s) failed; those users keep the retrieval order (the same command retries only them; exit code ${EXIT.PARTIAL})\n`,
          );
        }
      } catch (e) {
        return interrupt.exitCode(e);
      } finally {
        interrupt.dispose();
        await store.close();
      }
      graph = await buildAugmentedGraph({
        ...base,
        rerank,
        rerankDescription: {
          name: 'llm-rerank',
          model,
          baseURL: redactUrl(baseURL) ?? '',
          template: RERANK_PROMPT_VERSION,
          promptsSha256: llm.record.promptsSha256 as string,
        },
      });
    }

    const mode = llm
      ? `LLM re-ranking (${llm.model} at ${redactUrl(baseURL)})`
      : 'retrieval-only (no LLM configured)';
    const files = {
      matrix: join(outDir, 'aug_trn_mat.npz'),
      manifest: join(outDir, 'augment_manifest.json'),
      report: join(outDir, 'augment_report.md'),
    };
    mkdirSync(outDir, { recursive: true });
    saveSparseMatrix(files.matrix, graph.augmented);
    const { issues, ...rerankSummary } = graph.report.rerank;
    writeJson(files.manifest, {
      ...graph.manifest,
      createdAt: new Date().toISOString(),
      dataset: datasetRecord(ds),
      embeddings: {
        dir: pair.dir,
        userFile: pair.userFile,
        itemFile: pair.itemFile,
        encoder: pair.manifest?.encoder ?? null,
        dimensions: pair.userEmb.cols,
        similarity: 'cosine in the full embedding space (no PCA whitening)',
        zeroRows: pair.zeroRows,
      },
      overrides: values.set,
      llm: llm?.record ?? null,
      quality: {
        perUserAdded: graph.report.perUserAdded,
        popularity: graph.report.popularity,
        validation: graph.report.validation,
        rerank: { ...rerankSummary, issues: issues.slice(0, 100) },
        timings: graph.report.timings,
      },
      files: { matrix: 'aug_trn_mat.npz', report: 'augment_report.md' },
    });
    writeText(files.report, reportMarkdown(ds, graph, mode, pair, llm));
    const m = graph.manifest;
    const v = graph.report.validation;
    const p = graph.report.popularity;
    io.out(
      `A′ for ${ds.name}: ${m.shape.users} users × ${m.shape.items} items; train ${m.totals.trainEdges} + added ${m.totals.addedEdges} = ${m.totals.augmentedEdges} edges (${m.totals.usersAugmented} users augmented)\n` +
        `mode: ${mode}\n` +
        (v
          ? `validation hit rate of the added edges: ${f4(v.hitRate)} vs ${f4(v.expectedRandomHitRate)} for random items (${v.lift.toFixed(2)}×)\n`
          : 'no validation split: hit rate not computed\n') +
        `added items' mean train degree ${p.addedItemMeanDegree.toFixed(2)} vs catalogue ${p.catalogueMeanDegree.toFixed(2)} (${p.ratioToCatalogue.toFixed(2)}×)\n` +
        (llm ? `LLM re-ranking: ${formatJobSummary(llm.summary, 'users')}\n` : '') +
        `wrote ${files.matrix}, ${files.manifest}, ${files.report} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    return llm && llm.summary.failed + llm.summary.previouslyFailed > 0 ? EXIT.PARTIAL : EXIT.OK;
  },
};
