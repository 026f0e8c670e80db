import { type CompiledGraph, compileModel, type EngineOptions, type NodeDef } from '@promax/tensor';
import * as ort from 'onnxruntime-node';
import { ENTROPY_CLAMP } from './entropy-weight.js';

/** One block of teacher rows as onnxruntime returns it. */
export interface TeacherBlock {
  /** [b, N] (dense) or [b, K] (top-k) probabilities. */
  p: Float32Array;
  /** [b, K] item ids of `p` (top-k only). */
  indices?: Int32Array;
  /** [b] entropy −Σ p log(max(p, 1e-12)) of each row. */
  entropy: Float32Array;
}

/**
 * The teacher graph: logits = û_scaled · îᵀ (+ mask bias of 0 / −∞), then either a softmax over
 * all items, a softmax over the top-K logits (which is exactly "keep the top-K probabilities and
 * renormalise"), or — with `renormalize: false` — the K largest probabilities of the full softmax
 * as they are; plus each row's entropy (of the rows returned, or of the full row when not
 * renormalised). User rows come pre-normalised and pre-divided by τp.
 */
export class TeacherKernel {
  private graph?: Promise<CompiledGraph>;

  constructor(
    private readonly options: {
      masked: boolean;
      topK: number | null;
      /** Top-K mode only: renormalise the K kept probabilities (default true). */
      renormalize?: boolean;
      engine?: EngineOptions;
    },
  ) {}

  private session(): Promise<CompiledGraph> {
    const { masked, topK } = this.options;
    const renormalize = this.options.renormalize ?? true;
    const nodes: NodeDef[] = [
      {
        op: 'Gemm',
        inputs: ['users', 'items'],
        outputs: [masked ? 'raw' : 'logits'],
        attributes: { transB: { type: 'int', value: 1 } },
      },
    ];
    if (masked) nodes.push({ op: 'Add', inputs: ['raw', 'bias'], outputs: ['logits'] });
    if (topK !== null && !renormalize) {
      nodes.push(
        {
          op: 'Softmax',
          inputs: ['logits'],
          outputs: ['full'],
          attributes: { axis: { type: 'int', value: -1 } },
        },
        {
          op: 'TopK',
          inputs: ['full', 'k'],
          outputs: ['p', 'indices'],
          attributes: {
            axis: { type: 'int', value: -1 },
            largest: { type: 'int', value: 1 },
            sorted: { type: 'int', value: 1 },
          },
        },
      );
    } else if (topK !== null) {
      nodes.push(
        {
          op: 'TopK',
          inputs: ['logits', 'k'],
          outputs: ['top', 'indices'],
          attributes: {
            axis: { type: 'int', value: -1 },
            largest: { type: 'int', value: 1 },
            sorted: { type: 'int', value: 1 },
          },
        },
        { op: 'Softmax', inputs: ['top'], outputs: ['p'], attributes: { axis: { type: 'int', value: -1 } } },
      );
    } else {
      nodes.push({
        op: 'Softmax',
        inputs: ['logits'],
        outputs: ['p'],
        attributes: { axis: { type: 'int', value: -1 } },
      });
    }
    // entropy of the full row when the kept probabilities are not renormalised
    const rowP = topK !== null && !renormalize ? 'full' : 'p';
    nodes.push(
      { op: 'Max', inputs: [rowP, 'clamp'], outputs: ['pc'] },
      { op: 'Log', inputs: ['pc'], outputs: ['logp'] },
      { op: 'Mul', inputs: [rowP, 'logp'], outputs: ['plogp'] },
      {
        op: 'ReduceSum',
        inputs: ['plogp', 'axes'],
        outputs: ['negh'],
        attributes: { keepdims: { type: 'int', value: 0 } },
      },
      { op: 'Neg', inputs: ['negh'], outputs: ['entropy'] },
    );
    const width = topK ?? 'N';
    this.graph ??= compileModel(
      {
        graph: {
          name: 'promax_sdr_teacher',
          inputs: [
            { name: 'users', dtype: 'float32', shape: ['b', 'd'] },
            { name: 'items', dtype: 'float32', shape: ['N', 'd'] },
            ...(masked ? [{ name: 'bias', dtype: 'float32' as const, shape: ['b', 'N'] }] : []),
          ],
          outputs: [
            { name: 'p', dtype: 'float32', shape: ['b', width] },
            ...(topK !== null ? [{ name: 'indices', dtype: 'int64' as const, shape: ['b', width] }] : []),
            { name: 'entropy', dtype: 'float32', shape: ['b'] },
          ],
          nodes,
          initializers: [
            { name: 'clamp', dtype: 'float32', dims: [], data: Float32Array.of(ENTROPY_CLAMP) },
            { name: 'axes', dtype: 'int64', dims: [1], data: BigInt64Array.of(-1n) },
            ...(topK !== null
              ? [{ name: 'k', dtype: 'int64' as const, dims: [1], data: BigInt64Array.of(BigInt(topK)) }]
              : []),
          ],
        },
      },
      this.options.engine,
    );
    return this.graph;
  }

  /**
   * Teacher rows for b users. `users` [b, d] (unit rows / τp), `items` [N, d] (unit rows),
   * `bias` [b, N] (0 or −∞) when masked. With `entropyOnly`, `p` is not fetched (empty).
   */
  async run(args: {
    users: Float32Array;
    b: number;
    items: ort.Tensor;
    bias?: Float32Array;
    entropyOnly?: boolean;
  }): Promise<TeacherBlock> {
    const session = await this.session();
    const n = args.items.dims[0];
    const d = args.items.dims[1];
    const feeds: Record<string, ort.Tensor> = {
      users: new ort.Tensor('float32', args.users, [args.b, d]),
      items: args.items,
    };
    if (this.options.masked) feeds.bias = new ort.Tensor('float32', args.bias as Float32Array, [args.b, n]);
    const fetches = args.entropyOnly
      ? ['entropy']
      : ['p', ...(this.options.topK !== null ? ['indices'] : []), 'entropy'];
    const out = await session.run(feeds, fetches);
    return {
      p: args.entropyOnly ? new Float32Array(0) : (out.p.data as Float32Array),
      indices: out.indices ? Int32Array.from(out.indices.data as BigInt64Array, Number) : undefined,
      entropy: out.entropy.data as Float32Array,
    };
  }

  async release(): Promise<void> {
    if (this.graph) await (await this.graph).release();
    this.graph = undefined;
  }
}
