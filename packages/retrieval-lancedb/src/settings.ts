import { PromaxError } from '@promax/core';
import * as z from 'zod';

/** The ANN index built on each vector table (LanceDB's index families). */
export const lanceIndexSchema = z
  .strictObject({
    /**
     * 'ivf-flat' (the default): IVF partitions over the raw vectors — k-means only, so it builds
     * fastest (1M × 64-d: ~1.5 min on 2 busy cores, where IVF-HNSW-SQ took 4 min for 100k rows)
     * and needs no refine step; `pnpm bench:scale` chose it (recall and speed vs exact in
     * bench/README.md). 'ivf-hnsw-sq': IVF partitions, each an HNSW graph over 8-bit
     * scalar-quantised vectors (slow to build on few cores); 'ivf-pq': IVF with product
     * quantisation (smallest index); 'none': LanceDB's flat scan (exact, for checks).
     */
    type: z.enum(['ivf-hnsw-sq', 'ivf-pq', 'ivf-flat', 'none']).default('ivf-flat'),
    /** IVF partitions; null: √rows, rounded (1,000 at 1M rows). */
    numPartitions: z.number().int().positive().nullable().default(null),
    /** PQ sub-vectors (ivf-pq); null lets LanceDB choose (dim / 16 or dim / 8). */
    numSubVectors: z.number().int().positive().nullable().default(null),
    /** Bits per PQ code (ivf-pq): 4 or 8. */
    numBits: z.union([z.literal(4), z.literal(8)]).default(8),
    /** HNSW neighbours per node (ivf-hnsw-sq). */
    m: z.number().int().positive().default(20),
    /** HNSW candidate list while building (ivf-hnsw-sq). */
    efConstruction: z.number().int().positive().default(300),
    /** Corpora with fewer rows get no ANN index (LanceDB scans them exactly; IVF training needs rows). */
    minRows: z.number().int().nonnegative().default(5000),
  })
  .prefault({});

/** Query-time knobs: they trade speed for recall and never change the stored index. */
export const lanceSearchSchema = z
  .strictObject({
    /**
     * IVF partitions probed per query; null (the default): as many as hold about `candidates`
     * rows, ⌈candidates · partitions / rows⌉ (10 of 1,000 partitions at 1M rows).
     */
    nprobes: z.number().int().positive().nullable().default(null),
    /**
     * Rows scanned per query when `nprobes` is null. On `pnpm bench:scale`'s clustered 64-d
     * vectors (bench/README.md) 5,000 already gave recall@20 ≥ 0.99 from 200k to 1M rows; the
     * default scans twice that, as margin for embeddings less clustered than those, for ~10%
     * more query time (3.3× faster than exact search at 1M rows). Time grows about linearly.
     */
    candidates: z.number().int().positive().default(10_000),
    /** HNSW candidate list per query (ivf-hnsw-sq); null: LanceDB's default (1.5·k). */
    ef: z.number().int().positive().nullable().default(null),
    /**
     * Quantised indexes (ivf-pq, ivf-hnsw-sq): re-rank refineFactor·k hits on the raw vectors
     * inside LanceDB; null: off. Not applied to ivf-flat, whose partitions hold the raw vectors.
     */
    refineFactor: z.number().int().positive().nullable().default(5),
    /** Query vectors sent to LanceDB in one call (results come back tagged by query). */
    blockQueries: z.number().int().positive().default(64),
  })
  .prefault({});

export const lanceRetrieverSettingsSchema = z.strictObject({
  /**
   * The folder that holds the tables (one sub-folder per indexed corpus, named by its
   * fingerprint). Any LanceDB URI works, e.g. `s3://bucket/prefix` (see README).
   */
  dir: z.string().min(1),
  index: lanceIndexSchema,
  search: lanceSearchSchema,
  /**
   * What to do with a folder whose manifest does not match (other index settings, a table that
   * fails to open or has the wrong row count): 'rebuild' after an `info` progress event saying
   * why, or 'error' (a PromaxError 'INVALID_FILE').
   */
  onStale: z.enum(['rebuild', 'error']).default('rebuild'),
  /**
   * Where the manifest lives. Default: `DIR/promax-lancedb.json` for a local folder; for an
   * object-storage URI pass a local path here, else tables cannot be reused across runs.
   */
  manifestFile: z.string().min(1).optional(),
  /** Options passed to `lancedb.connect` (e.g. `storageOptions` for object storage). */
  connectOptions: z.record(z.string(), z.unknown()).optional(),
});

export type LanceRetrieverSettings = z.output<typeof lanceRetrieverSettingsSchema>;
export type LanceRetrieverSettingsInput = z.input<typeof lanceRetrieverSettingsSchema>;
export type LanceIndexSettings = z.output<typeof lanceIndexSchema>;

/** Applies defaults and validates; unknown keys are a PromaxError 'INVALID_CONFIG'. */
export function parseLanceRetrieverSettings(input: unknown): LanceRetrieverSettings {
  const parsed = lanceRetrieverSettingsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    field: parsed.error.issues[0]?.path.map(String).join('.'),
    message: `invalid LanceDB retriever settings: ${issues.join('; ')}`,
    fix: 'see lanceRetrieverSettingsSchema in @promax/retrieval-lancedb',
  });
}
