import type { ChatMessage } from '@promax/profiles';

/** A prompt made to fit a token budget. */
export interface FittedPrompt {
  messages: ChatMessage[];
  /** History entries removed (oldest first) to fit. */
  truncated: number;
  /** Entries the history list had before. */
  historyEntries: number;
  /** Tokens of the fitted prompt (as counted by `countTokens`). */
  tokens: number;
}

/**
 * Finds the one-entry-per-line JSON list of a prompt (`[`, rows, `]` on their own lines, as the
 * user-profile prompt renders a HISTORY): the first and last row's line indices.
 */
function listRows(lines: readonly string[]): { first: number; last: number } | undefined {
  const open = lines.indexOf('[');
  if (open < 0) return undefined;
  const close = lines.indexOf(']', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return { first: open + 1, last: close - 1 };
}

function withoutRows(text: string, drop: number): string {
  const lines = text.split('\n');
  const rows = listRows(lines) as { first: number; last: number };
  const kept = lines.slice(rows.first + drop, rows.last + 1);
  // Rows are separated by ",": the new last row must not end with one.
  if (kept.length > 0) kept[kept.length - 1] = (kept[kept.length - 1] as string).replace(/,$/, '');
  return [...lines.slice(0, rows.first), ...kept, ...lines.slice(rows.last + 1)].join('\n');
}

/**
 * Makes a prompt fit `budget` tokens by dropping the oldest history entries (the first rows of
 * the last user message's list) — the fewest that suffice, found by bisection. Returns undefined
 * when even an empty history does not fit (or the prompt has no list to shorten).
 */
export function fitPromptToBudget(
  messages: readonly ChatMessage[],
  budget: number,
  countTokens: (messages: readonly ChatMessage[]) => number,
): FittedPrompt | undefined {
  const full = countTokens(messages);
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  const text = lastUser >= 0 ? (messages[lastUser] as ChatMessage).content : '';
  const rows = listRows(text.split('\n'));
  const n = rows ? rows.last - rows.first + 1 : 0;
  if (full <= budget) return { messages: [...messages], truncated: 0, historyEntries: n, tokens: full };
  if (!rows) return undefined;
  const variant = (drop: number): ChatMessage[] =>
    messages.map((m, i) => (i === lastUser ? { ...m, content: withoutRows(text, drop) } : m));
  let lo = 1;
  let hi = n;
  if (countTokens(variant(hi)) > budget) return undefined;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (countTokens(variant(mid)) <= budget) hi = mid;
    else lo = mid + 1;
  }
  const fitted = variant(lo);
  return { messages: fitted, truncated: lo, historyEntries: n, tokens: countTokens(fitted) };
}
