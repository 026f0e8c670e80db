import { createHash } from 'node:crypto';
import {
  type ChatJobSummary,
  type Domain,
  type RerankInput,
  type RerankOptions,
  rerankCandidates,
} from '@promax/profiles';
import type { Reranker, RerankRequest } from './rerank.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The adapter between `buildAugmentedGraph`, which calls a `Reranker` once per user, and
 * `rerankCandidates`, which runs one resumable, rate-limited job over many users with string
 * ids. Calling `rerankCandidates` per user would give every call its own rate limiter (so the
 * limits would not hold across concurrent calls) and its own run manifest; instead the builder
 * runs twice: a recording pass collects every user's request (answering with the retrieval
 * order), one LLM job answers them all, and a replay pass hands each user its answer. The
 * builder is deterministic, so both passes see the same candidate lists; any difference would
 * still be caught by its own answer validation.
 */
export function recordingReranker(): { rerank: Reranker; requests: RerankRequest[] } {
  const requests: RerankRequest[] = [];
  return {
    requests,
    rerank: async (r) => {
      requests.push({ ...r, candidates: [...r.candidates], history: [...r.history], signal: undefined });
      return r.candidates.slice(0, r.n);
    },
  };
}

/** Texts the LLM sees, by original id. */
export interface RerankTexts {
  userIds: readonly string[];
  itemIds: readonly string[];
  titles: ReadonlyMap<string, string>;
  itemProfiles: ReadonlyMap<string, string>;
  userProfiles: ReadonlyMap<string, string>;
  domain: Domain;
}

/** One re-ranking prompt input per recorded request: original ids, titles, profiles. */
export function rerankInputs(requests: readonly RerankRequest[], texts: RerankTexts): RerankInput[] {
  const title = (j: number): string => {
    const raw = texts.itemIds[j] as string;
    return texts.titles.get(raw) || `item ${raw}`;
  };
  return requests.map((r) => {
    const uid = texts.userIds[r.user] as string;
    return {
      userId: uid,
      userProfile: texts.userProfiles.get(uid) ?? null,
      history: r.history.map(title),
      candidates: r.candidates.map((j) => {
        const raw = texts.itemIds[j] as string;
        return { id: raw, title: title(j), profile: texts.itemProfiles.get(raw) ?? null };
      }),
      n: r.n,
      domain: texts.domain,
    };
  });
}

export interface LlmRerankResult {
  /** Replays the LLM's answers (dense item ids) to the builder; a failed user throws, so the builder records it and fills from the retrieval order. */
  rerank: Reranker;
  summary: ChatJobSummary;
  /** sha256 of the sorted prompt hashes of all requests: identifies the prompts of this A′. */
  promptsSha256: string;
  failures: number;
}

/** Answers all recorded requests in one `rerankCandidates` job and returns the replaying `Reranker`. */
export async function runLlmRerank(
  requests: readonly RerankRequest[],
  texts: RerankTexts,
  options: RerankOptions,
): Promise<LlmRerankResult> {
  const itemIndex = new Map<string, number>();
  texts.itemIds.forEach((id, j) => {
    itemIndex.set(id, j);
  });
  const { results, summary } = await rerankCandidates(rerankInputs(requests, texts), options);
  const answers = new Map<number, number[] | { error: string }>();
  let failures = 0;
  results.forEach((res, k) => {
    const user = (requests[k] as RerankRequest).user;
    if (res.ids)
      answers.set(
        user,
        res.ids.map((id) => itemIndex.get(id) ?? Number.NaN),
      );
    else {
      failures++;
      answers.set(user, { error: res.error ? `${res.error.code}: ${res.error.message}` : 'no answer' });
    }
  });
  const rerank: Reranker = async ({ user }) => {
    const a = answers.get(user);
    if (a === undefined) throw new Error('no LLM answer was recorded for this user');
    if (!Array.isArray(a)) throw new Error(`LLM re-ranking failed: ${a.error}`);
    return a;
  };
  const promptsSha256 = sha256(
    results
      .map((r) => r.promptHash)
      .sort()
      .join('\n'),
  );
  return { rerank, summary, promptsSha256, failures };
}
