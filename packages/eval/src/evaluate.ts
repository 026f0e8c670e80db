import { type CsrMatrix, type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import type { EngineOptions } from '@promax/tensor';
import { MetricAccumulator, normaliseKs } from './metrics.js';
import { checkShapes, TopKScorer } from './topk-kernel.js';

export interface EvaluateInput {
  /** User embeddings, one row per user (row-major float32). */
  userEmb: Matrix;
  /** Item embeddings, one row per item. */
  itemEmb: Matrix;
  /** Train matrix (users × items): these items are masked out of each user's ranking. */
  train: CsrMatrix;
  /** Held-out matrix (validation or test). Only users with ≥ 1 held-out item are evaluated. */
  heldOut: CsrMatrix;
}

export interface EvaluateOptions {
  /** Cutoffs (default [5, 10, 20]). */
  ks?: readonly number[];
  /** Users per ONNX call (default 1024). */
  chunkUsers?: number;
  engine?: EngineOptions;
  onProgress?: ProgressHandler;
}

export interface EvaluateResult {
  /** Number of evaluated users (those with at least one held-out item). */
  users: number;
  /** Held-out entries that are also train entries (masked, so they can never be hit). */
  overlap: { entries: number; users: number };
  /** Problems worth telling the user about (also emitted as `warning` events). */
  warnings: string[];
  /** Means over users: `recall@K`, `ndcg@K`, `precision@K`, `hit@K`, `mrr@K`. */
  metrics: Record<string, number>;
  evalMs: number;
}

/**
 * Full-ranking evaluation (method.md §7): all items scored by ⟨user, item⟩, the user's train
 * items masked, top-K by score with ties broken by lower item index.
 * Reuse one `RankingEvaluator` across calls to keep its compiled graph.
 */
export class RankingEvaluator {
  private readonly scorer: TopKScorer;
  private readonly ks: number[];

  constructor(private readonly options: EvaluateOptions = {}) {
    this.ks = normaliseKs(options.ks ?? [5, 10, 20]);
    this.scorer = new TopKScorer({ engine: options.engine, chunkUsers: options.chunkUsers });
  }

  async evaluate(input: EvaluateInput): Promise<EvaluateResult> {
    const t0 = performance.now();
    const { userEmb, itemEmb, train, heldOut } = input;
    checkShapes(userEmb, itemEmb, train);
    if (heldOut.rows !== train.rows || heldOut.cols !== train.cols) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: 'heldOut',
        message: `held-out matrix is ${heldOut.rows}×${heldOut.cols} but the train matrix is ${train.rows}×${train.cols}`,
        fix: 'pass splits of the same dataset',
      });
    }
    const maxK = this.ks[this.ks.length - 1];
    const users: number[] = [];
    for (let u = 0; u < heldOut.rows; u++) if (heldOut.indptr[u + 1] > heldOut.indptr[u]) users.push(u);
    if (users.length === 0) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        field: 'heldOut',
        message: `the held-out matrix has no entries: no user of ${heldOut.rows} can be evaluated, and metrics over none would read as 0`,
        fixFor: { cli: 'pass a non-empty --test split', library: 'pass a non-empty heldOut matrix' },
      });
    }
    const overlap = countOverlap(train, heldOut);
    const warnings: string[] = [];
    if (overlap.entries > 0) {
      const nnz = heldOut.indptr[heldOut.rows];
      if (overlap.entries === nnz) {
        throw new PromaxError({
          code: 'SPLIT_OVERLAP',
          field: 'heldOut',
          message: `every one of the ${nnz} held-out entries is also a train entry: train items are masked from the ranking, so every metric would be 0`,
          fixFor: {
            cli: 'pass the held-out split with --test and the train split with --train (not the same file twice)',
            library: 'pass disjoint train and heldOut matrices',
          },
          details: overlap,
        });
      }
      warnings.push(
        `${overlap.entries} of ${nnz} held-out entries (${overlap.users} users) are also train entries; they are masked and count as misses`,
      );
    }
    if (maxK > itemEmb.rows) {
      warnings.push(
        `cutoff K=${maxK} exceeds the ${itemEmb.rows} items: rankings hold at most ${itemEmb.rows} items, so metrics at K ≥ ${itemEmb.rows} see the same list`,
      );
    }
    for (const message of warnings)
      this.options.onProgress?.({ type: 'warning', code: 'EVALUATION', message });
    const acc = new MetricAccumulator(this.ks, itemEmb.rows);
    const relevant = new Uint8Array(itemEmb.rows);
    const isRelevant = (i: number): boolean => relevant[i] === 1;
    const task = 'evaluate';
    this.options.onProgress?.({ type: 'task-start', task, total: users.length, unit: 'users' });
    await this.scorer.forEachTopK({
      userEmb,
      itemEmb,
      users: Int32Array.from(users),
      k: maxK,
      exclude: train,
      visit: (u, items, _scores, count) => {
        const s = heldOut.indptr[u];
        const e = heldOut.indptr[u + 1];
        for (let p = s; p < e; p++) relevant[heldOut.indices[p]] = 1;
        acc.addUser(items, count, isRelevant, e - s);
        for (let p = s; p < e; p++) relevant[heldOut.indices[p]] = 0;
      },
      onChunk: (done, total) =>
        this.options.onProgress?.({ type: 'task-progress', task, done, total, unit: 'users' }),
    });
    const evalMs = performance.now() - t0;
    this.options.onProgress?.({ type: 'task-end', task, done: users.length, elapsedMs: evalMs });
    return { users: acc.users, overlap, warnings, metrics: acc.result(), evalMs };
  }

  async release(): Promise<void> {
    await this.scorer.release();
  }
}

/** Held-out entries also in train (both canonical CSR: sorted unique columns per row). */
function countOverlap(train: CsrMatrix, heldOut: CsrMatrix): { entries: number; users: number } {
  let entries = 0;
  let users = 0;
  for (let u = 0; u < heldOut.rows; u++) {
    let p = train.indptr[u];
    const pe = train.indptr[u + 1];
    let found = 0;
    for (let q = heldOut.indptr[u]; q < heldOut.indptr[u + 1]; q++) {
      const item = heldOut.indices[q];
      while (p < pe && train.indices[p] < item) p++;
      if (p < pe && train.indices[p] === item) found++;
    }
    entries += found;
    if (found > 0) users++;
  }
  return { entries, users };
}

/** One-shot convenience wrapper around `RankingEvaluator`. */
export async function evaluateRanking(
  input: EvaluateInput,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const ev = new RankingEvaluator(options);
  try {
    return await ev.evaluate(input);
  } finally {
    await ev.release();
  }
}

/** Top-k recommendations for some users, excluding their train items. */
export async function recommendTopK(args: {
  userEmb: Matrix;
  itemEmb: Matrix;
  users: ArrayLike<number>;
  k: number;
  exclude?: CsrMatrix;
  engine?: EngineOptions;
}): Promise<Map<number, { items: number[]; scores: number[] }>> {
  const scorer = new TopKScorer({ engine: args.engine });
  const out = new Map<number, { items: number[]; scores: number[] }>();
  try {
    await scorer.forEachTopK({
      userEmb: args.userEmb,
      itemEmb: args.itemEmb,
      users: Int32Array.from(args.users),
      k: args.k,
      exclude: args.exclude,
      visit: (u, items, scores, count) => {
        out.set(u, {
          items: Array.from(items.subarray(0, count)),
          scores: Array.from(scores.subarray(0, count)),
        });
      },
    });
  } finally {
    await scorer.release();
  }
  return out;
}
