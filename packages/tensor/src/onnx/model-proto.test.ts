import { describe, expect, it } from 'vitest';
import { compileModel, float32Tensor } from '../session.js';

describe('ONNX model encoder', () => {
  it('round-trips through onnxruntime: MatMul + Add with an initializer, symbolic batch dim', async () => {
    const g = await compileModel({
      graph: {
        name: 'mm',
        inputs: [
          { name: 'x', dtype: 'float32', shape: ['batch', 3] },
          { name: 'w', dtype: 'float32', shape: [3, 2] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
        initializers: [{ name: 'b', dtype: 'float32', dims: [2], data: new Float32Array([10, -10]) }],
        nodes: [
          { op: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
          { op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
        ],
      },
    });
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    const w = new Float32Array([1, 0, 0, 1, 1, 1]);
    const out = await g.run({ x: float32Tensor(x, [2, 3]), w: float32Tensor(w, [3, 2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([1 + 3 + 10, 2 + 3 - 10, 4 + 6 + 10, 5 + 6 - 10]);
    expect(out.y.dims).toEqual([2, 2]);
  });

  it('encodes attributes (ints, int, float) and negative ints', async () => {
    const g = await compileModel({
      graph: {
        name: 'attrs',
        inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
        outputs: [
          { name: 't', dtype: 'float32' },
          { name: 's', dtype: 'float32' },
          { name: 'l', dtype: 'float32' },
        ],
        nodes: [
          {
            op: 'Transpose',
            inputs: ['x'],
            outputs: ['t'],
            attributes: { perm: { type: 'ints', value: [1, 0] } },
          },
          { op: 'Softmax', inputs: ['x'], outputs: ['s'], attributes: { axis: { type: 'int', value: -1 } } },
          {
            op: 'LeakyRelu',
            inputs: ['x'],
            outputs: ['l'],
            attributes: { alpha: { type: 'float', value: 0.25 } },
          },
        ],
      },
    });
    const out = await g.run({ x: float32Tensor(new Float32Array([1, -2, 3, -4, 5, 0]), [2, 3]) });
    expect(out.t.dims).toEqual([3, 2]);
    expect(Array.from(out.t.data as Float32Array)).toEqual([1, -4, -2, 5, 3, 0]);
    const s = out.s.data as Float32Array;
    expect(s[0] + s[1] + s[2]).toBeCloseTo(1, 6);
    expect(Array.from(out.l.data as Float32Array)).toEqual([1, -0.5, 3, -1, 5, 0]);
  });
});
