import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ProgressHandler, PromaxError, parseSettings } from '@promax/core';
import type { Dataset } from '@promax/data';
import { indexOf, rawIds } from '@promax/data';
import { LOCAL_PROFILE_PROMPT_DEFAULTS } from '@promax/llm-local';
import { applyOverrides } from '@promax/pipeline';
import {
  type ChatTask,
  createChatClient,
  type Domain,
  defaultDomain,
  domainSchema,
  estimateProfileJob,
  exportChatBatch,
  findProfileFile,
  generateProfiles,
  type ItemTexts,
  importChatBatch,
  type JobEstimate,
  type JobSettingsInput,
  jobSettingsSchema,
  keyOf,
  type LoadedProfiles,
  loadItemTexts,
  loadProfileMap,
  MAX_PROFILE_VARIANTS,
  PROFILE_OUTPUT,
  PROFILE_PROMPT_VERSION,
  PROFILE_VARIANTS,
  PROFILES_MANIFEST,
  type ProfileEntry,
  type ProfileFile,
  type ProfileKind,
  type ProfileOutput,
  type ProfileRequest,
  profileOutputFile,
  profilePromptSettingsSchema,
  profileTasks,
  profileTemplateName,
  ResultStore,
  readProfileFile,
  writeProfilesJsonl,
} from '@promax/profiles';
import { z } from 'zod';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../io.js';
import {
  choiceFlag,
  formatUsd,
  nonNegativeIntFlag,
  pathIn,
  positiveIntFlag,
  positiveNumberFlag,
  redactUrl,
  requireFlag,
  writeJson,
  writeText,
} from '../profile-pipeline/cli-args.js';
import { datasetRecord, loadDatasetArg } from '../profile-pipeline/dataset-arg.js';
import { exitCodesHelp, watchInterrupts } from '../profile-pipeline/job-exit.js';
import { createJobProgressRenderer } from '../profile-pipeline/job-progress.js';
import { formatJobSummary } from '../profile-pipeline/job-summary.js';
import * as localLlm from '../profile-pipeline/llm-client.js';
import { LLM_JOB_OPTIONS, llmJobFlagSettings, llmJobHelp } from '../profile-pipeline/llm-job-flags.js';
import {
  METADATA_VARIANT_FACETS,
  metadataProfiles,
  metadataVariantProfiles,
} from '../profile-pipeline/metadata-profiles.js';
import { markdownTable } from '../render/table.js';
import type { Command } from './command.js';

const JOB_HELP = llmJobHelp({ store: '--out/profiles.store.jsonl', entity: 'profile' });
const VARIANTS_HELP = PROFILE_VARIANTS.map(
  (v, k) => `${' '.repeat(24)}${k + 1}: ${v.description} (template ${profileTemplateName('item', k + 1)}/…)`,
).join('\n');

const usage = `promax profiles --dataset NAME|DIR --llm-base-url URL --llm-model M --out DIR [options]
promax profiles --dataset NAME|DIR --from-existing --out DIR [--limit N]
promax profiles --dataset NAME|DIR --from-metadata --out DIR [--kind K] [--limit N]

Writes LLM user and item profiles for a dataset through any OpenAI-compatible endpoint (the key
comes from OPENAI_API_KEY; it is never printed or written). Prompts are built from what the
dataset has: item facts from its item table (items.tsv: title and the other columns), user
histories from the train split (titles, plus item profiles when they exist: this run's, an
earlier run's in --out, or the dataset's). Items come first with --kind both, so user prompts
see the new item profiles. Every answer is appended to --out/profiles.store.jsonl before it
counts: a rerun sends only what the store lacks (see Resume below for what a crash costs).

Outputs in --out: user_profiles.jsonl / item_profiles.jsonl ({"user"|"item": original id,
"profile": text, "reasoning": text}), profiles.store.jsonl, <kind>_profiles.run.json (settings,
usage, cost) and profiles_manifest.json. Answers of "None" (input too thin) are left out. With
--variants N also user_profiles_k.jsonl / item_profiles_k.jsonl and <kind>_profiles_k.run.json
for k = 1..N.

  --dataset NAME|DIR    a registered dataset (dbbook, amazon-book, ...) or a dataset folder
  --out DIR             output folder (also the resumable store)
  --llm-base-url URL    OpenAI-compatible endpoint incl. /v1 (not needed for --dry-run/--batch-*)
  --llm-model M         chat model, e.g. gpt-4o-mini (part of every store key)
  --kind user|item|both which profiles to write (default both)
  --domain D            prompt wording: books, businesses, games, movies, generic
                        (default from the dataset: dbbook/amazon-book books, yelp businesses, ...)
  --limit N             only the first N users and the first N items with a title (dense-id order)
  --variants N          also write N extra profiles per entity (0..${MAX_PROFILE_VARIANTS}, default 0; ProEx
                        reads 3), each from its own prompt variant with the same JSON answer:
${VARIANTS_HELP}
                        They go through the same store (keys include the variant), are resumed
                        and costed like the main profiles, and user variants see the same
                        history (main item profiles) as the main user prompt. Then
                        \`promax embed\` writes usr_emb_np_k.npy / itm_emb_np_k.npy from them.
  --concurrency N       requests in flight (default 4)
  --rpm N / --tpm N     requests / tokens per minute at most (default 500 / 200000)
${JOB_HELP.flags}
  --set llm.KEY=VALUE   any job setting, repeatable (flags win): llm.requestTimeoutMs (--timeout in
                        ms), llm.maxRetries (--retries), llm.repairAttempts (--repairs),
                        llm.backoff.initialMs, llm.maxRetryAfterMs, llm.temperature, ...
  --dry-run             print the estimated tokens and cost; send nothing
  --batch-export FILE   write an OpenAI Batch API input file for what the store lacks; send nothing
                        (with --kind both: items first; import them, then export again for users)
  --batch-import FILE   store the answers of a Batch API output file and write the profiles
  --from-existing       use the profiles the dataset already has (DBbook's user_profiles.jsonl.gz:
                        Llama3-ChatQA user profiles; no item profiles exist) — no LLM, no key;
                        ids outside the dataset's id space and profiles the authors flagged as
                        broken are left out and counted
  --from-metadata       text profiles with no LLM, from the dataset itself: an item's is its
                        metadata (title and every descriptive column: genres, year, ...), a user's
                        the list of their train items (an even spread of at most 30, with genres;
                        validation and test items never enter) — the "no LLM" arm of an ablation;
                        with --variants N also N facets as the extra profiles (genres, titles, era)
${localLlm.LOCAL_LLM_USAGE}
  --quiet               no progress output

Progress counts profiles (entities), with the HTTP calls in flight; the summary gives per kind
(and per variant) the profiles from the store, answered now and failed, the HTTP calls (first
calls, retries by cause, repairs), tokens and cost; with --variants also the calls, tokens and
cost of each variant (in profiles_manifest.json under byVariant).

${JOB_HELP.notes}

${exitCodesHelp('some profiles failed (retries and repairs used up)')}`;

const STORE = 'profiles.store.jsonl';

/** `--set` settings: `llm.*` for the profile job (the model comes from --llm-model). */
const profilesCliSchema = z.strictObject({
  llm: jobSettingsSchema.omit({ model: true }).partial().optional(),
  /** Prompt budgets (`--set prompt.itemSummaryWords=80`); the domain has its own flag. */
  prompt: profilePromptSettingsSchema.omit({ domain: true }).partial().optional(),
});
const KINDS = ['user', 'item', 'both'] as const;

interface KindReport {
  source: 'llm' | 'batch-import' | 'existing' | 'metadata';
  file: string;
  requested?: number;
  written: number;
  fromStore?: number;
  generated?: number;
  failures?: number;
  failedIds?: string[];
  noneAnswers?: number;
  missing?: number;
  skipped?: { reason: string; count: number }[];
  itemProfilesForPrompts?: string | null;
  runManifest?: string;
  /** HTTP calls, tokens and cost of this run for this kind (batch imports make no calls). */
  httpRequests?: number;
  usage?: { promptTokens: number; completionTokens: number };
  costUsd?: number | null;
  sourceFile?: string;
  notInDataset?: number;
  flaggedBroken?: string[];
  withoutProfile?: number;
}

const isNone = (text: string): boolean => /^\s*none\.?\s*$/i.test(text);

/** Item profile requests: one per item with a title, first `limit` in dense-id order. */
function itemRequests(
  ds: Dataset,
  texts: ItemTexts,
  domain: Domain,
  limit: number,
): { requests: ProfileRequest[]; skipped: number } {
  const ids = rawIds(ds, 'item');
  const requests: ProfileRequest[] = [];
  let skipped = 0;
  for (let k = 0; k < ds.numItems && requests.length < limit; k++) {
    const t = texts.byId.get(ids[k] as string);
    if (!t?.title) {
      skipped++;
      continue;
    }
    requests.push({ kind: 'item', id: ids[k] as string, domain, facts: t.facts });
  }
  return { requests, skipped };
}

/** User profile requests from train histories (titles + item profiles); users with nothing to show are skipped. */
function userRequests(
  ds: Dataset,
  texts: ItemTexts | undefined,
  itemProfiles: ReadonlyMap<string, string>,
  domain: Domain,
  limit: number,
): { requests: ProfileRequest[]; skipped: number } {
  const uids = rawIds(ds, 'user');
  const iids = rawIds(ds, 'item');
  const requests: ProfileRequest[] = [];
  let skipped = 0;
  const { indptr, indices } = ds.train;
  for (let u = 0; u < Math.min(ds.numUsers, limit); u++) {
    const history = [];
    const row = Array.from(indices.subarray(indptr[u], indptr[u + 1])).sort((a, b) => a - b);
    for (const j of row) {
      const raw = iids[j] as string;
      const title = texts?.byId.get(raw)?.title;
      const profile = itemProfiles.get(raw);
      if (!title && !profile) continue;
      history.push({ title: title || `item ${raw}`, profile: profile ?? null });
    }
    if (history.length === 0) skipped++;
    else requests.push({ kind: 'user', id: uids[u] as string, domain, history });
  }
  return { requests, skipped };
}

/** Item profiles for user prompts: this run's, else --out's, else the dataset's own. */
async function itemProfilesForPrompts(
  ds: Dataset,
  outDir: string,
  fresh: ProfileEntry[] | undefined,
): Promise<{ map: Map<string, string>; source: string | null }> {
  if (fresh) return { map: new Map(fresh.map((e) => [e.id, e.profile])), source: 'this run' };
  const candidates: (ProfileFile | undefined)[] = [
    findProfileFile(outDir, 'item'),
    findProfileFile(ds.sourceDir, 'item'),
  ];
  const file = candidates.find((f) => f !== undefined);
  if (!file) return { map: new Map(), source: null };
  const { map } = await loadProfileMap(file, rawIds(ds, 'item'));
  return { map, source: file.path };
}

function readManifest(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return typeof m === 'object' && m !== null ? m : {};
  } catch {
    return {};
  }
}

/** Per-kind reports of one extra profile variant. */
type VariantReports = Record<number, Partial<Record<ProfileKind, KindReport>>>;

/**
 * Merges this run's per-kind reports into profiles_manifest.json (a --kind user run keeps the item
 * section; a run with fewer --variants keeps the sections of the others).
 */
function writeManifest(
  outDir: string,
  ds: Dataset,
  top: Record<string, unknown>,
  kinds: Partial<Record<ProfileKind, KindReport>>,
  variants: VariantReports = {},
): void {
  const path = join(outDir, PROFILES_MANIFEST);
  const old = readManifest(path);
  const oldKinds = (old.kinds ?? {}) as Record<string, unknown>;
  const oldVariants = (old.variantReports ?? {}) as Record<string, { kinds?: Record<string, unknown> }>;
  const mergedVariants: Record<string, unknown> = { ...oldVariants };
  for (const [v, reports] of Object.entries(variants)) {
    const facet = PROFILE_VARIANTS[Number(v) - 1];
    mergedVariants[v] = {
      facet: facet?.facet,
      description: facet?.description,
      kinds: { ...(oldVariants[v]?.kinds ?? {}), ...reports },
    };
  }
  writeJson(path, {
    format: 'promax-profiles',
    version: 1,
    updatedAt: new Date().toISOString(),
    dataset: datasetRecord(ds),
    ...top,
    kinds: { ...oldKinds, ...kinds },
    ...(Object.keys(mergedVariants).length ? { variantReports: mergedVariants } : {}),
  });
}

/** How a kind and variant read in summaries: "item", "item, variant 2 (mood)". */
function kindLabel(kind: ProfileKind, variant: number): string {
  return variant === 0 ? kind : `${kind}, variant ${variant} (${PROFILE_VARIANTS[variant - 1]?.facet})`;
}

/** The run manifest of a kind and variant: item_profiles.run.json, item_profiles_2.run.json. */
const runManifestFile = (kind: ProfileKind, variant: number): string =>
  profileOutputFile(kind, variant).replace(/\.jsonl$/, '.run.json');

/** The requests of an extra profile variant (variant 0: the main requests as they are). */
const forVariant = (requests: readonly ProfileRequest[], variant: number): ProfileRequest[] =>
  variant === 0 ? [...requests] : requests.map((r) => ({ ...r, variant }));

function estimateRows(estimates: [string, JobEstimate][], model: string): string {
  const usd = (v: number | undefined) => (v === undefined ? '?' : `$${v.toFixed(4)}`);
  return (
    markdownTable(
      [
        'kind',
        'profiles',
        'already stored',
        'to request',
        'prompt tokens (est.)',
        'completion tokens (expected / max)',
        'cost (expected)',
        'cost (max)',
        'cost (Batch API)',
      ],
      estimates.map(([kind, e]) => [
        kind,
        String(e.unique),
        String(e.alreadyStored),
        String(e.toRequest),
        String(e.promptTokens),
        `${e.expectedCompletionTokens} / ${e.maxCompletionTokens}`,
        usd(e.costUsd),
        usd(e.maxCostUsd),
        usd(e.batchCostUsd),
      ]),
    ) +
    (estimates.some(([, e]) => e.costUsd === undefined)
      ? `\nno price is known for model ${model}: costs are not estimated`
      : '')
  );
}

/** Profiles of the given tasks as the store holds them (exact keys: id, prompt hash, model, variant). */
function collectFromStore(
  tasks: readonly ChatTask<ProfileOutput>[],
  store: ResultStore,
  model: string,
): { entries: ProfileEntry[]; failed: string[]; missing: number; none: number } {
  const entries: ProfileEntry[] = [];
  const failed: string[] = [];
  let missing = 0;
  let none = 0;
  for (const t of tasks) {
    const rec = store.get(keyOf(t, model));
    if (!rec) missing++;
    else if (rec.type === 'failure') failed.push(t.id);
    else {
      const out = rec.output as ProfileOutput;
      if (isNone(out.summarization)) none++;
      else entries.push({ id: t.id, profile: out.summarization, reasoning: out.reasoning });
    }
  }
  return { entries, failed, missing, none };
}

async function fromExisting(io: Io, ds: Dataset, outDir: string, limit: number): Promise<number> {
  const sources: Partial<Record<ProfileKind, ProfileFile>> = {};
  const userFile = ds.files.userProfiles;
  sources.user = userFile
    ? {
        kind: 'user',
        path: userFile,
        format: /\.json(\.gz)?$/.test(userFile) ? 'rlmrec-json' : 'jsonl',
        idSpace: /\.json(\.gz)?$/.test(userFile) ? 'dense' : 'raw',
      }
    : findProfileFile(ds.sourceDir, 'user');
  sources.item = findProfileFile(ds.sourceDir, 'item');
  if (!sources.user) delete sources.user;
  if (!sources.item) delete sources.item;
  if (!sources.user && !sources.item) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      field: '--from-existing',
      file: ds.sourceDir,
      message: `dataset '${ds.name}' has no profiles of its own (looked for user_profiles.jsonl(.gz), item_profiles.jsonl(.gz), usr_prf.json, itm_prf.json in ${ds.sourceDir})`,
      fix: `generate them instead: promax profiles --dataset ${ds.name} --llm-base-url URL --llm-model M --out DIR`,
    });
  }
  const reports: Partial<Record<ProfileKind, KindReport>> = {};
  const lines: string[] = [];
  for (const kind of ['user', 'item'] as const) {
    const file = sources[kind];
    if (!file) continue;
    const target = join(outDir, PROFILE_OUTPUT[kind]);
    if (resolve(file.path) === resolve(target)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--out',
        message: `--out would overwrite the dataset's own ${file.path}`,
        fix: 'choose another --out folder',
      });
    }
    const loaded: LoadedProfiles = await readProfileFile(file);
    const ids = rawIds(ds, kind);
    const index = indexOf(ids);
    const n = Math.min(kind === 'user' ? ds.numUsers : ds.numItems, limit);
    const byDense = new Map<number, ProfileEntry>();
    let notInDataset = 0;
    for (const e of loaded.entries) {
      const dense = file.idSpace === 'dense' ? Number(e.id) : index.get(e.id);
      if (dense === undefined || !Number.isInteger(dense) || dense < 0 || dense >= ids.length) {
        notInDataset++;
        continue;
      }
      if (dense < n) byDense.set(dense, { ...e, id: ids[dense] as string });
    }
    const entries = [...byDense.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
    writeProfilesJsonl(target, kind, entries);
    const broken = loaded.flaggedBroken.filter((id) => {
      const dense = file.idSpace === 'dense' ? Number(id) : index.get(id);
      return dense !== undefined && dense < n;
    });
    reports[kind] = {
      source: 'existing',
      sourceFile: file.path,
      file: target,
      written: entries.length,
      notInDataset,
      flaggedBroken: loaded.flaggedBroken,
      withoutProfile: n - entries.length,
    };
    lines.push(
      `${kind} profiles: ${entries.length} of ${n} ${kind}s from ${file.path}` +
        `${notInDataset ? `; ${notInDataset} ids not in the dataset skipped` : ''}` +
        `${broken.length ? `; ${broken.length} flagged broken by the authors left out (${broken.join(', ')})` : ''}` +
        `${n - entries.length > 0 ? `; ${n - entries.length} ${kind}s have no profile` : ''}`,
    );
  }
  if (!reports.item)
    lines.push(
      `item profiles: the dataset has none (embed uses item titles instead; or run with --kind item and an LLM)`,
    );
  writeManifest(outDir, ds, { source: 'existing', limit: Number.isFinite(limit) ? limit : null }, reports);
  io.out(
    `${lines.join('\n')}\nwrote ${outDir} (${Object.keys(reports)
      .map((k) => PROFILE_OUTPUT[k as ProfileKind])
      .join(', ')}, ${PROFILES_MANIFEST})\n`,
  );
  return 0;
}

/**
 * `--from-metadata`: text profiles from the dataset's own metadata and train histories; with
 * `--variants N` also the first N metadata facets (genres, titles, era) as the extra profiles.
 */
function fromMetadata(
  io: Io,
  ds: Dataset,
  outDir: string,
  limit: number,
  kinds: ProfileKind[],
  variants: number,
): number {
  const texts = loadItemTexts(ds);
  if (!texts) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      field: '--from-metadata',
      file: ds.sourceDir,
      message: `dataset '${ds.name}' has no item texts to write profiles from (no items.tsv(.gz) and no itemTexts in dataset.json)`,
      fix: 'add items.tsv with a header "item<TAB>title[<TAB>more columns]" to the dataset folder',
    });
  }
  const options = { maxHistoryItems: 30, limit };
  const made = metadataProfiles(ds, texts, options);
  const reports: Partial<Record<ProfileKind, KindReport>> = {};
  const lines: string[] = [];
  const written: string[] = [];
  for (const kind of kinds) {
    const entries = made[kind];
    const target = join(outDir, PROFILE_OUTPUT[kind]);
    writeProfilesJsonl(target, kind, entries);
    written.push(PROFILE_OUTPUT[kind]);
    const missing = kind === 'item' ? made.itemsWithoutText : made.usersWithoutText;
    reports[kind] = {
      source: 'metadata',
      sourceFile: texts.file,
      file: target,
      written: entries.length,
      withoutProfile: missing,
    };
    lines.push(
      `${kind} profiles: ${entries.length} from ${kind === 'item' ? texts.file : 'train histories'}` +
        `${missing ? `; ${missing} ${kind}s have no text (${kind === 'item' ? 'no title' : 'no titled train item'})` : ''}`,
    );
  }
  for (let v = 1; v <= variants; v++) {
    const extra = metadataVariantProfiles(ds, texts, v as 1 | 2 | 3, options);
    for (const kind of kinds) {
      const file = profileOutputFile(kind, v);
      writeProfilesJsonl(join(outDir, file), kind, extra[kind]);
      written.push(file);
    }
    lines.push(
      `variant ${v} (${METADATA_VARIANT_FACETS[v - 1]}): ${kinds.map((k) => `${extra[k].length} ${k}s`).join(', ')}`,
    );
  }
  writeManifest(outDir, ds, { source: 'metadata', limit: Number.isFinite(limit) ? limit : null }, reports);
  io.out(`${lines.join('\n')}\nwrote ${outDir} (${written.join(', ')}, ${PROFILES_MANIFEST})\n`);
  return 0;
}

export const profilesCommand: Command = {
  summary:
    "write LLM user/item profiles for a dataset (resumable; --variants N adds ProEx's extra ones), or take the ones it has",
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        out: { type: 'string' },
        'llm-base-url': { type: 'string' },
        'llm-model': { type: 'string' },
        kind: { type: 'string', default: 'both' },
        domain: { type: 'string' },
        limit: { type: 'string' },
        variants: { type: 'string' },
        concurrency: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'batch-export': { type: 'string' },
        'batch-import': { type: 'string' },
        'from-existing': { type: 'boolean', default: false },
        'from-metadata': { type: 'boolean', default: false },
        ...LLM_JOB_OPTIONS,
        set: { type: 'string', multiple: true, default: [] },
        quiet: { type: 'boolean', default: false },
        ...localLlm.LOCAL_LLM_OPTIONS,
      },
      strict: true,
    });
    const datasetArg = requireFlag(values.dataset, '--dataset', usage);
    const outDir = pathIn(io, requireFlag(values.out, '--out', usage));
    const limit = positiveIntFlag(values.limit, '--limit') ?? Number.POSITIVE_INFINITY;
    const kind = choiceFlag(values.kind, '--kind', KINDS);
    const variants = nonNegativeIntFlag(values.variants, '--variants') ?? 0;
    if (variants > MAX_PROFILE_VARIANTS) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--variants',
        message: `--variants ${variants}: there are ${MAX_PROFILE_VARIANTS} extra prompt variants (${PROFILE_VARIANTS.map((v) => v.facet).join(', ')})`,
        fix: `pass --variants between 0 and ${MAX_PROFILE_VARIANTS} (ProEx reads 3)`,
      });
    }
    /** 0 (the main profile), then the extra variants 1..N. */
    const variantList = Array.from({ length: variants + 1 }, (_, v) => v);
    const dryRun = values['dry-run'];
    const batchExport = values['batch-export'];
    const batchImport = values['batch-import'];
    const offlineSource = values['from-existing']
      ? 'from-existing'
      : values['from-metadata']
        ? 'from-metadata'
        : undefined;
    if (values['from-existing'] && values['from-metadata']) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--from-metadata',
        message: '--from-existing and --from-metadata are two different sources of profiles',
        fix: 'choose one',
      });
    }
    if (offlineSource) {
      const clash =
        (
          [
            'llm-base-url',
            'llm-model',
            'batch-export',
            'batch-import',
            'concurrency',
            'rpm',
            'tpm',
            'timeout',
            'retries',
            'repairs',
          ] as const
        ).find((k) => values[k] !== undefined) ??
        (values.set.length > 0
          ? 'set'
          : variants > 0 && offlineSource === 'from-existing'
            ? 'variants'
            : undefined);
      if (clash || dryRun) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          field: `--${offlineSource}`,
          message: `--${offlineSource} writes profiles without an LLM and sends nothing; --${clash ?? 'dry-run'} does not apply`,
          fix: `drop --${clash ?? 'dry-run'}, or drop --${offlineSource} to generate profiles with an LLM`,
        });
      }
      const ds = loadDatasetArg(io, datasetArg);
      return offlineSource === 'from-existing'
        ? fromExisting(io, ds, outDir, limit)
        : fromMetadata(io, ds, outDir, limit, kind === 'both' ? ['item', 'user'] : [kind], variants);
    }
    if (batchExport && batchImport) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--batch-import',
        message: '--batch-export and --batch-import are two separate steps',
        fix: 'export, run the batch at the provider, then import in a second call',
      });
    }
    if (dryRun && (batchExport || batchImport)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--dry-run',
        message: '--dry-run cannot be combined with --batch-export/--batch-import',
        fix: 'run --dry-run alone first',
      });
    }
    const gguf = localLlm.parseLocalLlmFlags(io, values);
    const model = gguf
      ? await localLlm.localModelName(gguf)
      : requireFlag(values['llm-model'], '--llm-model', usage);
    const offline = dryRun || batchExport !== undefined || batchImport !== undefined || gguf !== undefined;
    const baseURL = offline
      ? values['llm-base-url']
      : requireFlag(values['llm-base-url'], '--llm-base-url', usage);
    const domain: Domain | undefined =
      values.domain === undefined ? undefined : choiceFlag(values.domain, '--domain', domainSchema.options);
    const cfg = parseSettings(profilesCliSchema, applyOverrides({}, values.set), { source: '--set' });
    const settings: JobSettingsInput = { ...(cfg.llm ?? {}), ...llmJobFlagSettings(values), model };
    const concurrency = positiveIntFlag(values.concurrency, '--concurrency') ?? gguf?.parallel;
    const rpm = positiveNumberFlag(values.rpm, '--rpm');
    const tpm = positiveNumberFlag(values.tpm, '--tpm');
    if (concurrency !== undefined) settings.concurrency = concurrency;
    if (rpm !== undefined) settings.requestsPerMinute = rpm;
    if (tpm !== undefined) settings.tokensPerMinute = tpm;

    const ds = loadDatasetArg(io, datasetArg);
    const dom = domain ?? defaultDomain(ds);
    const texts = loadItemTexts(ds);
    const kinds: ProfileKind[] = kind === 'both' ? ['item', 'user'] : [kind];
    if (kinds.includes('item') && !texts) {
      throw new PromaxError({
        code: 'FILE_NOT_FOUND',
        field: '--dataset',
        file: ds.sourceDir,
        message: `dataset '${ds.name}' has no item texts to build item prompts from (no items.tsv(.gz) and no itemTexts in dataset.json)`,
        fix: 'add items.tsv with a header "item<TAB>title[<TAB>more columns]" to the dataset folder (or itemTexts to its dataset.json)',
      });
    }
    const onProgress: ProgressHandler = createJobProgressRenderer(io, {
      quiet: values.quiet,
      verbose: values.verbose,
    });
    const storePath = join(outDir, STORE);
    const storeExists = existsSync(storePath);
    const store = dryRun && !storeExists ? undefined : await ResultStore.open(storePath, { onProgress });
    const top = {
      source: batchImport ? 'batch-import' : 'llm',
      llm: {
        baseURL: redactUrl(baseURL),
        model,
        settings,
        promptVersion: PROFILE_PROMPT_VERSION,
        domain: dom,
      },
      limit: Number.isFinite(limit) ? limit : null,
      variants,
      store: storePath,
    };
    // An in-process model gets compact budgets beneath the user's own (see LOCAL_PROFILE_PROMPT_DEFAULTS).
    const prompt = { ...(gguf ? LOCAL_PROFILE_PROMPT_DEFAULTS : {}), ...(cfg.prompt ?? {}), domain: dom };
    let closeLocal: { dispose(): Promise<void> } | undefined;

    const interrupt = watchInterrupts(io);
    const abortSignal = interrupt.signal;
    try {
      const build = async (k: ProfileKind, freshItems?: ProfileEntry[]) => {
        const built =
          k === 'item'
            ? { ...itemRequests(ds, texts as ItemTexts, dom, limit), itemSource: undefined }
            : await (async () => {
                const ip = await itemProfilesForPrompts(ds, outDir, freshItems);
                return { ...userRequests(ds, texts, ip.map, dom, limit), itemSource: ip.source };
              })();
        if (built.requests.length === 0) {
          throw new PromaxError({
            code: 'INVALID_DATA',
            field: '--dataset',
            file: ds.sourceDir,
            message:
              k === 'item'
                ? `no item of dataset '${ds.name}' has a title to build a prompt from`
                : `no user of dataset '${ds.name}' has train items with a title or an item profile to show`,
            fix: 'add an item title table (items.tsv: item<TAB>title) or item profiles (--kind item) to the dataset',
          });
        }
        return built;
      };

      if (dryRun) {
        const estimates: [string, JobEstimate][] = [];
        for (const k of kinds) {
          const { requests } = await build(k);
          for (const v of variantList) {
            estimates.push([
              kindLabel(k, v),
              estimateProfileJob(forVariant(requests, v), { settings, prompt, store }),
            ]);
          }
        }
        io.out(
          `dry run for ${ds.name} with ${model}: nothing was sent\n\n${estimateRows(estimates, model)}\n` +
            `${kind === 'both' ? '(user prompts are estimated with the item profiles that exist now; new item profiles make them longer)\n' : ''}` +
            'prompt tokens: chars/4; completion at the expected and at the maximum answer length; no retries or repairs counted\n',
        );
        return EXIT.OK;
      }
      const st = store as ResultStore;

      if (batchExport) {
        const path = pathIn(io, batchExport);
        let exported: { kind: ProfileKind; count: number; skipped: number } | undefined;
        let jsonl = '';
        for (const k of kinds) {
          const { requests } = await build(k);
          // every variant of a kind in one file: user variants only need the main item profiles
          const tasks = variantList.flatMap((v) => profileTasks(forVariant(requests, v), { model, prompt }));
          const e = exportChatBatch(tasks, { settings, store: st });
          exported = { kind: k, count: e.count, skipped: e.skipped };
          jsonl = e.jsonl;
          if (e.count > 0) break; // items first: user prompts need their answers
        }
        writeText(path, jsonl);
        const x = exported as { kind: ProfileKind; count: number; skipped: number };
        io.out(
          `wrote ${x.count} ${x.kind}-profile requests${variants > 0 ? ` (main and ${variants} extra variants)` : ''} to ${path} (${x.skipped} already in the store); nothing was sent\n` +
            'next: upload it with purpose "batch" for /v1/chat/completions; when it is done, run this command again with --batch-import OUTPUT.jsonl in place of --batch-export\n' +
            (kind === 'both' && x.kind === 'item'
              ? 'after importing the item answers, export again for the user profiles (their prompts include the item profiles)\n'
              : ''),
        );
        return EXIT.OK;
      }

      const reports: Partial<Record<ProfileKind, KindReport>> = {};
      const variantReports: VariantReports = {};
      const lines: string[] = [];
      const written: string[] = [];
      let freshItems: ProfileEntry[] | undefined;
      let usage = { promptTokens: 0, completionTokens: 0 };
      let cost: number | undefined = 0;
      let failed = 0;
      /** Calls, tokens and cost of this run per variant ("main", "1", …), both kinds together. */
      const byVariant: Record<
        string,
        { httpRequests: number; usage: { promptTokens: number; completionTokens: number }; costUsd?: number }
      > = {};
      const tally = (
        v: number,
        calls: number,
        u: { promptTokens: number; completionTokens: number },
        usd: number | undefined,
      ): void => {
        const key = v === 0 ? 'main' : String(v);
        const t = byVariant[key] ?? {
          httpRequests: 0,
          usage: { promptTokens: 0, completionTokens: 0 },
          costUsd: 0,
        };
        t.httpRequests += calls;
        t.usage.promptTokens += u.promptTokens;
        t.usage.completionTokens += u.completionTokens;
        t.costUsd = t.costUsd === undefined || usd === undefined ? undefined : t.costUsd + usd;
        byVariant[key] = t;
        usage = {
          promptTokens: usage.promptTokens + u.promptTokens,
          completionTokens: usage.completionTokens + u.completionTokens,
        };
        cost = cost === undefined || usd === undefined ? undefined : cost + usd;
      };
      const local =
        gguf && !batchImport ? await localLlm.openLocalLlm(gguf, 'profile', onProgress) : undefined;
      closeLocal = local;
      const client = batchImport ? undefined : (local ?? createChatClient({ baseURL }, io.env));
      for (const k of kinds) {
        const built = await build(k, freshItems);
        const { skipped, itemSource } = built;
        const skippedList = skipped
          ? [
              {
                reason:
                  k === 'item' ? 'no title in the item table' : 'no train items with a title or profile',
                count: skipped,
              },
            ]
          : [];
        for (const v of variantList) {
          const requests = forVariant(built.requests, v);
          const file = join(outDir, profileOutputFile(k, v));
          const label = kindLabel(k, v);
          const keep = (report: KindReport): void => {
            if (v === 0) reports[k] = report;
            else variantReports[v] = { ...variantReports[v], [k]: report };
          };
          written.push(file);
          if (batchImport) {
            const tasks = profileTasks(requests, { model, prompt });
            const s = await importChatBatch(tasks, {
              settings,
              store: st,
              path: pathIn(io, batchImport),
              onProgress,
            });
            const c = collectFromStore(tasks, st, model);
            writeProfilesJsonl(file, k, c.entries);
            if (k === 'item' && v === 0) freshItems = c.entries;
            tally(v, 0, s.usage, s.costUsd);
            keep({
              source: 'batch-import',
              file,
              requested: requests.length,
              written: c.entries.length,
              generated: s.imported,
              failures: c.failed.length,
              failedIds: c.failed.slice(0, 50),
              noneAnswers: c.none,
              missing: c.missing,
              skipped: skippedList,
              itemProfilesForPrompts: k === 'user' ? itemSource : undefined,
              httpRequests: 0,
              usage: s.usage,
              costUsd: s.costUsd ?? null,
            });
            failed += c.failed.length + c.missing;
            if (c.failed.length + c.missing > 0) {
              io.err(
                `warning: ${c.failed.length} ${label} profile(s) failed and ${c.missing} are not in the batch output; --batch-export writes a new batch of only those (exit code ${EXIT.PARTIAL})\n`,
              );
            }
            lines.push(
              `${label} profiles: ${requests.length} requested — ${c.entries.length} written (${s.imported} imported now), ${c.failed.length} failed, ${c.missing} not answered yet, ${c.none} "None"`,
            );
            continue;
          }
          const runManifest = join(outDir, runManifestFile(k, v));
          const result = await generateProfiles(requests, {
            client: client as NonNullable<typeof client>,
            settings,
            store: st,
            prompt,
            onProgress,
            task: `${label} profiles`,
            unit: `${k}s`,
            abortSignal,
            manifestPath: runManifest,
          });
          if (local) localLlm.recordLocalRun(runManifest, local, result.summary);
          const entries: ProfileEntry[] = [];
          let none = 0;
          for (const p of result.profiles) {
            if (isNone(p.summarization)) none++;
            else entries.push({ id: p.id, profile: p.summarization, reasoning: p.reasoning });
          }
          writeProfilesJsonl(file, k, entries);
          if (k === 'item' && v === 0) freshItems = entries;
          const s = result.summary;
          tally(v, s.httpRequests, s.usage, s.costUsd);
          const fromStore = result.profiles.filter((p) => p.fromStore).length;
          keep({
            source: 'llm',
            file,
            requested: requests.length,
            written: entries.length,
            fromStore,
            generated: result.profiles.length - fromStore,
            failures: result.failures.length,
            failedIds: result.failures.slice(0, 50).map((f) => f.id),
            noneAnswers: none,
            skipped: skippedList,
            itemProfilesForPrompts: k === 'user' ? itemSource : undefined,
            runManifest,
            httpRequests: s.httpRequests,
            usage: s.usage,
            costUsd: s.costUsd ?? null,
          });
          failed += result.failures.length;
          lines.push(
            `${label} profiles: ${entries.length} written, ${none} "None"` +
              (skipped ? `, ${skipped} skipped (${skippedList[0]?.reason})` : '') +
              ` — ${formatJobSummary(s, `${k}s`)}`,
          );
          if (result.failures.length) {
            io.err(
              `warning: ${result.failures.length} ${label} profile(s) failed (e.g. ${result.failures[0]?.id}: ${result.failures[0]?.error.message}); the same command retries only them (exit code ${EXIT.PARTIAL})\n`,
            );
          }
        }
      }
      if (variants > 0) {
        for (const v of variantList) {
          const key = v === 0 ? 'main' : String(v);
          const t = byVariant[key];
          if (!t) continue;
          lines.push(
            `${v === 0 ? 'main profiles' : `variant ${v} (${PROFILE_VARIANTS[v - 1]?.facet})`}: ${t.httpRequests} HTTP ${t.httpRequests === 1 ? 'call' : 'calls'}, ${t.usage.promptTokens}+${t.usage.completionTokens} tokens, ${formatUsd(t.costUsd, model)}`,
          );
        }
      }
      writeManifest(
        outDir,
        ds,
        {
          ...top,
          usage,
          costUsd: cost ?? null,
          byVariant: variantList.flatMap((v) => {
            const t = byVariant[v === 0 ? 'main' : String(v)];
            return t
              ? [
                  {
                    variant: v,
                    facet: v === 0 ? 'main' : PROFILE_VARIANTS[v - 1]?.facet,
                    ...t,
                    costUsd: t.costUsd ?? null,
                  },
                ]
              : [];
          }),
        },
        reports,
        variantReports,
      );
      io.out(
        `${lines.join('\n')}\nwrote ${written.join(', ')} and ${PROFILES_MANIFEST} (store: ${storePath})\n`,
      );
      return failed > 0 ? EXIT.PARTIAL : EXIT.OK;
    } catch (e) {
      return interrupt.exitCode(e);
    } finally {
      interrupt.dispose();
      await store?.close();
      await closeLocal?.dispose();
    }
  },
};
