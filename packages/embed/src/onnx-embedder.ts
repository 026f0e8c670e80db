import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { PromaxError } from '@promax/core';
import { type EngineOptions, int64Tensor } from '@promax/tensor';
import * as ort from 'onnxruntime-node';
import { type EmbedCallOptions, type EmbedCallResult, type Embedder, throwIfAborted } from './embedder.js';
import { l2NormalizeRowsImpl, meanPoolImpl } from './pooling.js';
import { checkPositiveInt, checkSettings } from './settings-check.js';
import { type Encoding, loadWordPieceTokenizer, type WordPieceTokenizer } from './wordpiece-tokenizer.js';

/** Settings of the local ONNX sentence encoder. */
export interface OnnxEmbedderSettings {
  /** Local model folder holding the ONNX file and `tokenizer.json` (or `vocab.txt`). Never downloaded. */
  modelDir: string;
  /** ONNX file inside `modelDir` (default: `model.onnx`, else `onnx/model.onnx`). */
  modelFile?: string;
  /** Name recorded as `modelId` (default: the folder name); part of the cache identity. */
  modelId?: string;
  /** Longest token sequence incl. [CLS]/[SEP] (default: from the folder's configs, else 512). */
  maxLength?: number;
  /**
   * Texts per onnxruntime run, after sorting by length to limit padding (default 16: the fastest
   * of 16/32/64 for MiniLM on a 2-core CPU, see bench/embed-bench.mjs).
   */
  runBatchSize?: number;
  /** Most texts per `doEmbed` call (default 1024). */
  maxBatchSize?: number;
  /** L2-normalise the pooled vectors (default true, as sentence-transformers' Normalize module). */
  normalize?: boolean;
  /** Hidden-state output to pool (default `last_hidden_state`, else the first output). */
  outputName?: string;
  /** onnxruntime execution providers and threads. */
  engine?: EngineOptions;
}

const SETTING_TYPES = {
  modelDir: 'string',
  modelFile: 'string',
  modelId: 'string',
  maxLength: 'number',
  runBatchSize: 'number',
  maxBatchSize: 'number',
  normalize: 'boolean',
  outputName: 'string',
  engine: 'object',
} as const;

function findModelFile(dir: string, file?: string): string {
  const candidates = file
    ? [isAbsolute(file) ? file : join(dir, file)]
    : [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')];
  const hit = candidates.find((c) => existsSync(c));
  if (!hit) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      message: `no ONNX model at ${candidates.join(' or ')}`,
      file: candidates[0],
      fix: 'export the encoder to ONNX into the model folder (tools/export-minilm-onnx.py) or set modelFile',
    });
  }
  return hit;
}

/**
 * A sentence encoder running locally on onnxruntime-node: WordPiece tokenisation, the
 * transformer, mean pooling over the attention mask, L2 normalisation.
 */
export class OnnxEmbedder implements Embedder {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'onnx';
  readonly modelId: string;
  readonly maxBatchSize: number;
  readonly tokenizer: WordPieceTokenizer;
  private dims: number | undefined;

  constructor(
    private readonly session: ort.InferenceSession,
    tokenizer: WordPieceTokenizer,
    private readonly options: {
      modelId: string;
      maxBatchSize: number;
      runBatchSize: number;
      normalize: boolean;
      outputName: string;
      dimensions: number | undefined;
    },
  ) {
    this.tokenizer = tokenizer;
    this.modelId = options.modelId;
    this.maxBatchSize = options.maxBatchSize;
    this.dims = options.dimensions;
  }

  get dimensions(): number | undefined {
    return this.dims;
  }

  async doEmbed({ texts, abortSignal }: EmbedCallOptions): Promise<EmbedCallResult> {
    if (texts.length > this.maxBatchSize) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `doEmbed got ${texts.length} texts, more than maxBatchSize ${this.maxBatchSize}`,
        fix: 'call embedMany, which splits the texts into batches',
      });
    }
    const encodings: Encoding[] = texts.map((t) => this.tokenizer.encode(t));
    // Sorting by length keeps padding (wasted compute) small inside each run.
    const order = encodings
      .map((_, i) => i)
      .sort((a, b) => (encodings[b]?.ids.length ?? 0) - (encodings[a]?.ids.length ?? 0));
    const embeddings: Float32Array[] = new Array(texts.length);
    let tokens = 0;
    for (let start = 0; start < order.length; start += this.options.runBatchSize) {
      throwIfAborted(abortSignal, 'ONNX embedding');
      const idx = order.slice(start, start + this.options.runBatchSize);
      const batch = this.tokenizer.pad(idx.map((i) => encodings[i] as Encoding));
      for (const n of batch.lengths) tokens += n;
      const pooled = await this.runBatch(batch);
      const dim = pooled.length / idx.length;
      idx.forEach((i, k) => {
        embeddings[i] = pooled.slice(k * dim, (k + 1) * dim);
      });
    }
    return { embeddings, usage: { tokens } };
  }

  private async runBatch(batch: ReturnType<WordPieceTokenizer['pad']>): Promise<Float32Array> {
    const dims = [batch.batch, batch.seqLength];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(batch.inputIds, dims),
      attention_mask: int64Tensor(batch.attentionMask, dims),
    };
    if (this.session.inputNames.includes('token_type_ids'))
      feeds.token_type_ids = int64Tensor(batch.tokenTypeIds, dims);
    for (const name of this.session.inputNames) {
      if (!(name in feeds)) {
        throw new PromaxError({
          code: 'UNSUPPORTED_FORMAT',
          message: `the ONNX encoder needs an input '${name}' this embedder does not provide`,
          fix: 'export the encoder with inputs input_ids, attention_mask and optionally token_type_ids',
        });
      }
    }
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds, [this.options.outputName]);
    } catch (cause) {
      throw new PromaxError({
        code: 'ENGINE_ERROR',
        message: `onnxruntime failed: ${(cause as Error).message}`,
        cause,
      });
    }
    const t = out[this.options.outputName] as ort.Tensor;
    if (t.type !== 'float32') {
      throw new PromaxError({
        code: 'UNSUPPORTED_FORMAT',
        message: `encoder output '${this.options.outputName}' is ${t.type}, expected float32`,
      });
    }
    const data = t.data as Float32Array;
    let pooled: Float32Array;
    let dim: number;
    if (t.dims.length === 3 && t.dims[0] === batch.batch && t.dims[1] === batch.seqLength) {
      dim = t.dims[2] as number;
      pooled = meanPoolImpl(data, batch.attentionMask, batch.batch, batch.seqLength, dim);
    } else if (t.dims.length === 2 && t.dims[0] === batch.batch) {
      // Already pooled by the graph (a sentence_embedding output).
      dim = t.dims[1] as number;
      pooled = Float32Array.from(data);
    } else {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        message: `encoder output '${this.options.outputName}' has shape [${t.dims.join(', ')}], expected [${batch.batch}, ${batch.seqLength}, dim] or [${batch.batch}, dim]`,
      });
    }
    if (this.dims === undefined) this.dims = dim;
    else if (this.dims !== dim) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        message: `encoder produced ${dim}-d vectors, expected ${this.dims}`,
      });
    }
    if (this.options.normalize) l2NormalizeRowsImpl(pooled, batch.batch, dim);
    return pooled;
  }

  /** Frees the onnxruntime session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Loads a local ONNX sentence encoder (files only; nothing is fetched). */
export async function createOnnxEmbedder(settings: OnnxEmbedderSettings): Promise<OnnxEmbedder> {
  checkSettings(settings, 'ONNX embedder', SETTING_TYPES, ['modelDir']);
  checkPositiveInt(settings.maxLength, 'maxLength');
  checkPositiveInt(settings.runBatchSize, 'runBatchSize');
  checkPositiveInt(settings.maxBatchSize, 'maxBatchSize');
  const dir = resolve(settings.modelDir);
  if (!existsSync(dir)) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      message: `model folder ${dir} does not exist`,
      file: dir,
      fix: 'export a model first (tools/export-minilm-onnx.py) or set PROMAX_MODELS_DIR in the CLI',
    });
  }
  const tokenizer = loadWordPieceTokenizer(dir, { maxLength: settings.maxLength });
  const file = findModelFile(dir, settings.modelFile);
  const engine = settings.engine ?? {};
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: (engine.executionProviders ?? ['cpu']) as string[],
    graphOptimizationLevel: engine.graphOptimizationLevel ?? 'all',
    logSeverityLevel: 3,
  };
  if (engine.intraOpNumThreads !== undefined) opts.intraOpNumThreads = engine.intraOpNumThreads;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, opts);
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: `onnxruntime cannot load the model: ${(cause as Error).message}`,
      file,
      cause,
    });
  }
  const outputName =
    settings.outputName ??
    (session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0]);
  const outputIndex = session.outputNames.indexOf(outputName ?? '');
  if (outputName === undefined || outputIndex < 0) {
    await session.release();
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      message: `the model has no output '${String(outputName)}' (outputs: ${session.outputNames.join(', ')})`,
      field: 'outputName',
    });
  }
  const meta = session.outputMetadata[outputIndex];
  const last = meta?.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
  const embedder = new OnnxEmbedder(session, tokenizer, {
    modelId: settings.modelId ?? basename(dir),
    maxBatchSize: settings.maxBatchSize ?? 1024,
    runBatchSize: settings.runBatchSize ?? 16,
    normalize: settings.normalize ?? true,
    outputName,
    dimensions: typeof last === 'number' && last > 0 ? last : undefined,
  });
  // Learn the width from one tiny run when the graph does not declare it.
  if (embedder.dimensions === undefined) await embedder.doEmbed({ texts: [''] });
  return embedder;
}
