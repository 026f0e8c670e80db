import { describe, expect, it } from 'vitest';
import { trainMfBpr } from '../examples/mf-bpr.js';

describe('examples/mf-bpr.ts (the README example)', () => {
  it('trains MF with BPR on a 50×40 matrix: loss falls and liked items rank first', async () => {
    const { losses, store, liked } = await trainMfBpr({ nUsers: 50, nItems: 40, steps: 150, seed: 3 });
    expect(losses[0]).toBeGreaterThan(0.68);
    expect(losses[0]).toBeLessThan(0.71);
    const tail = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(tail).toBeLessThan(0.12);
    // AUC of liked vs other items, averaged over users, from the learned embeddings.
    const U = store.get('user_emb');
    const I = store.get('item_emb');
    let auc = 0;
    for (let u = 0; u < 50; u++) {
      const score = (i: number) => {
        let s = 0;
        for (let k = 0; k < 16; k++) s += U[u * 16 + k] * I[i * 16 + k];
        return s;
      };
      let good = 0;
      let pairs = 0;
      for (let i = 0; i < 40; i++) {
        if (!liked(u, i)) continue;
        for (let j = 0; j < 40; j++) {
          if (liked(u, j)) continue;
          pairs++;
          if (score(i) > score(j)) good++;
        }
      }
      auc += good / pairs / 50;
    }
    expect(auc).toBeGreaterThan(0.99);
  });
});
