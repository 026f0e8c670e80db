import { assertRecommenderModelV1, PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { describeRecommenderModel } from './describe-recommender-model.js';
import { createMockRecommenderModel } from './mock-model.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from './npy.js';
import { tinyDataset } from './tiny-data.js';

// The suite itself runs on the mocks: a graph model with every optional feature, and an MF-like one.
describeRecommenderModel('mock (graph, aux, noise)', () =>
  createMockRecommenderModel({ usesGraph: true, auxiliaryLoss: true, stochastic: true }),
);
describeRecommenderModel('mock (no graph)', () => createMockRecommenderModel({ usesGraph: false }));

describe('testkit helpers', () => {
  it('tinyDataset builds group-structured train rows and a different graph', () => {
    const d = tinyDataset();
    expect(d.train.rows).toBe(24);
    expect(d.train.cols).toBe(20);
    for (let u = 0; u < d.numUsers; u++) {
      const row = d.train.indices.subarray(d.train.indptr[u], d.train.indptr[u + 1]);
      expect(row.length).toBe(3);
      for (const i of row) expect(i % 4).toBe(u % 4);
    }
    expect(Array.from(d.other.indices)).not.toEqual(Array.from(d.train.indices));
  });

  it('.npy float32 round trip', () => {
    const x = Float32Array.from([1.5, -2, 3e-8, 7]);
    const back = decodeNpyFloat32(encodeNpyFloat32(x, [2, 2]));
    expect(back.shape).toEqual([2, 2]);
    expect(Array.from(back.data)).toEqual(Array.from(x));
  });

  it('the mock records its calls', () => {
    const m = createMockRecommenderModel();
    m.doDeclareParameters({ numUsers: 2, numItems: 3 });
    expect(m.calls).toEqual([{ method: 'doDeclareParameters', dims: { numUsers: 2, numItems: 3 } }]);
  });
});

describe('the v1 contract checks (@promax/core)', () => {
  const errorOf = (fn: () => unknown): PromaxError => {
    try {
      fn();
    } catch (e) {
      if (PromaxError.isInstance(e)) return e;
      throw e;
    }
    throw new Error('expected a PromaxError');
  };

  it('accepts a conforming model and rejects other specification versions', () => {
    expect(() => assertRecommenderModelV1(createMockRecommenderModel())).not.toThrow();
    const e = errorOf(() =>
      assertRecommenderModelV1({ ...createMockRecommenderModel(), specificationVersion: 'v2' }),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/specification v2.*'v1'/);
  });

  it('rejects capabilities that do not match the implemented methods', () => {
    const m = createMockRecommenderModel({ auxiliaryLoss: false });
    expect(
      errorOf(() =>
        assertRecommenderModelV1({ ...m, capabilities: { ...m.capabilities, hasAuxiliaryLoss: true } }),
      ).message,
    ).toMatch(/hasAuxiliaryLoss/);
    expect(
      errorOf(() =>
        assertRecommenderModelV1({ ...m, capabilities: { ...m.capabilities, hasStochasticInputs: true } }),
      ).message,
    ).toMatch(/hasStochasticInputs/);
  });
});
