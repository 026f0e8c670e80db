import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProgressEvent, PromaxError } from '@promax/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedMany } from './embedder.js';
import { createOnnxEmbedder, type OnnxEmbedder } from './onnx-embedder.js';
import {
  expectedTinyEmbedding,
  TINY_DIM,
  writeTinyEncoder,
  writeTinyTokenizerJson,
} from './tiny-model.fixture.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'promax-onnx-'));
  dirs.push(d);
  return d;
};

let embedder: OnnxEmbedder;
beforeAll(async () => {
  const dir = tmp();
  writeTinyTokenizerJson(dir);
  writeTinyEncoder(dir);
  embedder = await createOnnxEmbedder({ modelDir: dir, runBatchSize: 2, modelId: 'tiny' });
});
afterAll(async () => {
  await embedder?.release();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i] as number, 5);
};

describe('createOnnxEmbedder with a generated tiny encoder', () => {
  it('announces the spec and the width from the graph', () => {
    expect(embedder.specificationVersion).toBe('v1');
    expect(embedder.provider).toBe('onnx');
    expect(embedder.modelId).toBe('tiny');
    expect(embedder.dimensions).toBe(TINY_DIM);
  });

  it('mean-pools over real tokens only and L2-normalises (hand computation)', async () => {
    const texts = ['hello', 'Hello, WORLD! playing', 'unaffable café', 'the'];
    const { embeddings, usage } = await embedder.doEmbed({ texts });
    // ids from the tokenizer test: [CLS]=2 hello=5 ,=11 world=6 !=12 play=14 ##ing=15 [SEP]=3 ...
    const ids = [
      [2, 5, 3],
      [2, 5, 11, 6, 12, 14, 15, 3],
      [2, 7, 8, 9, 10, 3],
      [2, 13, 3],
    ];
    for (const [i, row] of ids.entries()) close(embeddings[i] as Float32Array, expectedTinyEmbedding(row));
    for (const v of embeddings) expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(usage.tokens).toBe(3 + 8 + 6 + 3);
  });

  it('gives the same vector for a text alone or inside a padded batch', async () => {
    const alone = (await embedder.doEmbed({ texts: ['hello'] })).embeddings[0] as Float32Array;
    const batched = await embedder.doEmbed({ texts: ['hello world world world world', 'hello', 'the the'] });
    close(batched.embeddings[1] as Float32Array, alone);
  });

  it('batches through embedMany and reports progress', async () => {
    const texts = Array.from({ length: 7 }, (_, i) => (i % 2 ? 'hello world' : 'the cafe'));
    const events: ProgressEvent[] = [];
    const small = Object.create(embedder, { maxBatchSize: { value: 3 } }) as OnnxEmbedder;
    const { matrix } = await embedMany(small, texts, { onProgress: (e) => events.push(e) });
    expect([matrix.rows, matrix.cols]).toEqual([7, TINY_DIM]);
    close(matrix.data.subarray(3, 6), expectedTinyEmbedding([2, 5, 6, 3]));
    expect(events.filter((e) => e.type === 'task-progress').map((e) => (e as { done: number }).done)).toEqual(
      [3, 6, 7],
    );
    expect(events.at(-1)?.type).toBe('task-end');
  });

  it('skips normalisation when asked', async () => {
    const dir = tmp();
    writeTinyTokenizerJson(dir);
    writeTinyEncoder(dir, { withTokenTypes: false });
    const raw = await createOnnxEmbedder({ modelDir: dir, normalize: false });
    try {
      const v = (await raw.doEmbed({ texts: ['hello'] })).embeddings[0] as Float32Array;
      close(v, [(2 + 5 + 3) / 3, 1, (1 + 1 + -1) / 3]);
    } finally {
      await raw.release();
    }
  });

  it('rejects unknown settings, missing folders and oversize calls', async () => {
    await expect(createOnnxEmbedder({ modelDir: tmp(), batchSize: 3 } as never)).rejects.toThrow(
      /unknown ONNX embedder setting 'batchSize'/,
    );
    await expect(createOnnxEmbedder({ modelDir: join(tmpdir(), 'promax-does-not-exist') })).rejects.toSatisfy(
      (e: unknown) => PromaxError.isInstance(e) && e.code === 'FILE_NOT_FOUND',
    );
    const d = tmp();
    writeTinyTokenizerJson(d);
    await expect(createOnnxEmbedder({ modelDir: d })).rejects.toThrow(/no ONNX model/);
    await expect(embedder.doEmbed({ texts: new Array(2000).fill('x') })).rejects.toThrow(/maxBatchSize/);
  });

  it('stops between runs when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(embedder.doEmbed({ texts: ['hello'], abortSignal: ac.signal })).rejects.toSatisfy(
      (e: unknown) => PromaxError.isInstance(e) && e.code === 'ABORTED',
    );
  });
});
