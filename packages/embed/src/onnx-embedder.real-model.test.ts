// Real-model checks against all-MiniLM-L6-v2 exported by tools/export-minilm-onnx.py.
// The model folder is looked up in $PROMAX_MODELS_DIR, else ../shared/models beside the checkout;
// without it these tests are skipped with the reason printed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEmbedder, type OnnxEmbedder } from './onnx-embedder.js';

const MODEL = 'all-MiniLM-L6-v2';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const modelsDir = process.env.PROMAX_MODELS_DIR
  ? resolve(process.env.PROMAX_MODELS_DIR)
  : resolve(repoRoot, '..', 'shared', 'models');
const modelDir = join(modelsDir, MODEL);
const present = existsSync(join(modelDir, 'model.onnx')) || existsSync(join(modelDir, 'onnx', 'model.onnx'));
if (!present) {
  console.log(
    `skipping real-model tests: no ${MODEL} ONNX export at ${modelDir} ` +
      '(set PROMAX_MODELS_DIR or run tools/export-minilm-onnx.py --out <dir>/all-MiniLM-L6-v2)',
  );
}

interface Reference {
  sentences: string[];
  input_ids: number[][];
  embeddings: number[][];
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
};

describe.skipIf(!present)(`ONNX embedder on ${MODEL}`, () => {
  let embedder: OnnxEmbedder;
  beforeAll(async () => {
    embedder = await createOnnxEmbedder({ modelDir });
  });
  afterAll(async () => {
    await embedder?.release();
  });

  it('produces unit 384-d vectors that rank related sentences closer', async () => {
    expect(embedder.dimensions).toBe(384);
    expect(embedder.tokenizer.config.maxLength).toBe(256);
    const { embeddings } = await embedder.doEmbed({
      texts: [
        'A cat sits on the mat.',
        'A kitten is resting on a rug.',
        'Quarterly tax filing deadlines for corporations.',
      ],
    });
    for (const v of embeddings) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const [a, b, c] = embeddings as [Float32Array, Float32Array, Float32Array];
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.2);
  });

  const refPath = join(modelDir, 'promax-reference.json');
  it.skipIf(!existsSync(refPath))(
    'matches the Python sentence-transformers reference (ids exact, cosine ≥ 0.999)',
    async () => {
      const ref = JSON.parse(readFileSync(refPath, 'utf8')) as Reference;
      for (const [i, s] of ref.sentences.entries())
        expect(embedder.tokenizer.encode(s).ids).toEqual(ref.input_ids[i]);
      const { embeddings } = await embedder.doEmbed({ texts: ref.sentences });
      const cos = embeddings.map((v, i) => cosine(v, ref.embeddings[i] as number[]));
      console.log(
        `ONNX embedder vs sentence-transformers: min cosine ${Math.min(...cos).toFixed(7)} (1 − cos ≤ ${(1 - Math.min(...cos)).toExponential(1)}) over ${cos.length} sentences`,
      );
      for (const c of cos) expect(c).toBeGreaterThanOrEqual(0.999);
    },
  );
});
