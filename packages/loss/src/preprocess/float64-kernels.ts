import { type CompiledGraph, compileModel, type EngineOptions } from '@promax/tensor';
import * as ort from 'onnxruntime-node';

/**
 * The two dense float64 products of PCA whitening, on onnxruntime (multi-threaded BLAS instead
 * of JS loops): C ← C + XᵀX over blocks of rows, and Y = X·W.
 */
export class Float64Kernels {
  private gram?: Promise<CompiledGraph>;
  private project?: Promise<CompiledGraph>;

  constructor(private readonly engine: EngineOptions = {}) {}

  /** acc + xᵀx for a block x [m, D]; returns a new [D, D] array. */
  async addGram(x: Float64Array, m: number, dim: number, acc: Float64Array): Promise<Float64Array> {
    this.gram ??= compileModel(
      {
        graph: {
          name: 'promax_gram_f64',
          inputs: [
            { name: 'x', dtype: 'float64', shape: ['m', 'D'] },
            { name: 'acc', dtype: 'float64', shape: ['D', 'D'] },
          ],
          outputs: [{ name: 'out', dtype: 'float64', shape: ['D', 'D'] }],
          nodes: [
            {
              op: 'Gemm',
              inputs: ['x', 'x', 'acc'],
              outputs: ['out'],
              attributes: { transA: { type: 'int', value: 1 }, beta: { type: 'float', value: 1 } },
            },
          ],
        },
      },
      this.engine,
    );
    const graph = await this.gram;
    const out = await graph.run({
      x: new ort.Tensor('float64', x, [m, dim]),
      acc: new ort.Tensor('float64', acc, [dim, dim]),
    });
    return out.out.data as Float64Array;
  }

  /** x [m, D] · w [D, k]. */
  async matmul(x: Float64Array, m: number, dim: number, w: Float64Array, k: number): Promise<Float64Array> {
    this.project ??= compileModel(
      {
        graph: {
          name: 'promax_project_f64',
          inputs: [
            { name: 'x', dtype: 'float64', shape: ['m', 'D'] },
            { name: 'w', dtype: 'float64', shape: ['D', 'k'] },
          ],
          outputs: [{ name: 'y', dtype: 'float64', shape: ['m', 'k'] }],
          nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
        },
      },
      this.engine,
    );
    const graph = await this.project;
    const out = await graph.run({
      x: new ort.Tensor('float64', x, [m, dim]),
      w: new ort.Tensor('float64', w, [dim, k]),
    });
    return out.y.data as Float64Array;
  }

  async release(): Promise<void> {
    for (const p of [this.gram, this.project]) {
      if (p) await (await p).release();
    }
    this.gram = undefined;
    this.project = undefined;
  }
}
