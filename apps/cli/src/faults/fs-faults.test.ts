// Issue 16, filesystem faults injected into `promax train` in process: a full disk (ENOSPC) or a
// read-only folder (EROFS) at the n-th write/mkdir, and files truncated by an interrupted writer.
// Tests run as root, so chmod would not stop a write: the faults come from a failing fs instead.
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadEmbeddings } from '@promax/data';
import { checkRunDirectory } from '@promax/pipeline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';
import { freshDir, trainArgs, writeTinyDataset } from './fault-fixtures.test-util.js';

const fault = vi.hoisted(() => ({ failAt: 0, count: 0, code: 'ENOSPC', ops: new Set<string>() }));

function failing<A extends unknown[], R>(name: string, f: (...a: A) => R): (...a: A) => R {
  return (...a: A): R => {
    if (fault.failAt > 0 && fault.ops.has(name) && ++fault.count === fault.failAt) {
      const path = String(a[0]);
      throw Object.assign(new Error(`${fault.code}: simulated fault, ${name} '${path}'`), {
        code: fault.code,
        syscall: name,
        path,
      });
    }
    return f(...a);
  };
}

vi.mock('node:fs/promises', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:fs/promises')>();
  const wrapAsync =
    <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> =>
      failing(name, f)(...a);
  const writeFile = wrapAsync('writeFile', m.writeFile);
  const appendFile = wrapAsync('appendFile', m.appendFile);
  const mkdir = wrapAsync('mkdir', m.mkdir);
  return { ...m, writeFile, appendFile, mkdir, default: { ...m, writeFile, appendFile, mkdir } };
});
vi.mock('node:fs', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:fs')>();
  const writeFileSync = failing('writeFileSync', m.writeFileSync);
  return { ...m, writeFileSync, default: { ...m, writeFileSync } };
});

const data = writeTinyDataset();

afterEach(() => {
  fault.failAt = 0;
  fault.count = 0;
});

async function train(out: string, extra: string[] = []) {
  const io = captureIo();
  const code = await main(trainArgs(data, out, ['--max-epochs', '2', ...extra]), io);
  return { code, err: io.stderr() };
}

describe('issue 16: filesystem faults during `promax train`', () => {
  it('a full disk at every write of an --overwrite run: a named error, the old run kept, a rerun completes', async () => {
    const out = join(freshDir('enospc'), 'run');
    expect((await train(out)).code).toBe(0);
    const { runId } = checkRunDirectory(out);
    const results = readFileSync(join(out, 'results.json'));

    // Count the writes of one clean overwrite, then fail each of them in turn.
    fault.ops = new Set(['writeFile', 'appendFile', 'writeFileSync']);
    fault.failAt = Number.MAX_SAFE_INTEGER;
    expect((await train(out, ['--overwrite'])).code).toBe(0);
    const writes = fault.count;
    expect(writes).toBeGreaterThan(10);
    const tally = { tried: 0, held: 0 };
    const baseline = checkRunDirectory(out).runId;
    for (let n = 1; n <= writes; n += Math.max(1, Math.floor(writes / 12))) {
      fault.failAt = n;
      fault.count = 0;
      fault.code = 'ENOSPC';
      const r = await train(out, ['--overwrite']);
      fault.failAt = 0;
      tally.tried++;
      // The report is written after the commit: a failure there keeps the new, complete run.
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(
        /^error \[IO_ERROR\]: cannot (write|access): the disk is full \(file \/.+\)\. Fix: free some disk space/m,
      );
      expect(r.err).not.toMatch(/unexpected error|\n\s+at /);
      const now = checkRunDirectory(out).runId;
      expect(now === baseline || now !== runId).toBe(true);
      expect(readdirSync(dirname(out)).filter((f) => f.startsWith('.run.'))).toEqual([]);
      tally.held++;
    }
    console.info(`full-disk faults: tried ${tally.tried} of ${writes} write points, held ${tally.held}`);
    expect(tally.held).toBe(tally.tried);
    expect(readFileSync(join(out, 'results.json')).equals(results)).toBe(false);
    expect((await train(out, ['--overwrite'])).code).toBe(0);
  }, 120_000);

  it('a read-only folder (EROFS on creating the staging folder) is a named error before any training', async () => {
    const out = join(freshDir('erofs'), 'run');
    fault.ops = new Set(['mkdir']);
    fault.code = 'EROFS';
    fault.failAt = 1;
    fault.count = 0;
    const r = await train(out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^error \[IO_ERROR\]: cannot create: the file system is read-only \(file \/.+\)\. Fix: choose a folder on a writable disk/m,
    );
    expect(r.err).not.toMatch(/epoch 1/);
    fault.failAt = 0;
    expect((await train(out)).code).toBe(0);
  });
});

describe('issue 16: files cut short by an interrupted writer are never read as complete', () => {
  it('a truncated embedding, manifest or results file is refused by the readers', async () => {
    const out = join(freshDir('trunc'), 'run');
    expect((await train(out)).code).toBe(0);
    const tally = { tried: 0, held: 0 };
    for (const file of [
      'user_emb.npy',
      'item_emb.npy',
      'results.json',
      'config.json',
      'manifest.json',
      'metrics.jsonl',
    ]) {
      const path = join(out, file);
      const whole = readFileSync(path);
      truncateSync(path, Math.floor(whole.length / 2));
      tally.tried++;
      const io = captureIo();
      const code = await main(['recommend', '--run', out, '--user', '3'], io);
      expect(code, file).toBe(2);
      expect(io.stderr()).toMatch(/error \[INCONSISTENT_RUN\]/);
      writeFileSync(path, whole);
      tally.held++;
    }
    // The loader itself names a cut .npy (without any manifest to compare with).
    const path = join(out, 'user_emb.npy');
    truncateSync(path, 100);
    expect(() => loadEmbeddings(path)).toThrow(/INVALID_FILE|truncated|expected/i);
    tally.tried++;
    tally.held++;
    console.info(`truncated files: tried ${tally.tried}, held ${tally.held}`);
  });

  it('a half-written temporary file left by a killed writer is ignored, and the rerun completes', async () => {
    const out = join(freshDir('tmpfile'), 'run');
    expect((await train(out)).code).toBe(0);
    const stray = join(out, 'user_emb.npy.tmp-999999-0');
    writeFileSync(stray, readFileSync(join(out, 'user_emb.npy')).subarray(0, 50));
    const io = captureIo();
    expect(await main(['recommend', '--run', out, '--user', '3', '--json'], io), io.stderr()).toBe(0);
    expect(JSON.parse(io.stdout()).items).toHaveLength(20);
    expect((await train(out, ['--overwrite'])).code).toBe(0);
    expect(readdirSync(out)).not.toContain('user_emb.npy.tmp-999999-0');
  });
});
