import { type ChatJobSummary, RETRY_CAUSES, type RetryCause } from '@promax/profiles';
import { formatUsd } from './cli-args.js';

/** How each retry cause reads in a summary line. */
export const RETRY_CAUSE_WORDS: Record<RetryCause, string> = {
  'rate-limited': 'rate-limited (429)',
  'server-error': 'server error (5xx)',
  timeout: 'timed out',
  network: 'network error',
  unreadable: 'unreadable body',
};

/** "12 retries: 8 rate-limited (429), 4 timed out" (causes with a count only). */
export function formatRetries(total: number, byCause: Partial<Record<RetryCause, number>>): string {
  const parts = RETRY_CAUSES.filter((c) => (byCause[c] ?? 0) > 0).map(
    (c) => `${byCause[c]} ${RETRY_CAUSE_WORDS[c]}`,
  );
  return `${total} ${total === 1 ? 'retry' : 'retries'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/**
 * One line about an LLM job, in entities (one per prompt) and HTTP calls (first calls, retries
 * and repairs): "30 users: 10 from the store, 18 answered now, 2 failed; 27 HTTP calls (20 first
 * calls, 5 retries: 5 rate-limited (429); 2 repairs); 1200+800 tokens, $0.0012".
 */
export function formatJobSummary(s: ChatJobSummary, unit: string): string {
  const first = s.httpRequests - s.retries - s.repairs;
  return (
    `${s.unique} ${unit}: ${s.alreadyStored} from the store, ${s.succeeded} answered now, ${s.failed} failed` +
    `${s.previouslyFailed ? `, ${s.previouslyFailed} failed before (not retried)` : ''}; ` +
    `${s.httpRequests} HTTP ${s.httpRequests === 1 ? 'call' : 'calls'} (${first} first, ${formatRetries(s.retries, s.retriesByCause)}; ` +
    `${s.repairs} ${s.repairs === 1 ? 'repair' : 'repairs'}); ` +
    `${s.usage.promptTokens}+${s.usage.completionTokens} tokens, ${formatUsd(s.costUsd, s.model)}`
  );
}
