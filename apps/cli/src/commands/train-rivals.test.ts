import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';
import { hasNumpy, writeRlmrecPickleFolder } from '../test-util/rlmrec-pickles.js';

if (!hasNumpy)
  console.warn('skipping the rival-method CLI runs: python3 with numpy is needed to write RLMRec pickles');

describe.skipIf(!hasNumpy)(
  'promax train with the rival methods on an RLMRec folder with 1536-d pickles',
  () => {
    const data = hasNumpy
      ? writeRlmrecPickleFolder(mkdtempSync(join(tmpdir(), 'promax-rivals-')), [
          'usr',
          'itm',
          'usr_1',
          'itm_1',
          'usr_2',
          'itm_2',
          'usr_3',
          'itm_3',
        ])
      : '';

    for (const method of ['rlmrec-con', 'rlmrec-gen', 'proex', 'kar']) {
      it(`--method ${method} trains and records the method with its resolved settings`, async () => {
        const out = join(data, `run-${method}`);
        const io = captureIo();
        const code = await main(
          [
            'train',
            '--dataset',
            data,
            '--model',
            'lightgcn',
            '--method',
            method,
            '--max-epochs',
            '1',
            '--set',
            'trainer.batchSize=64',
            '--out',
            out,
          ],
          io,
        );
        expect(code, io.stderr()).toBe(0);
        const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
        const text = JSON.stringify(results);
        expect(text).toContain(`"${method}"`);
        expect(text).toMatch(/usr_emb_np\.pkl/);
        const own = {
          'rlmrec-con': /"kdWeight":0\.01/,
          'rlmrec-gen': /"maskRatio":0\.15/,
          proex: /"numEnvs":3/,
          kar: /"specificExperts":6/,
        }[method] as RegExp;
        expect(text).toMatch(own);
        if (method === 'kar') expect(text).toMatch(/our adaptation/);
        if (method === 'proex') expect(text).toMatch(/usr_emb_np_1\.pkl/);
      });
    }

    it('a method on a model it does not support is a named error', async () => {
      const io = captureIo();
      const code = await main(
        [
          'train',
          '--dataset',
          data,
          '--model',
          'mf',
          '--method',
          'rlmrec-con',
          '--out',
          join(data, 'run-mf'),
        ],
        io,
      );
      expect(code).not.toBe(0);
      expect(io.stderr()).toMatch(/rlmrec-con does not support model mf/);
    });
  },
);
