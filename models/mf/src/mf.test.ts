import { PromaxError } from '@promax/core';
import { describeRecommenderModel, ModelHarness, tinyDataset } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createMf, mfDefinition } from './index.js';

describeRecommenderModel('mf', () => createMf({ embeddingSize: 8 }), { overfit: { steps: 150, lr: 0.05 } });

describe('mf', () => {
  it('encodes as its embedding tables, whatever the graph', async () => {
    const data = tinyDataset();
    const h = new ModelHarness(createMf({ embeddingSize: 4 }), data.train);
    const store = await h.initStore(1);
    const { a, b } = await h.encode(store, data.train, data.other);
    await h.release();
    expect(Array.from(a.users.data as Float32Array)).toEqual(Array.from(store.get('user_emb')));
    expect(Array.from(b.items.data as Float32Array)).toEqual(Array.from(store.get('item_emb')));
  });

  it('has documented defaults and validates settings', () => {
    expect(mfDefinition.defaults).toEqual({ embeddingSize: 32 });
    let error: unknown;
    try {
      createMf({ embeddingSize: -1 });
    } catch (e) {
      error = e;
    }
    expect(PromaxError.isInstance(error) && error.code).toBe('INVALID_CONFIG');
  });
});
