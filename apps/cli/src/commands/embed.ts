import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import {
  type Dataset,
  detectLayout,
  findRepoRoot,
  idsSha256,
  indexOf,
  rawIds,
  saveEmbeddings,
} from '@promax/data';
import {
  createOnnxEmbedder,
  createOpenAIEmbedder,
  EMBEDDING_FILES,
  type Embedder,
  type EmbedWithCacheResult,
  embedWithCache,
  hashTextList,
  OPENAI_EMBEDDER_DEFAULTS,
  OpenAIEmbedder,
  variantEmbeddingFile,
} from '@promax/embed';
import {
  findProfileVariants,
  type LoadedProfiles,
  loadItemTexts,
  locateProfiles,
  PROFILES_MANIFEST,
  type ProfileFile,
  type ProfileKind,
  profileOutputFile,
  readProfileFile,
} from '@promax/profiles';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../io.js';
import {
  choiceFlag,
  nonNegativeIntFlag,
  pathIn,
  positiveIntFlag,
  positiveNumberFlag,
  redactUrl,
  requireFlag,
  writeJson,
} from '../profile-pipeline/cli-args.js';
import { datasetRecord, loadDatasetArg } from '../profile-pipeline/dataset-arg.js';
import { exitCodesHelp, watchInterrupts } from '../profile-pipeline/job-exit.js';
import { createJobProgressRenderer } from '../profile-pipeline/job-progress.js';
import { formatRetries } from '../profile-pipeline/job-summary.js';
import type { Command } from './command.js';

const usage = `promax embed --profiles DIR|FILE --encoder onnx:MODEL_DIR|openai:MODEL --out DIR [options]

Embeds user and item profile texts and writes one row per user / item in the dataset's dense-id
order: --out/usr_emb.npy and --out/itm_emb.npy (float32), plus embed_manifest.json (encoder,
dimensions, counts, the text source of each side and text hashes). Users or items without a text
get zero rows (reported as a warning). Vectors are cached in --out/cache by text hash: a rerun
embeds only new or changed texts.

Extra profile variants (\`promax profiles --variants N\`: user_profiles_k.jsonl and
item_profiles_k.jsonl in the --profiles folder) are embedded too, by default every one found, with
the same encoder: --out/usr_emb_np_k.npy and --out/itm_emb_np_k.npy (k = 1..N, RLMRec's names for
ProEx's extra profiles), so \`promax train --method proex --embeddings DIR\` reads them. Every
variant needs both sides (no title fallback: it would repeat the main item text). --out then holds
exactly the variants of this run: usr_emb_np_k.npy / itm_emb_np_k.npy an earlier run left there
are removed.

  --profiles DIR|FILE   the --out folder of \`promax profiles\`, a dataset folder with
                        user_profiles.jsonl(.gz) (DBbook), or one file: our JSONL
                        ({"user"|"item": original id, "profile": text}), DBbook's JSONL(.gz), or
                        RLMRec's {id: {profile, reasoning}} JSON (usr_prf.json / itm_prf.json;
                        its ids are dense row indices)
  --encoder SPEC        onnx:MODEL_DIR — a local sentence-transformers ONNX export (a bare name is
                          also looked up in PROMAX_MODELS_DIR and ../shared/models; make one with
                          tools/export-minilm-onnx.py), or
                        openai:MODEL — an OpenAI-compatible /embeddings endpoint (key from
                          OPENAI_API_KEY), e.g. openai:text-embedding-3-small
  --embedding-base-url URL  endpoint for openai: (default the OpenAI API)
  --dimensions N        shortened vectors for openai: models that support it
  --dataset NAME|DIR    the dataset whose id order the rows follow (default: the one recorded in
                        the profiles' profiles_manifest.json, or --profiles itself if it is a
                        dataset folder)
  --item-text SOURCE    auto (default): item profiles when there are any, else item titles from
                        the dataset's item table (DBbook has no item profiles); profiles; titles
  --variants all|N      extra profile variants to embed: all (default) — every one in the
                        --profiles folder; N — variants 1..N, each required; 0 — none
  --out DIR             output folder
  --timeout SECONDS     openai: limit of one HTTP call (default ${OPENAI_EMBEDDER_DEFAULTS.timeoutMs / 1000}); a timeout is retried
  --retries N           openai: retries of one call (default ${OPENAI_EMBEDDER_DEFAULTS.maxRetries}; 0 = none)
  --verbose             one line per retry (default: a counted line every 10 s at most)
  --quiet               no progress output

Retries (openai:): a call answered 429, 408 or 5xx, timed out, cut off or unreadable is sent
again up to --retries times, after what Retry-After / retry-after-ms asks for, else
${OPENAI_EMBEDDER_DEFAULTS.retryBaseMs / 1000} s doubled per retry. Any other 4xx (wrong key, model or URL) stops the run.

Resume: vectors are cached in --out/cache every 20 calls and whenever the run stops on an error
or Ctrl-C, so a rerun sends only the texts the cache lacks. What a crash (SIGKILL, power) costs:
the calls since the last checkpoint, at most 20 (of up to ${OPENAI_EMBEDDER_DEFAULTS.maxBatchSize} texts each), sent and paid again.

${exitCodesHelp('the endpoint still failed after its retries')}`;

type ItemTextMode = 'auto' | 'profiles' | 'titles';

interface SideTexts {
  /** Text per dense row; undefined = no text (zero row). */
  texts: (string | undefined)[];
  source: { kind: 'profiles' | 'titles'; file: string; column?: string; idSpace?: string };
  notInDataset: number;
  flaggedBroken: number;
  noneAnswers: number;
}

type EncoderSpec = { scheme: 'onnx'; target: string } | { scheme: 'openai'; model: string };

export function parseEncoderSpec(spec: string): EncoderSpec {
  const colon = spec.indexOf(':');
  const scheme = colon > 0 ? spec.slice(0, colon) : '';
  const rest = colon > 0 ? spec.slice(colon + 1) : '';
  if ((scheme === 'onnx' || scheme === 'openai') && rest) {
    return scheme === 'onnx' ? { scheme, target: rest } : { scheme, model: rest };
  }
  throw new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: '--encoder',
    message: scheme
      ? `unknown encoder scheme '${scheme}' in --encoder ${spec}${scheme === 'onnx' || scheme === 'openai' ? ' (nothing after the colon)' : ''}`
      : `--encoder ${spec} names no scheme`,
    fix: 'pass --encoder onnx:MODEL_DIR (a local ONNX sentence encoder, e.g. onnx:/tmp/models/all-MiniLM-L6-v2) or --encoder openai:MODEL (e.g. openai:text-embedding-3-small)',
  });
}

/** A local model folder: the path as given, else a bare name in PROMAX_MODELS_DIR or ../shared/models. */
function resolveModelDir(io: Io, target: string): string {
  const tried = [pathIn(io, target)];
  if (!target.includes('/') && !target.includes(sep)) {
    if (io.env.PROMAX_MODELS_DIR) tried.push(join(resolve(io.env.PROMAX_MODELS_DIR), target));
    const root = findRepoRoot();
    if (root) tried.push(join(root, '..', 'shared', 'models', target));
  }
  const hit = tried.find((p) => existsSync(p) && statSync(p).isDirectory());
  if (hit) return hit;
  throw new PromaxError({
    code: 'FILE_NOT_FOUND',
    field: '--encoder',
    file: tried[0],
    message: `no ONNX model folder for --encoder onnx:${target} (looked in ${tried.join(', ')})`,
    fix: 'export one (python3 tools/export-minilm-onnx.py --out /tmp/models/all-MiniLM-L6-v2) and pass --encoder onnx:/tmp/models/all-MiniLM-L6-v2, or set PROMAX_MODELS_DIR',
  });
}

/** The dataset the rows must follow: --dataset, else the profiles' manifest, else --profiles itself as a dataset folder. */
function datasetFor(io: Io, profilesPath: string, flag: string | undefined): Dataset {
  if (flag) return loadDatasetArg(io, flag);
  const dir =
    existsSync(profilesPath) && statSync(profilesPath).isDirectory() ? profilesPath : dirname(profilesPath);
  const manifestPath = join(dir, PROFILES_MANIFEST);
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dataset?: { name?: string; dir?: string } };
    if (m.dataset?.dir && existsSync(m.dataset.dir)) return loadDatasetArg(io, m.dataset.dir);
    if (m.dataset?.name) return loadDatasetArg(io, m.dataset.name);
  }
  if (detectLayout(dir)) return loadDatasetArg(io, dir);
  throw new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: '--dataset',
    message: `cannot tell which dataset the profiles in ${profilesPath} belong to (no ${PROFILES_MANIFEST} beside them)`,
    fix: 'pass --dataset NAME|DIR so the rows follow its dense-id order',
  });
}

const usable = (t: string | undefined): t is string =>
  t !== undefined && t.trim() !== '' && !/^\s*none\.?\s*$/i.test(t);

function profileTexts(ds: Dataset, kind: ProfileKind, loaded: LoadedProfiles): SideTexts {
  const ids = rawIds(ds, kind);
  const index = indexOf(ids);
  const texts: (string | undefined)[] = new Array(ids.length).fill(undefined);
  let notInDataset = 0;
  let noneAnswers = 0;
  for (const e of loaded.entries) {
    const dense = loaded.file.idSpace === 'dense' ? Number(e.id) : index.get(e.id);
    if (dense === undefined || !Number.isInteger(dense) || dense < 0 || dense >= ids.length) {
      notInDataset++;
      continue;
    }
    if (usable(e.profile)) texts[dense] = e.profile;
    else noneAnswers++;
  }
  return {
    texts,
    source: { kind: 'profiles', file: loaded.file.path, idSpace: loaded.file.idSpace },
    notInDataset,
    flaggedBroken: loaded.flaggedBroken.length,
    noneAnswers,
  };
}

function titleTexts(ds: Dataset): SideTexts | undefined {
  const table = loadItemTexts(ds);
  if (!table) return undefined;
  const texts = rawIds(ds, 'item').map((id) => {
    const t = table.byId.get(id)?.title;
    return usable(t) ? t : undefined;
  });
  return {
    texts,
    source: { kind: 'titles', file: table.file, column: table.titleColumn },
    notInDataset: 0,
    flaggedBroken: 0,
    noneAnswers: 0,
  };
}

async function createEmbedder(
  io: Io,
  spec: EncoderSpec,
  baseURL: string | undefined,
  dimensions: number | undefined,
  http: { timeoutMs?: number; maxRetries?: number; onProgress: ProgressHandler },
): Promise<{ embedder: Embedder; release: () => Promise<void>; record: Record<string, unknown> }> {
  if (spec.scheme === 'onnx') {
    const openaiOnly = (
      [
        ['--embedding-base-url', baseURL],
        ['--dimensions', dimensions],
        ['--timeout', http.timeoutMs],
        ['--retries', http.maxRetries],
      ] as const
    ).find(([, v]) => v !== undefined)?.[0];
    if (openaiOnly) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: openaiOnly,
        message: `${openaiOnly} applies to openai: encoders only`,
        fix: 'drop it, or use --encoder openai:MODEL',
      });
    }
    const modelDir = resolveModelDir(io, spec.target);
    const embedder = await createOnnxEmbedder({ modelDir });
    return { embedder, release: () => embedder.release(), record: { modelDir } };
  }
  const embedder = createOpenAIEmbedder({ model: spec.model, baseURL, dimensions, ...http }, io.env);
  return {
    embedder,
    release: async () => {},
    record: { baseURL: redactUrl(baseURL ?? 'https://api.openai.com/v1') },
  };
}

/** One matrix to write: a side of the main profiles or of an extra profile variant. */
interface EmbedJob {
  kind: ProfileKind;
  /** 0 for the main profiles, k for extra profile variant k. */
  variant: number;
  texts: SideTexts;
  /** File name in --out. */
  file: string;
  /** Name of its vector cache in --out/cache. */
  cacheName: string;
  result?: EmbedWithCacheResult;
  matrix?: Matrix;
}

interface VariantTexts {
  variant: number;
  user: SideTexts;
  item: SideTexts;
}

/** The texts of every extra profile variant to embed: all found (`--variants all`) or 1..N. */
async function variantTexts(ds: Dataset, profilesPath: string, flag: string): Promise<VariantTexts[]> {
  const isDir = existsSync(profilesPath) && statSync(profilesPath).isDirectory();
  const found = findProfileVariants(profilesPath);
  let wanted: number;
  if (flag === 'all') wanted = found.reduce((m, f) => Math.max(m, f.variant), 0);
  else if (/^[0-9]+$/.test(flag)) wanted = Number(flag);
  else {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: '--variants',
      message: `--variants must be 'all' or a whole number, got '${flag}'`,
      fix: 'pass --variants all (every extra profile variant found), --variants 0 (none) or --variants 3',
    });
  }
  if (wanted > 0 && !isDir) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: '--variants',
      file: profilesPath,
      message: `--variants ${flag}: extra profile variants are read from a folder, but --profiles names one file`,
      fix: 'pass the --out folder of promax profiles --variants N as --profiles, or drop --variants',
    });
  }
  const out: VariantTexts[] = [];
  for (let v = 1; v <= wanted; v++) {
    const files = found.find((f) => f.variant === v);
    const sides = {} as Record<ProfileKind, SideTexts>;
    for (const kind of ['user', 'item'] as const) {
      const file = files?.[kind];
      if (!file) {
        const expected = join(profilesPath, profileOutputFile(kind, v));
        throw new PromaxError({
          code: 'FILE_NOT_FOUND',
          field: '--variants',
          file: expected,
          message:
            `extra profile variant ${v} has no ${kind} profiles: ${expected} is missing` +
            (flag === 'all'
              ? ` (the folder has ${found
                  .map(
                    (f) =>
                      `${Object.keys(f)
                        .filter((k) => k !== 'variant')
                        .join('+')} ${f.variant}`,
                  )
                  .join(', ')}; ProEx needs both sides of every variant 1..${wanted})`
              : ''),
          fix:
            `write them: promax profiles --dataset ${ds.name} --kind ${kind} --variants ${wanted} ... --out ${profilesPath}` +
            `, or embed ${v > 1 ? `variants 1..${v - 1} only (--variants ${v - 1})` : 'the main profiles only (--variants 0)'}`,
        });
      }
      const texts = profileTexts(ds, kind, await readProfileFile(file));
      if (!texts.texts.some((t) => t !== undefined)) {
        throw new PromaxError({
          code: 'INVALID_DATA',
          field: '--profiles',
          file: file.path,
          message: `none of the ${kind} texts in ${file.path} match an id of dataset '${ds.name}'`,
          fix: 'pass the --dataset the profiles were written for',
        });
      }
      sides[kind] = texts;
    }
    out.push({ variant: v, ...sides });
  }
  return out;
}

/** Extra profile files `promax train --embeddings DIR` reads (the loader's names and extensions). */
function loaderVisibleVariants(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^(usr|itm)_emb(_np)?_[1-9][0-9]*\.(npy|pkl|npz)$/.test(n))
    .sort();
}

/**
 * Removes the variant files an earlier run wrote to --out (usr_emb_np_k.npy / itm_emb_np_k.npy)
 * that this run did not write, so --out holds exactly the variants its manifest describes.
 */
function removeStaleVariants(dir: string, written: ReadonlySet<string>): string[] {
  const stale = loaderVisibleVariants(dir).filter(
    (n) => /^(usr|itm)_emb_np_[1-9][0-9]*\.npy$/.test(n) && !written.has(n),
  );
  for (const n of stale) rmSync(join(dir, n), { force: true });
  return stale;
}

function scatter(texts: (string | undefined)[], result: EmbedWithCacheResult): Matrix {
  const dim = result.matrix.cols;
  const data = new Float32Array(texts.length * dim);
  let k = 0;
  texts.forEach((t, row) => {
    if (t === undefined) return;
    data.set(result.matrix.data.subarray(k * dim, (k + 1) * dim), row * dim);
    k++;
  });
  return { rows: texts.length, cols: dim, data };
}

export const embedCommand: Command = {
  summary:
    'embed user/item profiles into usr_emb.npy / itm_emb.npy (dense-id order), extra variants into usr_emb_np_k.npy / itm_emb_np_k.npy',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        profiles: { type: 'string' },
        encoder: { type: 'string' },
        'embedding-base-url': { type: 'string' },
        dimensions: { type: 'string' },
        dataset: { type: 'string' },
        'item-text': { type: 'string', default: 'auto' },
        variants: { type: 'string', default: 'all' },
        out: { type: 'string' },
        timeout: { type: 'string' },
        retries: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const profilesPath = pathIn(io, requireFlag(values.profiles, '--profiles', usage));
    const spec = parseEncoderSpec(requireFlag(values.encoder, '--encoder', usage));
    const outDir = pathIn(io, requireFlag(values.out, '--out', usage));
    const dimensions = positiveIntFlag(values.dimensions, '--dimensions');
    const itemMode: ItemTextMode = choiceFlag(values['item-text'], '--item-text', [
      'auto',
      'profiles',
      'titles',
    ] as const);
    const files = locateProfiles(profilesPath);
    const ds = datasetFor(io, profilesPath, values.dataset);
    const onProgress: ProgressHandler = createJobProgressRenderer(io, {
      quiet: values.quiet,
      verbose: values.verbose,
    });
    const timeout = positiveNumberFlag(values.timeout, '--timeout');
    const http = {
      timeoutMs: timeout === undefined ? undefined : Math.max(1, Math.round(timeout * 1000)),
      maxRetries: nonNegativeIntFlag(values.retries, '--retries'),
      onProgress,
    };

    if (!files.user) {
      throw new PromaxError({
        code: 'FILE_NOT_FOUND',
        field: '--profiles',
        file: profilesPath,
        message: `no user profiles in ${profilesPath}`,
        fix: "generate them (promax profiles --kind user ...) or take the dataset's own (promax profiles --from-existing ...)",
      });
    }
    const sides: Record<ProfileKind, SideTexts> = {
      user: profileTexts(ds, 'user', await readProfileFile(files.user as ProfileFile)),
      item: undefined as unknown as SideTexts,
    };
    const titles = itemMode === 'profiles' ? undefined : titleTexts(ds);
    if (files.item && itemMode !== 'titles')
      sides.item = profileTexts(ds, 'item', await readProfileFile(files.item));
    else if (titles) sides.item = titles;
    else {
      throw new PromaxError({
        code: 'FILE_NOT_FOUND',
        field: '--item-text',
        file: profilesPath,
        message:
          itemMode === 'profiles'
            ? `--item-text profiles: no item profiles in ${profilesPath}`
            : `no item texts: no item profiles in ${profilesPath} and no item table (items.tsv) in dataset '${ds.name}'`,
        fix: 'generate item profiles (promax profiles --kind item ...), or use a dataset with an item title table and --item-text titles',
      });
    }
    for (const kind of ['user', 'item'] as const) {
      if (!sides[kind].texts.some((t) => t !== undefined)) {
        throw new PromaxError({
          code: 'INVALID_DATA',
          field: '--profiles',
          file: sides[kind].source.file,
          message: `none of the ${kind} texts in ${sides[kind].source.file} match an id of dataset '${ds.name}'`,
          fix: 'pass the --dataset the profiles were written for',
        });
      }
    }

    const variants = await variantTexts(ds, profilesPath, values.variants);

    const t0 = performance.now();
    const { embedder, release, record } = await createEmbedder(
      io,
      spec,
      values['embedding-base-url'],
      dimensions,
      http,
    );
    /** Every matrix to write: the main pair, then each variant's pair. */
    const jobs: EmbedJob[] = [
      ...(['user', 'item'] as const).map((kind) => ({
        kind,
        variant: 0,
        texts: sides[kind],
        file: kind === 'user' ? EMBEDDING_FILES.user : EMBEDDING_FILES.item,
        cacheName: `${kind}-${sides[kind].source.kind}`,
      })),
      ...variants.flatMap((v) =>
        (['user', 'item'] as const).map((kind) => ({
          kind,
          variant: v.variant,
          texts: v[kind],
          file: variantEmbeddingFile(kind, v.variant),
          cacheName: `${kind}-profiles-${v.variant}`,
        })),
      ),
    ];
    const interrupt = watchInterrupts(io);
    try {
      for (const job of jobs) {
        const present = job.texts.texts.filter((t): t is string => t !== undefined);
        job.result = await embedWithCache({
          embedder,
          texts: present,
          cacheDir: join(outDir, 'cache'),
          name: job.cacheName,
          onProgress,
          abortSignal: interrupt.signal,
        });
        job.matrix = scatter(job.texts.texts, job.result);
      }
    } catch (e) {
      // The endpoint still failing after its retries: what was embedded is in the cache.
      if (PromaxError.isInstance(e) && e.isRetryable) {
        io.err(
          `error [${e.code}]: ${e.message}\nthe vectors received so far are cached in ${join(outDir, 'cache')}; the same command sends only the rest (exit code ${EXIT.PARTIAL})\n`,
        );
        return EXIT.PARTIAL;
      }
      return interrupt.exitCode(e);
    } finally {
      interrupt.dispose();
      await release();
    }
    const stats = embedder instanceof OpenAIEmbedder ? embedder.requestStats : undefined;
    mkdirSync(outDir, { recursive: true });
    for (const job of jobs) saveEmbeddings(join(outDir, job.file), job.matrix as Matrix);
    const removed = removeStaleVariants(outDir, new Set(jobs.map((j) => j.file)));
    const side = (job: EmbedJob) => {
      const s = job.texts;
      const r = job.result as EmbedWithCacheResult;
      const present = s.texts.filter((t): t is string => t !== undefined);
      return {
        file: job.file,
        textSource: s.source,
        rows: s.texts.length,
        withText: present.length,
        zeroRows: s.texts.length - present.length,
        notInDataset: s.notInDataset,
        flaggedBroken: s.flaggedBroken,
        noneAnswers: s.noneAnswers,
        textsSha256: hashTextList(present).list,
        embedded: r.embedded,
        reused: r.reused,
        tokens: r.usage.tokens,
        cache: join('cache', `${job.cacheName}.manifest.json`),
      };
    };
    const jobOf = (kind: ProfileKind, variant: number) =>
      jobs.find((j) => j.kind === kind && j.variant === variant) as EmbedJob;
    const user = jobOf('user', 0).matrix as Matrix;
    const userIds = rawIds(ds, 'user');
    const itemIds = rawIds(ds, 'item');
    const manifest = {
      format: 'promax-embeddings',
      version: 1,
      createdAt: new Date().toISOString(),
      encoder: {
        spec: values.encoder,
        provider: embedder.provider,
        modelId: embedder.modelId,
        dimensions: user.cols,
        normalized: spec.scheme === 'onnx' ? 'L2 (mean-pooled)' : 'as returned by the endpoint',
        ...record,
      },
      dataset: {
        ...datasetRecord(ds),
        rowOrder: 'dense ids of the dataset (userIds/itemIds order)',
        userIdsSha256: idsSha256(userIds),
        itemIdsSha256: idsSha256(itemIds),
      },
      profiles: profilesPath,
      user: side(jobOf('user', 0)),
      item: side(jobOf('item', 0)),
      variants: variants.map((v) => ({
        variant: v.variant,
        user: side(jobOf('user', v.variant)),
        item: side(jobOf('item', v.variant)),
      })),
      ...(removed.length ? { removedStale: removed } : {}),
      elapsedMs: Math.round(performance.now() - t0),
    };
    writeJson(join(outDir, EMBEDDING_FILES.manifest), manifest);
    const described = [
      { label: '', main: manifest },
      ...manifest.variants.map((v) => ({ label: ` (variant ${v.variant})`, main: v })),
    ];
    for (const { label, main } of described) {
      for (const kind of ['user', 'item'] as const) {
        const s = main[kind];
        if (s.zeroRows > 0) {
          io.err(
            `warning: ${s.zeroRows} of ${s.rows} ${kind}s have no ${s.textSource.kind === 'titles' ? 'title' : 'profile'}${label}: their rows in ${s.file} are zero\n`,
          );
        }
        if (s.notInDataset > 0)
          io.err(
            `warning: ${s.notInDataset} ${kind} profiles${label} name ids outside dataset '${ds.name}' and were skipped\n`,
          );
      }
    }
    for (const f of removed)
      io.err(`removed ${join(outDir, f)}: an extra profile variant this run did not embed\n`);
    const stale = loaderVisibleVariants(outDir).filter((f) => !jobs.some((j) => j.file === f));
    if (stale.length)
      io.err(
        `warning: ${stale.join(', ')} in ${outDir} ${stale.length === 1 ? 'is' : 'are'} read by promax train --embeddings as extra profiles but ${stale.length === 1 ? 'was' : 'were'} not written by this run\n`,
      );
    const desc = (kind: ProfileKind, s: ReturnType<typeof side>, label: string) =>
      `${kind}s${label}: ${s.withText}/${s.rows} from ${s.textSource.kind} (${s.textSource.file}); ${s.embedded} embedded, ${s.reused} from the cache`;
    const lines = described.flatMap(({ label, main }) =>
      (['user', 'item'] as const).map((kind) => desc(kind, main[kind], label)),
    );
    io.out(
      `${embedder.provider}/${embedder.modelId}, ${user.cols}-d, rows in the dense-id order of dataset '${ds.name}'\n${lines.join('\n')}\n` +
        (stats
          ? `${stats.httpRequests} HTTP ${stats.httpRequests === 1 ? 'call' : 'calls'} (${formatRetries(stats.retries, stats.retriesByCause)})\n`
          : '') +
        `wrote ${jobs.map((j) => `${join(outDir, j.file)} (${(j.matrix as Matrix).rows}×${(j.matrix as Matrix).cols})`).join(', ')}, ${EMBEDDING_FILES.manifest} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    return EXIT.OK;
  },
};
