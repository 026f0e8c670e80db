import { type Matrix, type ProgressHandler, PromaxError } from '@promax/core';

/** Token usage reported by one embedding call (0 when the backend does not say). */
export interface EmbeddingUsage {
  tokens: number;
}

export interface EmbedCallOptions {
  /** Texts to embed; at most `maxBatchSize` of them. */
  texts: readonly string[];
  abortSignal?: AbortSignal;
}

export interface EmbedCallResult {
  /** One vector per text, in input order, each of length `dimensions`. */
  embeddings: Float32Array[];
  usage: EmbeddingUsage;
}

/**
 * Version 1 of the text-embedding spec. Implementations are created by factories
 * (`createOpenAIEmbedder`, `createOnnxEmbedder`); callers usually go through `embedMany` or
 * `embedWithCache`, which split work into batches of `maxBatchSize`.
 */
export interface Embedder {
  readonly specificationVersion: 'v1';
  /** Backend family, e.g. `openai-compatible` or `onnx`; part of the cache identity. */
  readonly provider: string;
  /** Model identity, part of the cache identity (changing it re-embeds everything). */
  readonly modelId: string;
  /** Vector length; `undefined` only until the first call when the backend does not announce it. */
  readonly dimensions: number | undefined;
  /** Most texts accepted by one `doEmbed` call. */
  readonly maxBatchSize: number;
  doEmbed(options: EmbedCallOptions): Promise<EmbedCallResult>;
}

export interface EmbedManyOptions {
  abortSignal?: AbortSignal;
  onProgress?: ProgressHandler;
  /** Progress task name (default 'embed'). */
  task?: string;
}

export interface EmbedManyResult {
  /** Row i is the vector of texts[i]. */
  matrix: Matrix;
  usage: EmbeddingUsage;
}

/** Throws ABORTED when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new PromaxError({ code: 'ABORTED', message: `${what} was aborted`, cause: signal.reason });
  }
}

/** Embeds any number of texts in batches of `embedder.maxBatchSize` into one row-major matrix. */
export async function embedMany(
  embedder: Embedder,
  texts: readonly string[],
  options: EmbedManyOptions = {},
): Promise<EmbedManyResult> {
  const task = options.task ?? 'embed';
  const onProgress = options.onProgress;
  const started = Date.now();
  onProgress?.({ type: 'task-start', task, total: texts.length, unit: 'texts' });
  let data: Float32Array | undefined;
  let cols = embedder.dimensions ?? 0;
  let tokens = 0;
  const step = Math.max(1, embedder.maxBatchSize);
  for (let start = 0; start < texts.length; start += step) {
    throwIfAborted(options.abortSignal, 'embedding');
    const batch = texts.slice(start, start + step);
    const out = await embedder.doEmbed({ texts: batch, abortSignal: options.abortSignal });
    if (out.embeddings.length !== batch.length) {
      throw new PromaxError({
        code: 'INVALID_RESPONSE',
        message: `embedder ${embedder.modelId} returned ${out.embeddings.length} vectors for ${batch.length} texts`,
      });
    }
    for (let k = 0; k < out.embeddings.length; k++) {
      const v = out.embeddings[k] as Float32Array;
      if (data === undefined) {
        cols = v.length;
        data = new Float32Array(texts.length * cols);
      }
      if (v.length !== cols) {
        throw new PromaxError({
          code: 'INVALID_RESPONSE',
          message: `embedder ${embedder.modelId} returned a vector of length ${v.length}, expected ${cols}`,
          details: { index: start + k },
        });
      }
      data.set(v, (start + k) * cols);
    }
    tokens += out.usage.tokens;
    onProgress?.({
      type: 'task-progress',
      task,
      done: start + batch.length,
      total: texts.length,
      unit: 'texts',
    });
  }
  onProgress?.({ type: 'task-end', task, done: texts.length, elapsedMs: Date.now() - started });
  return { matrix: { rows: texts.length, cols, data: data ?? new Float32Array(0) }, usage: { tokens } };
}
