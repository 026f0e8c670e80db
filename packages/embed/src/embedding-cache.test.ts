import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmbedCallOptions, EmbedCallResult, Embedder } from './embedder.js';
import { embedWithCache } from './embedding-cache.js';
import { decodeNpyFloat32 } from './npy.js';
import { createOnnxEmbedder } from './onnx-embedder.js';
import { expectedTinyEmbedding, writeTinyEncoder, writeTinyTokenizerJson } from './tiny-model.fixture.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'promax-cache-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A deterministic embedder that records every text it is asked for. */
class RecordingEmbedder implements Embedder {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'test';
  readonly dimensions = 4;
  readonly calls: string[][] = [];
  constructor(
    readonly modelId = 'recording',
    readonly maxBatchSize = 2,
  ) {}
  async doEmbed({ texts }: EmbedCallOptions): Promise<EmbedCallResult> {
    this.calls.push([...texts]);
    return {
      embeddings: texts.map((t) => Float32Array.from([t.length, t.charCodeAt(0) || 0, 1, -1])),
      usage: { tokens: texts.length * 10 },
    };
  }
  get embeddedTexts(): string[] {
    return this.calls.flat();
  }
}

describe('embedWithCache', () => {
  it('embeds once, then answers identical requests from disk with no calls', async () => {
    const dir = tmp();
    const e = new RecordingEmbedder();
    const texts = ['alpha', 'beta', 'gamma', 'alpha'];
    const first = await embedWithCache({ embedder: e, texts, cacheDir: dir, name: 'items' });
    expect(first.embedded).toBe(3); // duplicates embedded once
    expect(first.reused).toBe(0);
    expect(e.embeddedTexts).toEqual(['alpha', 'beta', 'gamma']);
    expect(first.usage.tokens).toBe(30);
    expect(Array.from(first.matrix.data.subarray(12, 16))).toEqual([5, 97, 1, -1]);

    const again = new RecordingEmbedder();
    const second = await embedWithCache({ embedder: again, texts, cacheDir: dir, name: 'items' });
    expect(again.calls).toEqual([]);
    expect(second.reused).toBe(4);
    expect(second.matrix.data).toEqual(first.matrix.data);

    const manifest = JSON.parse(readFileSync(join(dir, 'items.manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'promax-embedding-cache',
      modelId: 'recording',
      dimensions: 4,
      count: 4,
      npy: 'items.npy',
    });
    expect(manifest.textSha256).toHaveLength(4);
    const npy = decodeNpyFloat32(new Uint8Array(readFileSync(join(dir, 'items.npy'))));
    expect(npy.shape).toEqual([4, 4]);
    expect(npy.data).toEqual(first.matrix.data);
  });

  it('re-embeds only changed or new texts, in any order', async () => {
    const dir = tmp();
    await embedWithCache({
      embedder: new RecordingEmbedder(),
      texts: ['a1', 'b22', 'c333'],
      cacheDir: dir,
      name: 'p',
    });
    const e = new RecordingEmbedder();
    const res = await embedWithCache({
      embedder: e,
      texts: ['c333', 'b22 changed', 'a1', 'd4444'],
      cacheDir: dir,
      name: 'p',
    });
    expect(e.embeddedTexts).toEqual(['b22 changed', 'd4444']);
    expect([res.reused, res.embedded]).toEqual([2, 2]);
    expect(Array.from(res.matrix.data.subarray(0, 4))).toEqual([4, 99, 1, -1]);
    expect(Array.from(res.matrix.data.subarray(8, 12))).toEqual([2, 97, 1, -1]);
  });

  it('re-embeds everything for another model and ignores a corrupted cache with a warning', async () => {
    const dir = tmp();
    await embedWithCache({
      embedder: new RecordingEmbedder('m1'),
      texts: ['x', 'y'],
      cacheDir: dir,
      name: 'c',
    });
    const other = new RecordingEmbedder('m2');
    await embedWithCache({ embedder: other, texts: ['x', 'y'], cacheDir: dir, name: 'c' });
    expect(other.embeddedTexts).toEqual(['x', 'y']);

    const npyPath = join(dir, 'c.npy');
    const bytes = readFileSync(npyPath);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(npyPath, bytes);
    const events: ProgressEvent[] = [];
    const third = new RecordingEmbedder('m2');
    await embedWithCache({
      embedder: third,
      texts: ['x', 'y'],
      cacheDir: dir,
      name: 'c',
      onProgress: (ev) => events.push(ev),
    });
    expect(third.embeddedTexts).toEqual(['x', 'y']);
    expect(events.some((ev) => ev.type === 'warning' && /does not match/.test(ev.message))).toBe(true);
  });

  it('checkpoints so a crash mid-way keeps the batches already paid for', async () => {
    const dir = tmp();
    class Crashing extends RecordingEmbedder {
      override async doEmbed(o: EmbedCallOptions): Promise<EmbedCallResult> {
        if (this.calls.length === 3) throw new Error('killed');
        return super.doEmbed(o);
      }
    }
    const texts = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];
    await expect(
      embedWithCache({ embedder: new Crashing(), texts, cacheDir: dir, name: 'k', checkpointEvery: 1 }),
    ).rejects.toThrow('killed');
    const resume = new RecordingEmbedder();
    const res = await embedWithCache({ embedder: resume, texts, cacheDir: dir, name: 'k' });
    expect(resume.embeddedTexts).toEqual(['t7', 't8']);
    expect(res.reused).toBe(6);
  });

  it('keeps the batches already paid for when the embedder gives up or the run is aborted between checkpoints', async () => {
    const dir = tmp();
    const ac = new AbortController();
    class GivingUp extends RecordingEmbedder {
      override async doEmbed(o: EmbedCallOptions): Promise<EmbedCallResult> {
        if (this.calls.length === 2) throw new Error('HTTP 503 after 6 retries');
        return super.doEmbed(o);
      }
    }
    const texts = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];
    await expect(
      embedWithCache({ embedder: new GivingUp(), texts, cacheDir: dir, name: 'g' }),
    ).rejects.toThrow(/503/);
    class Interrupted extends RecordingEmbedder {
      override async doEmbed(o: EmbedCallOptions): Promise<EmbedCallResult> {
        const out = await super.doEmbed(o);
        if (this.calls.length === 1) ac.abort();
        return out;
      }
    }
    // the 4 texts from before are reused; 2 more are embedded before the abort lands
    await expect(
      embedWithCache({
        embedder: new Interrupted(),
        texts,
        cacheDir: dir,
        name: 'g',
        abortSignal: ac.signal,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    const resume = new RecordingEmbedder();
    const res = await embedWithCache({ embedder: resume, texts, cacheDir: dir, name: 'g' });
    expect(resume.embeddedTexts).toEqual(['t7', 't8']);
    expect(res.reused).toBe(6);
  });

  it('works end to end with the ONNX embedder', async () => {
    const model = tmp();
    writeTinyTokenizerJson(model);
    writeTinyEncoder(model);
    const onnx = await createOnnxEmbedder({ modelDir: model });
    try {
      const dir = tmp();
      const res = await embedWithCache({
        embedder: onnx,
        texts: ['hello', 'the'],
        cacheDir: dir,
        name: 'onnx',
      });
      expect(res.manifest.modelId).toBe(onnx.modelId);
      const v = Array.from(res.matrix.data.subarray(0, 3));
      for (const [i, x] of expectedTinyEmbedding([2, 5, 3]).entries()) expect(v[i]).toBeCloseTo(x, 5);
      const again = await embedWithCache({
        embedder: onnx,
        texts: ['hello', 'the'],
        cacheDir: dir,
        name: 'onnx',
      });
      expect(again.embedded).toBe(0);
    } finally {
      await onnx.release();
    }
  });

  it('rejects unsafe cache names', async () => {
    await expect(
      embedWithCache({ embedder: new RecordingEmbedder(), texts: [], cacheDir: tmp(), name: '../x' }),
    ).rejects.toThrow(/cache name/);
  });
});
