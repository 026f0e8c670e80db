import { type ProgressHandler, PromaxError, resolveApiKey } from '@promax/core';
import type { EmbedCallOptions, EmbedCallResult, Embedder } from './embedder.js';
import { checkPositiveInt, checkSettings } from './settings-check.js';

/** The request body this package sends to an OpenAI-compatible `/embeddings` endpoint. */
export interface EmbeddingsRequestBody {
  model: string;
  input: string[];
  encoding_format: 'base64';
  dimensions?: number;
}

/** What this package reads from an embeddings response (vectors as base64 float32 or plain numbers). */
export interface EmbeddingsResponseLike {
  data: ReadonlyArray<{ embedding: string | readonly number[]; index: number }>;
  usage?: { prompt_tokens?: number; total_tokens?: number } | null;
}

/**
 * The slice of an OpenAI SDK client that the embedder uses, typed structurally so that this
 * package needs no `openai` dependency: pass `new OpenAI({ baseURL, apiKey })` from the CLI, or
 * let `createOpenAIEmbedder` build a small fetch-based client.
 */
export interface EmbeddingsClientLike {
  embeddings: {
    create(
      body: EmbeddingsRequestBody,
      options?: { signal?: AbortSignal | null },
    ): PromiseLike<EmbeddingsResponseLike>;
  };
}

/** Settings of an embedder backed by an OpenAI-compatible embeddings endpoint. */
export interface OpenAIEmbedderSettings {
  /** Embedding model name, e.g. `text-embedding-3-small`. */
  model: string;
  /** Endpoint root including `/v1` (default https://api.openai.com/v1); ignored when `client` is given. */
  baseURL?: string;
  /** API key; when absent the `OPENAI_API_KEY` environment variable is read (see `resolveApiKey` in @promax/core). */
  apiKey?: string;
  /** Requested vector length (models that support shortening, e.g. text-embedding-3-*). */
  dimensions?: number;
  /** Most texts per request (default 2048, the OpenAI limit). */
  maxBatchSize?: number;
  /** An injected client (e.g. `new OpenAI(...)`); preferred over the built-in fetch client. */
  client?: EmbeddingsClientLike;
  /** Built-in client only: request timeout in ms (default 60000). */
  timeoutMs?: number;
  /** Built-in client only: retries on 429/5xx/network errors (default 3). */
  maxRetries?: number;
  /** Built-in client only: first retry delay in ms, doubled each time (default 500). */
  retryBaseMs?: number;
  /** Built-in client only: each retry is a `warning` with code `RETRY_<CAUSE>` (as in @promax/profiles jobs). */
  onProgress?: ProgressHandler;
}

/**
 * Why a call was retried (the same causes and warning codes as the chat jobs of
 * @promax/profiles, so one CLI renderer summarises both).
 */
export type EmbeddingRetryCause = 'rate-limited' | 'server-error' | 'timeout' | 'network' | 'unreadable';

/** What the built-in client has sent so far. */
export interface EmbeddingRequestStats {
  /** HTTP calls, retries included. */
  httpRequests: number;
  retries: number;
  retriesByCause: Record<EmbeddingRetryCause, number>;
}

const retryCode = (cause: EmbeddingRetryCause): string => `RETRY_${cause.toUpperCase().replace('-', '_')}`;

const SETTING_TYPES = {
  model: 'string',
  baseURL: 'string',
  apiKey: 'string',
  dimensions: 'number',
  maxBatchSize: 'number',
  client: 'object',
  timeoutMs: 'number',
  maxRetries: 'number',
  retryBaseMs: 'number',
  onProgress: 'function',
} as const;

const KNOWN_DIMENSIONS: Record<string, number> = {
  'text-embedding-ada-002': 1536,
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
};

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Defaults of the OpenAI-compatible embedder and its built-in client (the CLI's help reads them). */
export const OPENAI_EMBEDDER_DEFAULTS = {
  maxBatchSize: 2048,
  timeoutMs: 60_000,
  maxRetries: 3,
  retryBaseMs: 500,
} as const;

/** Decodes base64 little-endian float32 (the `encoding_format: 'base64'` wire format). */
export function decodeBase64Float32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new PromaxError({
      code: 'INVALID_RESPONSE',
      message: `base64 embedding decodes to ${bytes.length} bytes, not a whole number of float32 values`,
    });
  }
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

const sleep = (ms: number, signal?: AbortSignal | null): Promise<void> =>
  new Promise((resolvePromise, reject) => {
    if (signal?.aborted) {
      reject(new PromaxError({ code: 'ABORTED', message: 'embedding request was aborted' }));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new PromaxError({ code: 'ABORTED', message: 'embedding request was aborted' }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * A minimal fetch-based embeddings client (POST `{baseURL}/embeddings`) with retries on
 * 429/5xx, timeouts, network errors and unreadable bodies, honouring `Retry-After`; each retry
 * is reported through `onProgress` and counted in `stats`. Errors never include the API key.
 */
export function createFetchEmbeddingsClient(options: {
  baseURL: string;
  apiKey: string;
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
  fetch?: typeof fetch;
  onProgress?: ProgressHandler;
}): EmbeddingsClientLike & { readonly stats: EmbeddingRequestStats } {
  const url = `${options.baseURL.replace(/\/+$/, '')}/embeddings`;
  const doFetch = options.fetch ?? fetch;
  const maxRetries = options.maxRetries ?? OPENAI_EMBEDDER_DEFAULTS.maxRetries;
  const baseMs = options.retryBaseMs ?? OPENAI_EMBEDDER_DEFAULTS.retryBaseMs;
  const timeoutMs = options.timeoutMs ?? OPENAI_EMBEDDER_DEFAULTS.timeoutMs;
  const stats: EmbeddingRequestStats = {
    httpRequests: 0,
    retries: 0,
    retriesByCause: { 'rate-limited': 0, 'server-error': 0, timeout: 0, network: 0, unreadable: 0 },
  };
  return {
    stats,
    embeddings: {
      async create(body, requestOptions) {
        const signal = requestOptions?.signal ?? undefined;
        for (let attempt = 0; ; attempt++) {
          let retryAfterMs: number | undefined;
          let failure: PromaxError;
          let cause: EmbeddingRetryCause = 'network';
          stats.httpRequests++;
          try {
            const res = await doFetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
              body: JSON.stringify(body),
              signal: signal
                ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
                : AbortSignal.timeout(timeoutMs),
            });
            const text = await res.text();
            if (res.ok) {
              try {
                return JSON.parse(text) as EmbeddingsResponseLike;
              } catch {
                // A cut-off or garbled body (e.g. a proxy's page) is transient, as in the chat jobs.
                throw new PromaxError({
                  code: 'INVALID_RESPONSE',
                  message: `embeddings endpoint returned non-JSON (${text.slice(0, 200)})`,
                  isRetryable: true,
                  details: { retryCause: 'unreadable' },
                });
              }
            }
            const ra = res.headers.get('retry-after-ms') ?? undefined;
            const rs = res.headers.get('retry-after') ?? undefined;
            if (ra !== undefined && Number.isFinite(Number(ra))) retryAfterMs = Number(ra);
            else if (rs !== undefined && Number.isFinite(Number(rs))) retryAfterMs = Number(rs) * 1000;
            const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
            cause = res.status === 429 ? 'rate-limited' : 'server-error';
            failure = new PromaxError({
              code: res.status === 429 ? 'RATE_LIMITED' : 'API_ERROR',
              message: `embeddings endpoint answered HTTP ${res.status}: ${text.slice(0, 300)}`,
              details: { status: res.status },
              isRetryable: retryable,
            });
          } catch (error) {
            if (PromaxError.isInstance(error)) {
              if (error.details?.retryCause !== 'unreadable') throw error;
              failure = error;
              cause = 'unreadable';
            } else if (signal?.aborted) {
              throw new PromaxError({
                code: 'ABORTED',
                message: 'embedding request was aborted',
                cause: error,
              });
            } else {
              const timedOut = (error as Error).name === 'TimeoutError';
              cause = timedOut ? 'timeout' : 'network';
              failure = new PromaxError({
                code: 'API_ERROR',
                message: timedOut
                  ? `embeddings request timed out after ${timeoutMs} ms`
                  : `embeddings request failed: ${(error as Error).message}`,
                isRetryable: true,
                cause: error,
              });
            }
          }
          if (!failure.isRetryable || attempt >= maxRetries) throw failure;
          const delay = retryAfterMs ?? baseMs * 2 ** attempt;
          stats.retries++;
          stats.retriesByCause[cause]++;
          options.onProgress?.({
            type: 'warning',
            code: retryCode(cause),
            message: `embeddings: ${failure.message.slice(0, 200)}; retry ${attempt + 1}/${maxRetries} in ${Math.round(delay)} ms`,
          });
          await sleep(delay, signal);
        }
      },
    },
  };
}

/** An embedder backed by an OpenAI-compatible `/embeddings` endpoint (base64 responses). */
export class OpenAIEmbedder implements Embedder {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai-compatible';
  readonly modelId: string;
  readonly maxBatchSize: number;
  private dims: number | undefined;

  constructor(
    private readonly client: EmbeddingsClientLike & { readonly stats?: EmbeddingRequestStats },
    private readonly settings: { model: string; dimensions?: number; maxBatchSize: number },
  ) {
    this.modelId = settings.dimensions ? `${settings.model}@${settings.dimensions}` : settings.model;
    this.maxBatchSize = settings.maxBatchSize;
    this.dims = settings.dimensions ?? KNOWN_DIMENSIONS[settings.model];
  }

  get dimensions(): number | undefined {
    return this.dims;
  }

  /** HTTP calls and retries so far (built-in client only; undefined for an injected client). */
  get requestStats(): EmbeddingRequestStats | undefined {
    return this.client.stats;
  }

  async doEmbed({ texts, abortSignal }: EmbedCallOptions): Promise<EmbedCallResult> {
    if (texts.length > this.maxBatchSize) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `doEmbed got ${texts.length} texts, more than maxBatchSize ${this.maxBatchSize}`,
        fix: 'call embedMany, which splits the texts into batches',
      });
    }
    if (texts.length === 0) return { embeddings: [], usage: { tokens: 0 } };
    const body: EmbeddingsRequestBody = {
      model: this.settings.model,
      input: [...texts],
      encoding_format: 'base64',
    };
    if (this.settings.dimensions !== undefined) body.dimensions = this.settings.dimensions;
    const res = await this.client.embeddings.create(body, { signal: abortSignal });
    if (!res || !Array.isArray(res.data) || res.data.length !== texts.length) {
      throw new PromaxError({
        code: 'INVALID_RESPONSE',
        message: `embeddings endpoint returned ${Array.isArray(res?.data) ? res.data.length : 'no'} vectors for ${texts.length} texts`,
      });
    }
    const embeddings: Float32Array[] = new Array(texts.length);
    for (const item of res.data) {
      const v =
        typeof item.embedding === 'string'
          ? decodeBase64Float32(item.embedding)
          : Float32Array.from(item.embedding);
      if (
        !(Number.isInteger(item.index) && item.index >= 0 && item.index < texts.length) ||
        embeddings[item.index]
      ) {
        throw new PromaxError({
          code: 'INVALID_RESPONSE',
          message: `embeddings endpoint returned a bad or repeated index ${item.index}`,
        });
      }
      if (this.dims === undefined) this.dims = v.length;
      if (v.length !== this.dims) {
        throw new PromaxError({
          code: 'INVALID_RESPONSE',
          message: `embeddings endpoint returned a ${v.length}-d vector, expected ${this.dims}`,
          fix: 'check the dimensions setting against the model',
        });
      }
      embeddings[item.index] = v;
    }
    return { embeddings, usage: { tokens: res.usage?.prompt_tokens ?? res.usage?.total_tokens ?? 0 } };
  }
}

/** Creates an embedder for any OpenAI-compatible embeddings endpoint. */
export function createOpenAIEmbedder(
  settings: OpenAIEmbedderSettings,
  env: NodeJS.ProcessEnv = process.env,
): OpenAIEmbedder {
  checkSettings(settings, 'OpenAI embedder', SETTING_TYPES, ['model']);
  checkPositiveInt(settings.dimensions, 'dimensions');
  checkPositiveInt(settings.maxBatchSize, 'maxBatchSize');
  const client =
    settings.client ??
    createFetchEmbeddingsClient({
      baseURL: settings.baseURL ?? DEFAULT_BASE_URL,
      apiKey: resolveApiKey(settings, env),
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      retryBaseMs: settings.retryBaseMs,
      onProgress: settings.onProgress,
    });
  return new OpenAIEmbedder(client, {
    model: settings.model,
    dimensions: settings.dimensions,
    maxBatchSize: settings.maxBatchSize ?? OPENAI_EMBEDDER_DEFAULTS.maxBatchSize,
  });
}
