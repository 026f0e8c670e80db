import { describe, expect, it } from 'vitest';
import { runCustomPipeline } from './custom-pipeline.js';

describe('custom pipeline example', () => {
  it('trains LightGCN+ProMax (S2DR) on the bundled Amazon-book for one epoch and reports metrics', async () => {
    const out = await runCustomPipeline({ maxEpochs: 1 });
    expect(out.components).toMatchObject({ s2dr: true });
    expect(out.test['recall@20']).toBeGreaterThan(0.005); // one epoch already beats random (≈ 0.002)
    expect(out.test['recall@20']).toBeLessThan(0.2);
  }, 240_000);
});
