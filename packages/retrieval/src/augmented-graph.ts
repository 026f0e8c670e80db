import {
  type CsrMatrix,
  csrColDegrees,
  csrFromCoo,
  csrRowDegrees,
  type Matrix,
  type ProgressHandler,
  PromaxError,
} from '@promax/core';
import type { EngineOptions } from '@promax/tensor';
import { type CandidateLists, retrieveCandidates } from './candidates.js';
import { createExactRetriever } from './exact-retriever.js';
import { type Reranker, type RerankIssue, validateRerankAnswer } from './rerank.js';
import type { Retriever } from './retriever.js';
import { planSparsityShift, resolveSparsityRule, type SparsityRule } from './sparsity-rule.js';
import { checkCsr, checkMatrix, checkNonNegativeInt, checkPositiveInt, throwIfAborted } from './validate.js';

/** Settings of the A′ builder (method.md §5). Every field is recorded in the manifest. */
export interface AugmentConfig {
  /** Who gets new items and how many. Default: the released quartile top-up rule. */
  sparsity?: SparsityRule;
  /** Items retrieved per user by user–item profile cosine. Default 50. */
  itemPool?: number;
  /** Most profile-similar users whose train items become candidates. Default 10. */
  userPool?: number;
  /** Weight of neighbour support (fraction of neighbours with the item) in the candidate score. Default 1. */
  neighbourWeight?: number;
  /** Candidates per user handed to the re-ranker (best score first). Default 100. */
  maxCandidates?: number;
  /** Re-rank calls in flight at once. Default 4. */
  rerankConcurrency?: number;
  /** Recorded in the manifest and passed to the re-ranker; the builder itself is deterministic. Default 2025. */
  seed?: number;
}

export type ResolvedAugmentConfig = Required<Omit<AugmentConfig, 'sparsity'>> & {
  sparsity: ReturnType<typeof resolveSparsityRule>;
};

/** JSON-friendly description of the re-ranker (name, model, prompt hash …), chosen by the caller. */
export type RerankDescription = Readonly<Record<string, string | number | boolean>>;

export interface BuildAugmentedGraphInput {
  /** Binary train matrix R (users × items). Every edge is kept. */
  train: CsrMatrix;
  /** User profile embeddings (users × D). */
  userEmb: Matrix;
  /** Item profile embeddings (items × D). */
  itemEmb: Matrix;
  /** Validation matrix, used only for the quality report (never pass test). */
  val?: CsrMatrix;
  config?: AugmentConfig;
  /** Chooses the added items among the candidates; without it the top-n candidates by score are taken. */
  rerank?: Reranker;
  /** Recorded in the manifest; give at least a name and a prompt hash for LLM re-rankers. */
  rerankDescription?: RerankDescription;
  /** Retriever for the candidate searches. Default: a fresh exact onnxruntime retriever (released afterwards). */
  retriever?: Retriever;
  engine?: EngineOptions;
  onProgress?: ProgressHandler;
  signal?: AbortSignal;
}

export interface BucketReport {
  label: string;
  /** Target degree of the bucket (null for the untouched top bucket or with fixedN). */
  target: number | null;
  users: number;
  usersAugmented: number;
  /** Items the sparsity rule asked for. */
  planned: number;
  added: number;
  /** planned − added: users whose candidate list was shorter than their quota. */
  shortfall: number;
  /** Added edges that are validation positives (null without val). */
  valHits: number | null;
}

export interface AugmentQualityReport {
  buckets: BucketReport[];
  perUserAdded: { min: number; max: number; mean: number };
  popularity: {
    /** Mean train degree of the added items, one term per added edge. */
    addedItemMeanDegree: number;
    /** Mean train degree over the catalogue (nnz / items). */
    catalogueMeanDegree: number;
    /** Mean train degree of the item of a random train edge (the popularity of an observed interaction). */
    trainEdgeMeanItemDegree: number;
    /** addedItemMeanDegree / catalogueMeanDegree. */
    ratioToCatalogue: number;
    distinctAddedItems: number;
  };
  /** Null without a validation matrix. */
  validation: {
    addedEdges: number;
    hits: number;
    /** hits / addedEdges. */
    hitRate: number;
    /** Expected hit rate had each user's added items been drawn uniformly from their non-train items. */
    expectedRandomHitRate: number;
    /** hitRate / expectedRandomHitRate. */
    lift: number;
  } | null;
  rerank: {
    mode: 'reranker' | 'retrieval-only';
    calls: number;
    /** Users whose answer needed repair (any issue). */
    usersWithIssues: number;
    /** Calls that threw (answer replaced by the retrieval order). */
    failures: number;
    invalidIds: number;
    duplicateIds: number;
    /** Items taken from the retrieval order to complete answers. */
    filled: number;
    issues: RerankIssue[];
  };
  timings: { candidatesMs: number; selectionMs: number; totalMs: number };
}

export interface AugmentManifest {
  format: 'promax-augmented-graph';
  version: 1;
  generator: string;
  shape: { users: number; items: number };
  config: ResolvedAugmentConfig;
  seed: number;
  sparsity: { boundaries: number[]; targets: (number | null)[] };
  retriever: { provider: string; exact: boolean };
  candidates: {
    itemPool: number;
    userPool: number;
    maxCandidates: number;
    meanPool: number;
    meanKept: number;
    minKept: number;
  };
  rerank: { mode: 'reranker' | 'retrieval-only'; description: RerankDescription | null };
  buckets: {
    label: string;
    target: number | null;
    users: number;
    usersAugmented: number;
    planned: number;
    added: number;
  }[];
  totals: {
    trainEdges: number;
    addedEdges: number;
    augmentedEdges: number;
    usersAugmented: number;
    rerankIssues: number;
    rerankFailures: number;
  };
}

export interface AugmentedGraph {
  /** A′ = train ∪ added (binary, canonical CSR). */
  augmented: CsrMatrix;
  /** The added edges only. */
  added: CsrMatrix;
  manifest: AugmentManifest;
  report: AugmentQualityReport;
}

const CONFIG_KEYS = [
  'sparsity',
  'itemPool',
  'userPool',
  'neighbourWeight',
  'maxCandidates',
  'rerankConcurrency',
  'seed',
];

export function resolveAugmentConfig(config: AugmentConfig = {}): ResolvedAugmentConfig {
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.includes(key)) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: `config.${key}`,
        message: `unknown augmentation setting '${key}'`,
        fix: `use one of ${CONFIG_KEYS.join(', ')}`,
      });
    }
  }
  const out: ResolvedAugmentConfig = {
    sparsity: resolveSparsityRule(config.sparsity),
    itemPool: config.itemPool ?? 50,
    userPool: config.userPool ?? 10,
    neighbourWeight: config.neighbourWeight ?? 1,
    maxCandidates: config.maxCandidates ?? 100,
    rerankConcurrency: config.rerankConcurrency ?? 4,
    seed: config.seed ?? 2025,
  };
  checkNonNegativeInt(out.itemPool, 'config.itemPool');
  checkNonNegativeInt(out.userPool, 'config.userPool');
  checkPositiveInt(out.maxCandidates, 'config.maxCandidates');
  checkPositiveInt(out.rerankConcurrency, 'config.rerankConcurrency');
  checkNonNegativeInt(out.seed, 'config.seed');
  if (!(Number.isFinite(out.neighbourWeight) && out.neighbourWeight >= 0)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'config.neighbourWeight',
      message: `neighbourWeight must be a finite number ≥ 0, got ${out.neighbourWeight}`,
      fix: 'pass e.g. 1 (or 0 for item similarity only)',
    });
  }
  if (out.itemPool + out.userPool === 0) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'config.itemPool',
      message: 'itemPool and userPool are both 0: no candidates',
      fix: 'set itemPool and/or userPool ≥ 1',
    });
  }
  return out;
}

/**
 * Builds the augmented train matrix R′ ⊇ R of method.md §5: the sparsity rule picks users and
 * quotas, profile retrieval proposes candidates (`retrieveCandidates`), and `rerank` (or the
 * retrieval order) chooses the items. Returns A′, the added edges, a JSON-friendly manifest and a
 * quality report. Writing files is the caller's job.
 */
export async function buildAugmentedGraph(input: BuildAugmentedGraphInput): Promise<AugmentedGraph> {
  const t0 = performance.now();
  const { train, userEmb, itemEmb, val, rerank, signal } = input;
  const emit = input.onProgress ?? (() => {});
  const config = resolveAugmentConfig(input.config);
  checkMatrix(userEmb, 'userEmb', { minRows: 1 });
  checkMatrix(itemEmb, 'itemEmb', { minRows: 1 });
  if (userEmb.cols !== itemEmb.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'itemEmb',
      message: `user profile embeddings have ${userEmb.cols} dimensions, item profile embeddings ${itemEmb.cols}`,
      fix: 'embed users and items into the same space',
    });
  }
  const numUsers = userEmb.rows;
  const numItems = itemEmb.rows;
  const shape = `users × items = ${numUsers}×${numItems} (from the embeddings)`;
  checkCsr(train, 'train', numUsers, numItems, shape);
  if (val) checkCsr(val, 'val', numUsers, numItems, shape);
  throwIfAborted(signal, 'augmentation');

  // 1. who gets how many
  const degrees = csrRowDegrees(train);
  const plan = planSparsityShift(degrees, config.sparsity);
  const chosenUsers: number[] = [];
  for (let u = 0; u < numUsers; u++) if (plan.planned[u] > 0) chosenUsers.push(u);
  const users = Int32Array.from(chosenUsers);
  emit({
    type: 'info',
    message: `augmenting ${users.length} of ${numUsers} users (boundaries ${plan.boundaries.join('/')})`,
    data: { boundaries: plan.boundaries, users: users.length },
  });

  // 2. candidates
  const retriever = input.retriever ?? createExactRetriever({ engine: input.engine });
  let candidates: CandidateLists;
  emit({ type: 'task-start', task: 'augment-candidates', total: users.length, unit: 'users' });
  try {
    candidates = await retrieveCandidates({
      users,
      userEmb,
      itemEmb,
      train,
      settings: config,
      retriever,
      signal,
    });
  } finally {
    if (!input.retriever) await retriever.release();
  }
  const tCandidates = performance.now();
  emit({ type: 'task-end', task: 'augment-candidates', done: users.length, elapsedMs: tCandidates - t0 });

  // 3. selection
  const selected: number[][] = new Array(users.length);
  const issues: RerankIssue[] = [];
  const listOf = (j: number): number[] =>
    Array.from(candidates.items.subarray(candidates.indptr[j], candidates.indptr[j + 1]));
  emit({ type: 'task-start', task: 'augment-select', total: users.length, unit: 'users' });
  if (!rerank) {
    for (let j = 0; j < users.length; j++) selected[j] = listOf(j).slice(0, plan.planned[users[j]]);
  } else {
    await runPool(
      users.length,
      config.rerankConcurrency,
      signal,
      async (j) => {
        const u = users[j];
        const list = listOf(j);
        const n = plan.planned[u];
        if (list.length === 0) {
          selected[j] = [];
          return;
        }
        let answer: unknown;
        let error: string | undefined;
        try {
          answer = await rerank({
            user: u,
            candidates: list.slice(),
            n,
            history: Array.from(train.indices.subarray(train.indptr[u], train.indptr[u + 1])).sort(
              (a, b) => a - b,
            ),
            seed: config.seed,
            signal,
          });
          if (!Array.isArray(answer))
            error = `the re-ranker returned ${answer === null ? 'null' : typeof answer}, not an array of item ids`;
        } catch (e) {
          throwIfAborted(signal, 'augmentation');
          error = e instanceof Error ? e.message : String(e);
        }
        const { items, issue } = validateRerankAnswer(
          u,
          error ? undefined : (answer as unknown[]),
          list,
          n,
          error,
        );
        selected[j] = items;
        if (issue) issues.push(issue);
      },
      (done) =>
        emit({ type: 'task-progress', task: 'augment-select', done, total: users.length, unit: 'users' }),
    );
    issues.sort((a, b) => a.user - b.user);
  }
  const tSelect = performance.now();
  emit({ type: 'task-end', task: 'augment-select', done: users.length, elapsedMs: tSelect - tCandidates });

  // 4. A′ = R ∪ added
  let addedCount = 0;
  for (const s of selected) addedCount += s.length;
  const addRow = new Int32Array(addedCount);
  const addCol = new Int32Array(addedCount);
  let w = 0;
  for (let j = 0; j < users.length; j++) {
    for (const item of selected[j]) {
      addRow[w] = users[j];
      addCol[w] = item;
      w++;
    }
  }
  const added = csrFromCoo(
    { rows: numUsers, cols: numItems, row: addRow, col: addCol },
    { duplicates: 'binary' },
  ).matrix;
  const trainNnz = train.indptr[numUsers];
  const allRow = new Int32Array(trainNnz + addedCount);
  for (let u = 0; u < numUsers; u++) allRow.fill(u, train.indptr[u], train.indptr[u + 1]);
  allRow.set(addRow, trainNnz);
  const allCol = new Int32Array(trainNnz + addedCount);
  allCol.set(train.indices.subarray(0, trainNnz));
  allCol.set(addCol, trainNnz);
  const augmented = csrFromCoo(
    { rows: numUsers, cols: numItems, row: allRow, col: allCol },
    { duplicates: 'binary' },
  ).matrix;
  assertSuperset(augmented, train, added);

  // 5. report
  const report = qualityReport({ train, val, plan, users, added, candidates, issues, rerank: !!rerank });
  const totalMs = performance.now() - t0;
  report.timings = { candidatesMs: tCandidates - t0, selectionMs: tSelect - tCandidates, totalMs };
  const kept = users.length > 0 ? candidates.indptr[users.length] / users.length : 0;
  let minKept = users.length > 0 ? Number.POSITIVE_INFINITY : 0;
  let poolSum = 0;
  for (let j = 0; j < users.length; j++) {
    minKept = Math.min(minKept, candidates.indptr[j + 1] - candidates.indptr[j]);
    poolSum += candidates.poolSizes[j];
  }
  const manifest: AugmentManifest = {
    format: 'promax-augmented-graph',
    version: 1,
    generator: '@promax/retrieval buildAugmentedGraph',
    shape: { users: numUsers, items: numItems },
    config,
    seed: config.seed,
    sparsity: { boundaries: plan.boundaries, targets: plan.targets },
    retriever: { provider: retriever.provider, exact: retriever.exact },
    candidates: {
      itemPool: config.itemPool,
      userPool: config.userPool,
      maxCandidates: config.maxCandidates,
      meanPool: users.length > 0 ? poolSum / users.length : 0,
      meanKept: kept,
      minKept,
    },
    rerank: { mode: rerank ? 'reranker' : 'retrieval-only', description: input.rerankDescription ?? null },
    buckets: report.buckets.map(({ label, target, users: n, usersAugmented, planned, added: a }) => ({
      label,
      target,
      users: n,
      usersAugmented,
      planned,
      added: a,
    })),
    totals: {
      trainEdges: trainNnz,
      addedEdges: added.indptr[numUsers],
      augmentedEdges: augmented.indptr[numUsers],
      usersAugmented: report.buckets.reduce((s, b) => s + b.usersAugmented, 0),
      rerankIssues: report.rerank.usersWithIssues,
      rerankFailures: report.rerank.failures,
    },
  };
  return { augmented, added, manifest, report };
}

/** Runs `task(0 … count−1)` with at most `concurrency` in flight; stops early on abort or a thrown error. */
async function runPool(
  count: number,
  concurrency: number,
  signal: AbortSignal | undefined,
  task: (j: number) => Promise<void>,
  onDone: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  let failed = false;
  const step = Math.max(1, Math.floor(count / 100));
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      throwIfAborted(signal, 'augmentation');
      const j = next++;
      try {
        await task(j);
      } catch (e) {
        failed = true;
        throw e;
      }
      done++;
      if (done % step === 0 || done === count) onDone(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** A′ must hold every train edge plus exactly the added ones (added edges are never train edges). */
function assertSuperset(augmented: CsrMatrix, train: CsrMatrix, added: CsrMatrix): void {
  const mark = new Uint8Array(augmented.cols);
  for (let u = 0; u < train.rows; u++) {
    for (let p = augmented.indptr[u]; p < augmented.indptr[u + 1]; p++) mark[augmented.indices[p]] = 1;
    let trainUnique = 0;
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
      const c = train.indices[p];
      if (mark[c] === 0) {
        throw new PromaxError({
          code: 'INVALID_DATA',
          message: `A′ lost train edge (${u}, ${c})`,
          details: { user: u, item: c },
        });
      }
      if (mark[c] === 1) trainUnique++;
      mark[c] = 2;
    }
    const rowSize = augmented.indptr[u + 1] - augmented.indptr[u];
    const addedRow = added.indptr[u + 1] - added.indptr[u];
    for (let p = augmented.indptr[u]; p < augmented.indptr[u + 1]; p++) mark[augmented.indices[p]] = 0;
    if (rowSize !== trainUnique + addedRow) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        message: `A′ row ${u} has ${rowSize} items, expected ${trainUnique} train + ${addedRow} added: an added item was a train item`,
        details: { user: u },
      });
    }
  }
}

function qualityReport(args: {
  train: CsrMatrix;
  val?: CsrMatrix;
  plan: ReturnType<typeof planSparsityShift>;
  users: Int32Array;
  added: CsrMatrix;
  candidates: CandidateLists;
  issues: RerankIssue[];
  rerank: boolean;
}): AugmentQualityReport {
  const { train, val, plan, users, added, issues } = args;
  const numUsers = train.rows;
  const numItems = train.cols;
  const nb = plan.boundaries.length + 1;
  const buckets: BucketReport[] = plan.bucketLabels.map((label, b) => ({
    label,
    target: b < plan.targets.length ? plan.targets[b] : null,
    users: 0,
    usersAugmented: 0,
    planned: 0,
    added: 0,
    shortfall: 0,
    valHits: val ? 0 : null,
  }));
  for (let u = 0; u < numUsers; u++) {
    const b = buckets[Math.min(plan.bucketOf[u], nb - 1)];
    b.users++;
    b.planned += plan.planned[u];
    const a = added.indptr[u + 1] - added.indptr[u];
    b.added += a;
    if (a > 0) b.usersAugmented++;
  }
  for (const b of buckets) b.shortfall = b.planned - b.added;

  let minAdded = Number.POSITIVE_INFINITY;
  let maxAdded = 0;
  let augmentedUsers = 0;
  for (let u = 0; u < numUsers; u++) {
    const a = added.indptr[u + 1] - added.indptr[u];
    if (a === 0) continue;
    augmentedUsers++;
    minAdded = Math.min(minAdded, a);
    maxAdded = Math.max(maxAdded, a);
  }
  const addedEdges = added.indptr[numUsers];

  const itemDeg = csrColDegrees(train);
  const trainNnz = train.indptr[numUsers];
  let addedDegSum = 0;
  for (let p = 0; p < addedEdges; p++) addedDegSum += itemDeg[added.indices[p]];
  let edgeDegSum = 0;
  for (let p = 0; p < trainNnz; p++) edgeDegSum += itemDeg[train.indices[p]];
  const distinct = new Uint8Array(numItems);
  let distinctAddedItems = 0;
  for (let p = 0; p < addedEdges; p++) {
    if (!distinct[added.indices[p]]) distinctAddedItems++;
    distinct[added.indices[p]] = 1;
  }
  const catalogueMeanDegree = trainNnz / numItems;
  const addedItemMeanDegree = addedEdges > 0 ? addedDegSum / addedEdges : 0;

  let validation: AugmentQualityReport['validation'] = null;
  if (val) {
    const isVal = new Uint8Array(numItems);
    const inTrain = new Uint8Array(numItems);
    let hits = 0;
    let expected = 0;
    for (let u = 0; u < numUsers; u++) {
      const a = added.indptr[u + 1] - added.indptr[u];
      if (a === 0) continue;
      for (let p = val.indptr[u]; p < val.indptr[u + 1]; p++) isVal[val.indices[p]] = 1;
      for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) inTrain[train.indices[p]] = 1;
      let userHits = 0;
      for (let p = added.indptr[u]; p < added.indptr[u + 1]; p++) userHits += isVal[added.indices[p]];
      let valNonTrain = 0;
      let trainUnique = 0;
      for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
        if (inTrain[train.indices[p]] === 1) trainUnique++;
        inTrain[train.indices[p]] = 2;
      }
      for (let p = val.indptr[u]; p < val.indptr[u + 1]; p++) if (!inTrain[val.indices[p]]) valNonTrain++;
      expected += (a * valNonTrain) / (numItems - trainUnique);
      hits += userHits;
      const b = buckets[Math.min(plan.bucketOf[u], nb - 1)];
      b.valHits = (b.valHits ?? 0) + userHits;
      for (let p = val.indptr[u]; p < val.indptr[u + 1]; p++) isVal[val.indices[p]] = 0;
      for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) inTrain[train.indices[p]] = 0;
    }
    const hitRate = addedEdges > 0 ? hits / addedEdges : 0;
    const expectedRandomHitRate = addedEdges > 0 ? expected / addedEdges : 0;
    validation = {
      addedEdges,
      hits,
      hitRate,
      expectedRandomHitRate,
      lift: expectedRandomHitRate > 0 ? hitRate / expectedRandomHitRate : 0,
    };
  }

  let failures = 0;
  let invalidIds = 0;
  let duplicateIds = 0;
  let filled = 0;
  for (const issue of issues) {
    if (issue.error !== undefined) failures++;
    invalidIds += issue.invalidIds.length;
    duplicateIds += issue.duplicateIds.length;
    filled += issue.filled;
  }
  return {
    buckets,
    perUserAdded: {
      min: augmentedUsers > 0 ? minAdded : 0,
      max: maxAdded,
      mean: augmentedUsers > 0 ? addedEdges / augmentedUsers : 0,
    },
    popularity: {
      addedItemMeanDegree,
      catalogueMeanDegree,
      trainEdgeMeanItemDegree: trainNnz > 0 ? edgeDegSum / trainNnz : 0,
      ratioToCatalogue: catalogueMeanDegree > 0 ? addedItemMeanDegree / catalogueMeanDegree : 0,
      distinctAddedItems,
    },
    validation,
    rerank: {
      mode: args.rerank ? 'reranker' : 'retrieval-only',
      calls: args.rerank ? countNonEmpty(args.candidates, users.length) : 0,
      usersWithIssues: issues.length,
      failures,
      invalidIds,
      duplicateIds,
      filled,
      issues,
    },
    timings: { candidatesMs: 0, selectionMs: 0, totalMs: 0 },
  };
}

function countNonEmpty(c: CandidateLists, n: number): number {
  let calls = 0;
  for (let j = 0; j < n; j++) if (c.indptr[j + 1] > c.indptr[j]) calls++;
  return calls;
}
