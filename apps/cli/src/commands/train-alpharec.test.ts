import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';
import { hasNumpy, writeRlmrecPickleFolder } from '../test-util/rlmrec-pickles.js';

if (!hasNumpy)
  console.warn('skipping the AlphaRec CLI runs: python3 with numpy is needed to write RLMRec pickles');

describe.skipIf(!hasNumpy)(
  'promax train / reproduce --model alpharec on an RLMRec folder with 1536-d pickles',
  () => {
    const root = hasNumpy ? mkdtempSync(join(tmpdir(), 'promax-alpharec-cli-')) : '';

    it('trains on the item profiles alone (no usr_emb_np.pkl) and records its settings and input', async () => {
      const data = writeRlmrecPickleFolder(join(root, 'items-only'), ['itm']);
      const out = join(root, 'run-alpharec');
      const io = captureIo();
      const code = await main(
        [
          'train',
          '--dataset',
          data,
          '--model',
          'alpharec',
          '--max-epochs',
          '1',
          '--set',
          'trainer.batchSize=64',
          '--set',
          'modelSettings.negatives=16',
          '--out',
          out,
        ],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expect(results.model_id).toBe('alpharec');
      // 'auto' is recorded as the width the run read: the 1536-d item pickle
      expect(results.model_settings).toMatchObject({
        inputSize: 1536,
        hiddenRatio: 0.5,
        negatives: 16,
        tau: 0.15,
      });
      expect(results.model_inputs.itemProfileEmbeddings).toMatch(/itm_emb_np\.pkl$/);
      expect(Number.isFinite(results.test['recall@20'])).toBe(true);
      const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
      expect(metrics).toMatch(/"ssm"/);
      expect(metrics).not.toMatch(/"bpr"/);
    });

    it('a folder without itm_emb_np is a MISSING_INPUT error naming the file', async () => {
      const data = writeRlmrecPickleFolder(join(root, 'no-profiles'), []);
      const io = captureIo();
      const code = await main(
        ['train', '--dataset', data, '--model', 'alpharec', '--out', join(root, 'run-missing')],
        io,
      );
      expect(code).not.toBe(0);
      expect(io.stderr()).toMatch(/MISSING_INPUT/);
      expect(io.stderr()).toMatch(/model alpharec needs item profile embeddings/);
      expect(io.stderr()).toMatch(/no-profiles\/itm_emb_np\.pkl/);
    });

    it('reproduce --models alpharec trains the base and base+ProMax (SDR over AlphaRec)', async () => {
      const data = writeRlmrecPickleFolder(join(root, 'both'), ['usr', 'itm']);
      const out = join(root, 'repro');
      const io = captureIo();
      const code = await main(
        [
          'reproduce',
          '--dataset',
          data,
          '--models',
          'alpharec',
          '--seeds',
          '2025',
          '--max-epochs',
          '1',
          '--set',
          'trainer.batchSize=64',
          '--set',
          'modelSettings.negatives=16',
          // ProMax whitens the profiles to k = d: 40 users span fewer than the default 64 directions.
          '--set',
          'modelSettings.embeddingSize=16',
          '--quiet',
          '--json',
          '--out',
          out,
        ],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      const res = JSON.parse(io.stdout());
      expect(res.runs.map((r: { method: string | null }) => r.method)).toEqual([null, 'promax']);
      expect(Number.isFinite(res.summary.alpharec.base['recall@20'].mean)).toBe(true);
      const withPromax = JSON.parse(
        readFileSync(join(out, 'alpharec', 'seed-2025', 'promax', 'results.json'), 'utf8'),
      );
      expect(withPromax.promax.components).toMatchObject({ sdr: true });
    });
  },
);
