import { PromaxError } from '@promax/core';
import { z } from 'zod';

/** Price of one model in US dollars per million tokens. */
export const modelPriceSchema = z.strictObject({
  /** Dollars per 1M prompt (input) tokens. */
  inputPerMillion: z.number().nonnegative(),
  /** Dollars per 1M completion (output) tokens. */
  outputPerMillion: z.number().nonnegative(),
  /** Factor applied to Batch API usage (OpenAI bills batches at half price: 0.5). */
  batchFactor: z.number().positive().max(1).default(0.5),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

/** Model name → price; entries here override (or extend) `DEFAULT_PRICES`. */
export const priceTableSchema = z.record(z.string(), modelPriceSchema);
export type PriceTable = z.infer<typeof priceTableSchema>;

/** Retry delays after 429/5xx/timeouts: exponential with seeded jitter. */
export const backoffSettingsSchema = z.strictObject({
  /** Delay before the first retry, in ms. */
  initialMs: z.number().nonnegative().default(1000),
  /** Largest delay between two tries, in ms. */
  maxMs: z.number().nonnegative().default(60_000),
  /** Growth factor per retry. */
  multiplier: z.number().min(1).default(2),
  /** Fraction of each delay drawn at random (0 = none, 1 = anywhere in [0, delay]). */
  jitter: z.number().min(0).max(1).default(0.5),
});
export type BackoffSettings = z.infer<typeof backoffSettingsSchema>;

/** How a large job of chat-completion requests runs. Contains no secrets (API keys live in the client). */
export const jobSettingsSchema = z.strictObject({
  /** Chat model name sent to the endpoint, e.g. `gpt-4o-mini`; part of every prompt hash and store key. */
  model: z.string().min(1),
  /** Sampling temperature (0 for the most repeatable output); null leaves it out (models that reject it). */
  temperature: z.number().min(0).max(2).nullable().default(0),
  /** Output token cap of each request; also counted against the tokens-per-minute limit. */
  maxOutputTokens: z.number().int().positive().default(600),
  /** Request field carrying the cap: `max_tokens` (most servers) or `max_completion_tokens` (newer OpenAI models). */
  maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
  /** Ask the endpoint for JSON mode (`response_format: {type: 'json_object'}`); not every server supports it. */
  responseFormat: z.enum(['text', 'json_object']).default('text'),
  /** Requests in flight at once. */
  concurrency: z.number().int().min(1).max(512).default(4),
  /** Requests started per minute at most (token bucket; bursts up to this many). */
  requestsPerMinute: z.number().positive().default(500),
  /** Estimated prompt + max output tokens per minute at most (token bucket, corrected by reported usage). */
  tokensPerMinute: z.number().positive().default(200_000),
  /** Client-side timeout of one request in ms; a timeout is retried like a 5xx. */
  requestTimeoutMs: z.number().int().positive().default(120_000),
  /** Retries of one request after 429, 5xx, timeouts or network errors (the SDK's own retries are off). */
  maxRetries: z.number().int().min(0).default(6),
  /** Backoff between retries when the server gives no Retry-After. */
  backoff: backoffSettingsSchema.prefault({}),
  /** Longest wait honoured from a Retry-After / retry-after-ms header, in ms. */
  maxRetryAfterMs: z.number().nonnegative().default(120_000),
  /** Follow-up requests asking for valid output after a malformed answer, before a failure is recorded. */
  repairAttempts: z.number().int().min(0).default(1),
  /** Re-request entities whose last stored record is a failure (successes are never re-requested). */
  retryFailed: z.boolean().default(true),
  /** Seed of the jitter random stream (runs are reproducible). */
  seed: z.number().int().default(2025),
  /** Expected completion tokens per request, used by dry-run estimates. */
  expectedCompletionTokens: z.number().int().positive().default(250),
  /** Price overrides by model name (merged over DEFAULT_PRICES). */
  prices: priceTableSchema.optional(),
});
export type JobSettings = z.infer<typeof jobSettingsSchema>;
export type JobSettingsInput = z.input<typeof jobSettingsSchema>;

/** Where the OpenAI-compatible endpoint is and how to authenticate. */
export const endpointSettingsSchema = z.strictObject({
  /** Root URL including `/v1` (default the OpenAI API); any OpenAI-compatible server works. */
  baseURL: z.string().url().optional(),
  /** API key; when absent `OPENAI_API_KEY` is read (in `resolveApiKey` of @promax/core only). Never logged or stored. */
  apiKey: z.string().min(1).optional(),
  /** OpenAI organization id, when the account needs one. */
  organization: z.string().optional(),
  /** Extra HTTP headers for every request (e.g. for a gateway). */
  defaultHeaders: z.record(z.string(), z.string()).optional(),
});
export type EndpointSettings = z.infer<typeof endpointSettingsSchema>;

/** Parses settings with a schema, turning zod issues into one INVALID_CONFIG error naming the fields. */
export function parseSettings<S extends z.ZodType>(schema: S, value: unknown, name: string): z.infer<S> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => {
    const path = i.path.join('.');
    return path ? `${path}: ${i.message}` : i.message;
  });
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    message: `invalid ${name} settings: ${issues.join('; ')}`,
    field: res.error.issues[0]?.path.join('.') || undefined,
    fix: 'check the field names and types against the settings schema (unknown keys are rejected)',
  });
}
