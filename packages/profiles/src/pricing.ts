import type { ModelPrice, PriceTable } from './settings.js';

/**
 * List prices in US dollars per million tokens at the time of writing (check your provider's
 * page and override through `JobSettings.prices`). Batch API usage is billed at `batchFactor`.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-3.5-turbo': { inputPerMillion: 0.5, outputPerMillion: 1.5, batchFactor: 0.5 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6, batchFactor: 0.5 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10, batchFactor: 0.5 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4, batchFactor: 0.5 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6, batchFactor: 0.5 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8, batchFactor: 0.5 },
};

/** Token counts as reported by the endpoint (or estimated). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export function addUsage(into: TokenUsage, u: TokenUsage): void {
  into.promptTokens += u.promptTokens;
  into.completionTokens += u.completionTokens;
}

/** The price of a model: an override, else the default, else a dated snapshot name's base model. */
export function priceOf(model: string, overrides?: PriceTable): ModelPrice | undefined {
  const table: Record<string, ModelPrice> = { ...DEFAULT_PRICES, ...(overrides ?? {}) };
  if (table[model]) return table[model];
  // "gpt-4o-mini-2024-07-18" → "gpt-4o-mini"
  const base = model.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  return table[base];
}

/** Dollars for a usage; `undefined` when the model has no price. */
export function costUsd(usage: TokenUsage, price: ModelPrice | undefined, batch = false): number | undefined {
  if (!price) return undefined;
  const dollars =
    (usage.promptTokens * price.inputPerMillion + usage.completionTokens * price.outputPerMillion) / 1e6;
  return batch ? dollars * price.batchFactor : dollars;
}

/**
 * Rough token count of a text without a tokenizer: one token per 4 characters (the English
 * average of GPT tokenizers). Used for rate limits and dry-run estimates.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated prompt tokens of a chat request (content + per-message overhead). */
export function estimateMessageTokens(messages: readonly { content: string }[]): number {
  let n = 3;
  for (const m of messages) n += 4 + estimateTokens(m.content);
  return n;
}
