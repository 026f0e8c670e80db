import { join } from 'node:path';
import { type ProgressHandler, PromaxError } from '@promax/core';
import {
  createExactRetriever,
  type ProbedRetriever,
  type RecallProbeReport,
  withRecallProbe,
} from '@promax/retrieval';
import { createLanceRetriever } from '@promax/retrieval-lancedb';

/**
 * Corpora (items, or users for neighbour search) at or above this many rows use the LanceDB ANN
 * index (its default settings: IVF-flat, √rows partitions, ~10,000 candidate rows per query) when
 * `--index` is not given; below it exact search is as fast and exact. `pnpm bench:scale` on 64-d
 * vectors, 2 busy cores, all queries in one call: at 200k rows the index only tied exact search
 * (0.96× its throughput), at 500k it was 2× faster, at 1M 3–5× (bench/README.md).
 */
export const LANCEDB_DEFAULT_MIN_ROWS = 500_000;

export const INDEX_FLAG_HELP = `--index exact|lancedb[:DIR]|auto
                      nearest-neighbour search: exact brute force, or a LanceDB ANN index
                      stored in DIR (default EMBEDDINGS/lancedb), built once and reused; every
                      search through it reports recall@k against exact search on 500 sampled
                      queries. auto (default): lancedb when the catalogue has ≥ ${LANCEDB_DEFAULT_MIN_ROWS.toLocaleString('en-US')} items`;

export type IndexChoice = { kind: 'exact' } | { kind: 'lancedb'; dir: string };

/** Parses `--index`; `auto` picks by the corpus size. */
export function parseIndexFlag(
  value: string | undefined,
  defaults: { dir: string; rows: number },
): IndexChoice {
  const v = value ?? 'auto';
  if (v === 'exact') return { kind: 'exact' };
  if (v === 'auto')
    return defaults.rows >= LANCEDB_DEFAULT_MIN_ROWS
      ? { kind: 'lancedb', dir: defaults.dir }
      : { kind: 'exact' };
  if (v === 'lancedb') return { kind: 'lancedb', dir: defaults.dir };
  if (v.startsWith('lancedb:') && v.length > 'lancedb:'.length) return { kind: 'lancedb', dir: v.slice(8) };
  throw new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: '--index',
    message: `unknown --index '${v}'`,
    fix: 'pass exact, auto, lancedb or lancedb:DIR',
  });
}

/** The default index folder for an embeddings folder. */
export const defaultIndexDir = (embeddingsDir: string): string => join(embeddingsDir, 'lancedb');

/** A LanceDB retriever that reports its recall against exact search on every search; undefined for exact. */
export async function openIndexRetriever(
  choice: IndexChoice,
  onProgress: ProgressHandler,
): Promise<ProbedRetriever | undefined> {
  if (choice.kind === 'exact') return undefined;
  const ann = await createLanceRetriever({ dir: choice.dir }, { onProgress });
  return withRecallProbe(ann, {
    exact: createExactRetriever(),
    onReport: (r) =>
      onProgress({ type: 'info', message: describeRecall(r), data: { ...r } as Record<string, unknown> }),
  });
}

export function describeRecall(r: RecallProbeReport): string {
  return `${r.provider}: recall@${r.k} ${r.recall.toFixed(4)} against exact search (${r.queries} sampled queries over ${r.corpus} rows; ${r.approximateMs.toFixed(0)} ms ANN vs ${r.exactMs.toFixed(0)} ms exact)`;
}
