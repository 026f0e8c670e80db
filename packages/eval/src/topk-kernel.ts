import { type CsrMatrix, type Matrix, PromaxError } from '@promax/core';
import {
  type CompiledGraph,
  compileModel,
  type EngineOptions,
  float32Tensor,
  int64Tensor,
} from '@promax/tensor';

/**
 * Scores users against all items (dot products) and returns each user's top-K items with an
 * optional per-user exclusion list (e.g. train items), on onnxruntime-node.
 *
 * Exclusion without a dense mask: the ONNX graph returns the top (K + e) items of each chunk,
 * where e is the largest exclusion count in the chunk, and the excluded items are skipped here
 * while reading the ranked list. Users are processed sorted by exclusion count so e stays close
 * to each user's own count. This equals masking then taking top-K exactly, including ties:
 * ONNX TopK orders equal scores by lower item index, and skipping preserves that order.
 */
export class TopKScorer {
  private graph: CompiledGraph | undefined;
  private readonly engine: EngineOptions;
  private readonly chunkUsers: number;

  constructor(options: { engine?: EngineOptions; chunkUsers?: number } = {}) {
    this.engine = options.engine ?? {};
    this.chunkUsers = options.chunkUsers ?? 1024;
  }

  private async session(): Promise<CompiledGraph> {
    this.graph ??= await compileModel(
      {
        graph: {
          name: 'score_topk',
          inputs: [
            { name: 'users', dtype: 'float32', shape: ['b', 'd'] },
            { name: 'items_t', dtype: 'float32', shape: ['d', 'n'] },
            { name: 'k', dtype: 'int64', shape: [1] },
          ],
          outputs: [
            { name: 'values', dtype: 'float32', shape: ['b', 'k'] },
            { name: 'indices', dtype: 'int64', shape: ['b', 'k'] },
          ],
          nodes: [
            { op: 'MatMul', inputs: ['users', 'items_t'], outputs: ['scores'] },
            {
              op: 'TopK',
              inputs: ['scores', 'k'],
              outputs: ['values', 'indices'],
              attributes: {
                axis: { type: 'int', value: -1 },
                largest: { type: 'int', value: 1 },
                sorted: { type: 'int', value: 1 },
              },
            },
          ],
        },
      },
      this.engine,
    );
    return this.graph;
  }

  /**
   * Visits the top-`k` items of every user in `users`, best first, with excluded items skipped.
   * `visit(user, items, scores, count)` receives views valid only during the call.
   */
  async forEachTopK(args: {
    userEmb: Matrix;
    itemEmb: Matrix;
    users: Int32Array;
    k: number;
    exclude?: CsrMatrix;
    /**
     * `itemEmb` transposed (cols × rows, row-major), for callers that search one corpus many
     * times: transposing a million-row corpus costs more than scoring a few queries against it.
     */
    itemsTransposed?: Float32Array;
    visit: (user: number, items: Int32Array, scores: Float32Array, count: number) => void;
    onChunk?: (done: number, total: number) => void;
  }): Promise<void> {
    const { userEmb, itemEmb, users, exclude, visit } = args;
    checkShapes(userEmb, itemEmb, exclude);
    const n = itemEmb.rows;
    if (!Number.isInteger(args.k) || args.k < 1) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'k',
        message: `k must be a positive integer, got ${args.k}`,
        fix: 'pass e.g. k: 20',
      });
    }
    // More than all items cannot be ranked: the bound keeps buffers at the item count.
    const k = Math.min(args.k, n);
    const d = itemEmb.cols;
    const session = await this.session();
    if (args.itemsTransposed && args.itemsTransposed.length !== n * itemEmb.cols) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: 'itemsTransposed',
        message: `itemsTransposed holds ${args.itemsTransposed.length} values, expected ${itemEmb.cols}×${n}`,
        fix: 'pass transposeMatrix(itemEmb) of the same item embeddings',
      });
    }
    const itemsT = args.itemsTransposed ?? transposeMatrix(itemEmb);
    const itemsTensor = float32Tensor(itemsT, [d, n]);

    const degree = (u: number): number => (exclude ? exclude.indptr[u + 1] - exclude.indptr[u] : 0);
    const order = Int32Array.from(users).sort((a, b) => degree(a) - degree(b) || a - b);

    const excluded = new Uint8Array(n);
    const outItems = new Int32Array(k);
    const outScores = new Float32Array(k);
    const chunkBuf = new Float32Array(Math.min(this.chunkUsers, Math.max(order.length, 1)) * d);
    for (let start = 0; start < order.length; start += this.chunkUsers) {
      const end = Math.min(order.length, start + this.chunkUsers);
      const b = end - start;
      const fetch = Math.min(n, k + degree(order[end - 1]));
      const chunk = chunkBuf.subarray(0, b * d);
      for (let r = 0; r < b; r++) {
        const u = order[start + r];
        chunk.set(userEmb.data.subarray(u * d, u * d + d), r * d);
      }
      const out = await session.run({
        users: float32Tensor(chunk, [b, d]),
        items_t: itemsTensor,
        k: int64Tensor(BigInt64Array.of(BigInt(fetch)), [1]),
      });
      const values = out.values.data as Float32Array;
      const indices = out.indices.data as BigInt64Array;
      for (let r = 0; r < b; r++) {
        const u = order[start + r];
        if (exclude)
          for (let p = exclude.indptr[u]; p < exclude.indptr[u + 1]; p++) excluded[exclude.indices[p]] = 1;
        let count = 0;
        const base = r * fetch;
        for (let j = 0; j < fetch && count < k; j++) {
          const item = Number(indices[base + j]);
          if (excluded[item]) continue;
          outItems[count] = item;
          outScores[count] = values[base + j];
          count++;
        }
        if (exclude)
          for (let p = exclude.indptr[u]; p < exclude.indptr[u + 1]; p++) excluded[exclude.indices[p]] = 0;
        visit(u, outItems, outScores, count);
      }
      args.onChunk?.(end, order.length);
    }
  }

  async release(): Promise<void> {
    await this.graph?.release();
    this.graph = undefined;
  }
}

/** The row-major transpose (cols × rows) of a matrix: the layout the scoring graph reads items in. */
export function transposeMatrix(m: Matrix): Float32Array {
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[o + c];
  }
  return out;
}

export function checkShapes(userEmb: Matrix, itemEmb: Matrix, exclude?: CsrMatrix): void {
  for (const [name, m] of [
    ['user embeddings', userEmb],
    ['item embeddings', itemEmb],
  ] as const) {
    if (m.data.length !== m.rows * m.cols) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: name,
        message: `${name} hold ${m.data.length} values, expected rows×cols = ${m.rows}×${m.cols}`,
        fix: 'pass a row-major Float32Array of rows*cols values',
      });
    }
  }
  if (userEmb.cols !== itemEmb.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'embeddings',
      message: `user embeddings have ${userEmb.cols} columns but item embeddings have ${itemEmb.cols}`,
      fix: 'use user and item embeddings of the same dimension',
    });
  }
  if (exclude && (exclude.rows !== userEmb.rows || exclude.cols !== itemEmb.rows)) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'train',
      message: `the train matrix is ${exclude.rows}×${exclude.cols} but the embeddings give ${userEmb.rows} users × ${itemEmb.rows} items`,
      fix: 'pass embeddings with one row per user and per item of the dataset',
    });
  }
}
