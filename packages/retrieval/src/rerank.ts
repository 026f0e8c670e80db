/** What a re-ranker is asked: pick `n` of `candidates` (best first) for `user`. */
export interface RerankRequest {
  user: number;
  /** Candidate item ids in retrieval order (best first). */
  candidates: number[];
  /** How many items to return. */
  n: number;
  /** The user's train items (ascending ids). */
  history: number[];
  /** The run's seed, for re-rankers that sample. */
  seed: number;
  signal?: AbortSignal;
}

/**
 * Chooses items for one user, e.g. an LLM re-ranker built by the CLI from @promax/profiles.
 * Its answer is validated: ids outside `candidates` and duplicates are dropped, a short answer
 * is filled from the retrieval order, and a thrown error is recorded and filled the same way.
 * It is not called for users without candidates (their quota is reported as shortfall).
 */
export type Reranker = (request: RerankRequest) => Promise<readonly number[]>;

/** One user whose re-ranker answer needed repair. */
export interface RerankIssue {
  user: number;
  /** Ids the re-ranker returned that were not candidates (or not integers). */
  invalidIds: number[];
  /** Ids returned more than once (each repeat counted once). */
  duplicateIds: number[];
  /** Items taken from the retrieval order to reach n. */
  filled: number;
  /** Items returned beyond n (ignored). */
  extra: number;
  /** The re-ranker's error message when it threw. */
  error?: string;
}

/**
 * Repairs a re-ranker answer against the candidate list. Returns the chosen items (≤ n, only
 * candidates, no duplicates, the re-ranker's order first) and the issue found, if any.
 */
export function validateRerankAnswer(
  user: number,
  answer: readonly unknown[] | undefined,
  candidates: readonly number[],
  n: number,
  error?: string,
): { items: number[]; issue?: RerankIssue } {
  const allowed = new Set(candidates);
  const chosen: number[] = [];
  const taken = new Set<number>();
  const invalidIds: number[] = [];
  const duplicateIds: number[] = [];
  let extra = 0;
  for (const raw of answer ?? []) {
    const id = typeof raw === 'number' ? raw : Number.NaN;
    if (!Number.isInteger(id) || !allowed.has(id)) {
      invalidIds.push(typeof raw === 'number' ? raw : Number.NaN);
      continue;
    }
    if (taken.has(id)) {
      duplicateIds.push(id);
      continue;
    }
    if (chosen.length >= n) {
      extra++;
      continue;
    }
    taken.add(id);
    chosen.push(id);
  }
  let filled = 0;
  for (let j = 0; j < candidates.length && chosen.length < n; j++) {
    if (taken.has(candidates[j])) continue;
    taken.add(candidates[j]);
    chosen.push(candidates[j]);
    filled++;
  }
  const ok =
    error === undefined &&
    invalidIds.length === 0 &&
    duplicateIds.length === 0 &&
    filled === 0 &&
    extra === 0;
  return ok
    ? { items: chosen }
    : { items: chosen, issue: { user, invalidIds, duplicateIds, filled, extra, error } };
}
