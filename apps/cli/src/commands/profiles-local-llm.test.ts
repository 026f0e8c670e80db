import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateDataset, rawIds, resolveDataset } from '@promax/data';
import { LOCAL_PROFILE_PROMPT_DEFAULTS } from '@promax/llm-local';
import { loadItemTexts, profileTasks } from '@promax/profiles';
import { afterAll, describe, expect, it } from 'vitest';
import { locateTestGguf } from '../../../../packages/llm-local/src/test-model.fixture.js';
import { main } from '../main.js';
import { readJsonl, removeTempDirs, tempDir } from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

// `promax profiles --llm-gguf` on MovieLens-100K with the real Gemma-3-270M: a handful of
// entities, so it stays quick on 2 cores.
const gguf = locateTestGguf();
const ml = (() => {
  try {
    return locateDataset('ml100k');
  } catch (e) {
    return { error: (e as Error).message };
  }
})();
const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/bin.js');
const skip = !gguf.path
  ? gguf.reason
  : 'error' in ml
    ? `ml100k is absent: ${ml.error}`
    : !existsSync(bin)
      ? `${bin} is not built (pnpm build)`
      : '';
if (skip) console.warn(`skipping the local-LLM profiles command tests: ${skip}`);
afterAll(() => removeTempDirs());

const MODEL_ID =
  'gemma-3-270m-q4_k_m.gguf@sha256:a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818';

const flags = (out: string) => [
  '--dataset',
  'ml100k',
  '--llm-gguf',
  gguf.path as string,
  '--llm-parallel',
  '1',
  '--llm-context',
  '1024',
  '--out',
  out,
  '--quiet',
];

async function run(argv: string[]) {
  const io = captureIo();
  const t0 = Date.now();
  const code = await main(argv, io);
  console.log(`${argv.slice(-3).join(' ')}: ${Date.now() - t0} ms`);
  return { code, out: io.stdout(), err: io.stderr() };
}

const storeLines = (out: string) =>
  existsSync(join(out, 'profiles.store.jsonl')) ? readJsonl(join(out, 'profiles.store.jsonl')) : [];

/** Starts the command in a child process and SIGKILLs it once the store holds `after` answers. */
function killMidRun(argv: string[], out: string, after: number): Promise<void> {
  return new Promise((resolveKill, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], { stdio: 'ignore' });
    const timer = setInterval(() => {
      if (storeLines(out).length >= after) child.kill('SIGKILL');
    }, 100);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal === 'SIGKILL') resolveKill();
      else reject(new Error(`the run ended by itself (code ${code}) before it could be killed`));
    });
  });
}

describe.skipIf(skip !== '')('promax profiles --llm-gguf (Gemma-3-270M, MovieLens-100K)', () => {
  it('survives SIGKILL mid-run, resumes with every item exactly once, and a rerun generates nothing', async () => {
    const out = tempDir('promax-local-llm-');
    const argv = ['profiles', ...flags(out), '--kind', 'item', '--limit', '2'];
    await killMidRun(argv, out, 1);
    const before = storeLines(out).length;
    expect(before).toBe(1);

    const resumed = await run(argv);
    expect(resumed.err).not.toMatch(/error/i);
    expect(resumed.code).toBe(0);
    const lines = storeLines(out);
    const ids = lines.map((l) => (l.key as { id: string }).id).sort();
    expect(ids).toEqual(['1', '2']);
    expect(lines.every((l) => l.type === 'success')).toBe(true);
    // The store key names the model file and its SHA-256.
    expect((lines[0]?.key as { model?: string } | undefined)?.model).toBe(MODEL_ID);
    const profiles = readJsonl(join(out, 'item_profiles.jsonl'));
    expect(new Set(profiles.map((p) => p.profile)).size).toBe(profiles.length);
    const manifest = JSON.parse(readFileSync(join(out, 'item_profiles.run.json'), 'utf8'));
    expect(manifest.summary.alreadyStored).toBe(1);
    expect(manifest.summary.succeeded).toBe(1);
    expect(manifest.local.sha256).toBe(MODEL_ID.split(':')[1]);
    expect(manifest.local.tokens.completionTokens).toBeGreaterThan(0);
    expect(manifest.local.perMinute).toBeGreaterThan(0);

    const again = await run(argv);
    expect(again.code).toBe(0);
    expect(storeLines(out)).toHaveLength(2);
    const m2 = JSON.parse(readFileSync(join(out, 'item_profiles.run.json'), 'utf8'));
    expect(m2.summary.httpRequests).toBe(0);
    expect(m2.summary.alreadyStored).toBe(2);
  }, 240_000);

  it('--variants writes the extra profiles through the in-process model too, and a rerun generates nothing', async () => {
    const out = tempDir('promax-local-llm-');
    const argv = ['profiles', ...flags(out), '--kind', 'item', '--limit', '1', '--variants', '2'];
    const first = await run(argv);
    expect(first.code, first.err).toBe(0);
    const lines = storeLines(out);
    expect(lines.map((l) => (l.key as { variant?: number }).variant ?? 0).sort()).toEqual([0, 1, 2]);
    expect(lines.every((l) => l.type === 'success')).toBe(true);
    const texts = ['item_profiles.jsonl', 'item_profiles_1.jsonl', 'item_profiles_2.jsonl'].map((f) => {
      const entries = readJsonl(join(out, f));
      expect(
        entries.map((e) => e.item),
        f,
      ).toEqual(['1']);
      return entries[0]?.profile;
    });
    expect(new Set(texts).size).toBe(3);
    const manifest = JSON.parse(readFileSync(join(out, 'item_profiles_2.run.json'), 'utf8'));
    expect(manifest.templates).toEqual(['item-profile-variant-2-mood/movies@profile-v1']);
    expect(manifest.local.sha256).toBe(MODEL_ID.split(':')[1]);
    expect(first.out).toMatch(/^variant 2 \(mood\): 1 HTTP call, /m);

    const again = await run(argv);
    expect(again.code).toBe(0);
    expect(storeLines(out)).toHaveLength(3);
    expect(again.out).toMatch(/^variant 1 \(themes\): 0 HTTP calls/m);
  }, 240_000);

  it('builds user prompts from the train split only', async () => {
    // The stored prompt hash is the one of a prompt rebuilt from the user's train items alone
    // (no item profiles exist in a fresh --out), and none of the user's validation/test items is in it.
    const out = tempDir('promax-local-llm-');
    const user = await run(['profiles', ...flags(out), '--kind', 'user', '--limit', '1']);
    expect(user.code).toBe(0);
    const ds = resolveDataset('ml100k');
    const iids = rawIds(ds, 'item');
    const texts = loadItemTexts(ds);
    const titleOf = (j: number) => texts?.byId.get(iids[j] as string)?.title as string;
    const row = (m: { indptr: Int32Array; indices: Int32Array }) =>
      Array.from(m.indices.subarray(m.indptr[0], m.indptr[1])).sort((a, b) => a - b);
    const train = row(ds.train);
    const heldOut = [...row(ds.val), ...row(ds.test)];
    expect(heldOut.length).toBeGreaterThan(0);
    const history = train.map((j) => ({ title: titleOf(j), profile: null }));
    const uid = rawIds(ds, 'user')[0] as string;
    const [task] = profileTasks([{ kind: 'user', id: uid, domain: 'movies', history }], {
      model: MODEL_ID,
      // an in-process model gets the compact budgets beneath the user's own
      prompt: { ...LOCAL_PROFILE_PROMPT_DEFAULTS, domain: 'movies' },
    });
    const rec = storeLines(out).find((l) => (l.key as { id: string }).id === uid);
    expect(rec?.type).toBe('success');
    expect((rec?.key as { promptHash?: string } | undefined)?.promptHash).toBe(task?.promptHash);
    const prompt = task?.messages[1]?.content ?? '';
    const trainTitles = new Set(train.map(titleOf));
    for (const j of heldOut) {
      if (!trainTitles.has(titleOf(j))) expect(prompt).not.toContain(`"title":${JSON.stringify(titleOf(j))}`);
    }
  }, 240_000);
});
