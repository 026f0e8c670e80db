// ProEx end to end on a user's own data: `promax profiles --variants 3` (the fake OpenAI server on
// 127.0.0.1) → `promax embed` (the local all-MiniLM-L6-v2 ONNX export, found by its bare name in
// $PROMAX_MODELS_DIR or ../shared/models) → `promax train --method proex --embeddings DIR`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEmbeddings } from '@promax/data';
import { afterAll, describe, expect, it } from 'vitest';
import { useFakeOpenAIServer } from '../../../../packages/profiles/src/fake-openai-server.fixture.js';
import { main } from '../main.js';
import {
  removeTempDirs,
  tempDir,
  writeSyntheticDataset,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';
import { COMMANDS } from './index.js';

const MODEL = 'all-MiniLM-L6-v2';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const modelDirs = [
  ...(process.env.PROMAX_MODELS_DIR ? [join(resolve(process.env.PROMAX_MODELS_DIR), MODEL)] : []),
  join(repoRoot, '..', 'shared', 'models', MODEL),
];
const present = modelDirs.some((d) => existsSync(join(d, 'model.onnx')));
if (!present) {
  console.warn(
    `skipping the ProEx profile-variant pipeline test: no ${MODEL} ONNX export in ${modelDirs.join(' or ')} ` +
      '(set PROMAX_MODELS_DIR or run tools/export-minilm-onnx.py --out <dir>/all-MiniLM-L6-v2)',
  );
}

const server = useFakeOpenAIServer({ resetAfterEach: false });
afterAll(removeTempDirs);

const run = async (argv: string[]) => {
  const io = captureIo();
  io.env = { ...io.env, OPENAI_API_KEY: 'sk-test-variants' };
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

const trainArgs = (dataset: string, embeddings: string, out: string) => [
  'train',
  '--dataset',
  dataset,
  '--model',
  'lightgcn',
  '--method',
  'proex',
  '--embeddings',
  embeddings,
  '--max-epochs',
  '1',
  '--set',
  'trainer.batchSize=64',
  '--out',
  out,
];

describe.skipIf(!present)('ProEx on generated profile variants: profiles → embed → train', () => {
  it('writes, embeds and trains on three extra profiles per entity; without them the error names these commands', async () => {
    const ds = writeSyntheticDataset();
    const profiles = tempDir('promax-variants-');
    const gen = await run([
      'profiles',
      '--dataset',
      ds.dir,
      '--llm-base-url',
      server.baseURL,
      '--llm-model',
      'gpt-4o-mini',
      '--variants',
      '3',
      '--rpm',
      '100000',
      '--tpm',
      '100000000',
      '--quiet',
      '--out',
      profiles,
    ]);
    expect(gen.code, gen.err).toBe(0);
    expect(server.log.length).toBe(54 * 4);

    const emb = tempDir('promax-variants-emb-');
    const embedded = await run([
      'embed',
      '--profiles',
      profiles,
      '--encoder',
      `onnx:${MODEL}`,
      '--out',
      emb,
      '--quiet',
    ]);
    expect(embedded.code, embedded.err).toBe(0);
    const main0 = loadEmbeddings(join(emb, 'usr_emb.npy'));
    expect(main0.cols).toBe(384);
    for (const k of [1, 2, 3]) {
      const u = loadEmbeddings(join(emb, `usr_emb_np_${k}.npy`));
      const i = loadEmbeddings(join(emb, `itm_emb_np_${k}.npy`));
      expect([u.rows, u.cols, i.rows, i.cols], `variant ${k}`).toEqual([24, 384, 30, 384]);
      // every row is a unit vector (a profile for every entity), and differs from the main profile's
      for (const m of [u, i]) {
        for (let r = 0; r < m.rows; r++) {
          const row = m.data.subarray(r * m.cols, (r + 1) * m.cols);
          expect(Math.hypot(...row)).toBeCloseTo(1, 4);
        }
      }
      expect(Array.from(u.data.subarray(0, 384))).not.toEqual(Array.from(main0.data.subarray(0, 384)));
    }
    expect(embedded.out).toMatch(/users \(variant 3\): 24\/24 from profiles/);

    const runDir = join(tempDir('promax-variants-run-'), 'run');
    const trained = await run(trainArgs(ds.dir, emb, runDir));
    expect(trained.code, trained.err).toBe(0);
    // the run says it used the extra profiles, and records which files
    expect(trained.out + trained.err).toMatch(
      /proex: runs .*extraProfileEmbeddings \([^)]*usr_emb_np_1\.npy/,
    );
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
    const proex = (results.methods as { id: string; report: { used: Record<string, string> } }[]).find(
      (m) => m.id === 'proex',
    );
    for (const k of [1, 2, 3]) {
      expect(proex?.report.used.extraProfileEmbeddings).toContain(join(emb, `usr_emb_np_${k}.npy`));
      expect(proex?.report.used.extraProfileEmbeddings).toContain(join(emb, `itm_emb_np_${k}.npy`));
    }
    expect(JSON.stringify(results)).toMatch(/"profiles":4/);

    // the same data without the variants: the missing-input error's fix names real commands and flags
    const mainOnly = tempDir('promax-variants-main-');
    expect(
      (
        await run([
          'embed',
          '--profiles',
          profiles,
          '--encoder',
          `onnx:${MODEL}`,
          '--variants',
          '0',
          '--out',
          mainOnly,
          '--quiet',
        ])
      ).code,
    ).toBe(0);
    const missing = await run(trainArgs(ds.dir, mainOnly, join(tempDir(), 'run')));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/error \[MISSING_INPUT\]: method proex needs extra profile embeddings/);
    const fix = /Fix: (.*)/.exec(missing.err)?.[1] ?? '';
    const named = [...fix.matchAll(/promax (profiles|embed) ((?:--[a-z-]+(?: [^\s,-][^\s,]*)?\s*)+)/g)];
    expect(named.map((m) => m[1])).toEqual(['profiles', 'embed']);
    for (const [, command, flags] of named) {
      const usage = COMMANDS[command as string]?.usage ?? '';
      for (const flag of (flags as string).match(/--[a-z-]+/g) ?? [])
        expect(usage, `promax ${command} ${flag}`).toContain(`${flag} `);
    }
    expect(fix).toMatch(/--variants 3/);
    expect(fix).toMatch(/train with --embeddings EMB/);
  }, 240_000);
});
