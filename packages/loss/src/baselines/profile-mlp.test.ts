import { Rng } from '@promax/core';
import { compileInference, GraphBuilder, xavierUniform } from '@promax/tensor';
import { describe, expect, it } from 'vitest';
import { m64, mlp64, transpose64 } from '../testing/baselines-reference.js';
import { profileMlp, profileMlpParameters, transposedInit } from './profile-mlp.js';

describe('profile MLP', () => {
  it('stores W₁ output-major with exactly the values an input-major draw gives, transposed', () => {
    const [D, H] = [7, 5];
    const inputMajor = new Float32Array(D * H);
    xavierUniform()(inputMajor, [D, H], new Rng(11));
    const outputMajor = new Float32Array(H * D);
    transposedInit(xavierUniform())(outputMajor, [H, D], new Rng(11));
    for (let i = 0; i < D; i++)
      for (let j = 0; j < H; j++) expect(outputMajor[j * D + i]).toBe(inputMajor[i * H + j]);
    const specs = profileMlpParameters('m', { input: D, hidden: H, output: 3 });
    expect(specs.map((s) => [s.name, s.shape])).toEqual([
      ['m.w1', [H, D]],
      ['m.b1', [H]],
      ['m.w2', [H, 3]],
      ['m.b2', [3]],
    ]);
  });

  it('computes LeakyReLU(X·W₁ᵀ + b₁)·W₂ + b₂ row by row (float64 reference)', async () => {
    const [R, D, H, d] = [6, 7, 5, 3];
    const rng = new Rng(3);
    const draw = (n: number) => Float32Array.from({ length: n }, () => rng.nextNormal());
    const x = draw(R * D);
    const values: Record<string, Float32Array> = {};
    for (const s of profileMlpParameters('m', { input: D, hidden: H, output: d })) {
      values[s.name] = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
      s.init?.(values[s.name], s.shape, rng);
    }
    // Negative pre-activations too, so both LeakyReLU branches are exercised.
    values['m.b1'].set(draw(H));
    const g = new GraphBuilder();
    const params = Object.fromEntries(
      profileMlpParameters('m', { input: D, hidden: H, output: d }).map((s) => [
        s.name,
        g.input(s.name, 'float32', s.shape),
      ]),
    );
    const y = profileMlp(g, g.input('x', 'float32', [R, D]), params, 'm');
    expect(y.shape).toEqual([R, d]);
    const program = await compileInference({ graph: g, outputs: { y } }, { cache: false });
    const out = (await program.run({ x, ...values })).y.data as Float32Array;
    await program.release();
    const want = mlp64(
      m64(R, D, x),
      transpose64(m64(H, D, values['m.w1'])),
      values['m.b1'],
      m64(H, d, values['m.w2']),
      values['m.b2'],
    );
    for (let k = 0; k < R * d; k++) expect(out[k]).toBeCloseTo(want.data[k], 5);
  });
});
