import { type ProgressHandler, PromaxError } from '@promax/core';
import { aggregateMetrics, type MeanStd } from './stats.js';

export interface RunSeedsOptions<R> {
  signal?: AbortSignal;
  onProgress?: ProgressHandler;
  /**
   * The numbers to aggregate from one result. Default: every finite numeric leaf under dotted
   * keys (`test.recall@20`, `val.ndcg@20`, `timing.train_s_per_epoch`, `best_epoch`, …),
   * skipping arrays such as `history`.
   */
  metrics?: (result: R) => Record<string, number>;
  /** Stop launching seeds after a result for which this returns true (e.g. an aborted run). */
  isStopped?: (result: R) => boolean;
}

export interface SeedsResult<R> {
  runs: { seed: number; result: R }[];
  /** metric → mean, sample std (n − 1), n and the per-seed values (in run order). */
  aggregate: Record<string, MeanStd>;
  /** True when the signal or `isStopped` ended the series before every seed ran. */
  stopped: boolean;
}

/**
 * Runs `run(seed)` for each seed, one after another (each run already uses the machine), and
 * aggregates the results. A failing seed rejects the whole series.
 */
export async function runSeeds<R>(
  seeds: readonly number[],
  run: (seed: number) => Promise<R>,
  options: RunSeedsOptions<R> = {},
): Promise<SeedsResult<R>> {
  if (seeds.length === 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'seeds',
      message: 'no seeds given',
      fix: 'pass e.g. [2025, 2026, 2027]',
    });
  }
  if (new Set(seeds).size !== seeds.length) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'seeds',
      message: `duplicate seeds in [${seeds.join(', ')}]`,
    });
  }
  const isStopped = options.isStopped ?? defaultIsStopped;
  const runs: { seed: number; result: R }[] = [];
  let stopped = false;
  for (const [i, seed] of seeds.entries()) {
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    options.onProgress?.({
      type: 'info',
      message: `seed ${seed} (${i + 1}/${seeds.length})`,
      data: { seed },
    });
    const result = await run(seed);
    runs.push({ seed, result });
    options.onProgress?.({
      type: 'task-progress',
      task: 'seeds',
      done: i + 1,
      total: seeds.length,
      unit: 'runs',
    });
    if (isStopped(result) && i < seeds.length - 1) {
      stopped = true;
      break;
    }
  }
  const pick = options.metrics ?? ((r: R) => numericLeaves(r));
  return { runs, aggregate: aggregateMetrics(runs.map((r) => pick(r.result))), stopped };
}

function defaultIsStopped(result: unknown): boolean {
  return (
    typeof result === 'object' && result !== null && (result as { stopped?: unknown }).stopped === 'aborted'
  );
}

export { aggregateMetrics };

/** Finite numbers of a plain object tree under dotted keys; arrays are skipped. */
export function numericLeaves(
  value: unknown,
  prefix = '',
  out: Record<string, number> = {},
): Record<string, number> {
  if (typeof value === 'number') {
    if (prefix && Number.isFinite(value)) out[prefix] = value;
  } else if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  ) {
    for (const [k, v] of Object.entries(value)) numericLeaves(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

/** `0.1623 ± 0.0012` (sample std); `0.1623 (n=1)` when there is a single value. */
export function formatMeanStd(stat: Pick<MeanStd, 'mean' | 'std'> & { n?: number }, digits = 4): string {
  if (stat.std === null || stat.std === undefined) return `${stat.mean.toFixed(digits)} (n=${stat.n ?? 1})`;
  return `${stat.mean.toFixed(digits)} ± ${stat.std.toFixed(digits)}`;
}
