// Local ONNX embedding speed: WordPiece tokenisation alone and the full encoder (tokenise + run +
// mean-pool + normalise) on all-MiniLM-L6-v2, for a few run batch sizes.
// Usage: pnpm build && PROMAX_MODELS_DIR=/path/to/models node bench/embed-bench.mjs [count]
// Texts: DBbook user profiles from the shared data when present (long, ~1,000 chars), else
// synthetic sentences. Prints one JSON object; also bench/results/embed.json.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createOnnxEmbedder } from '../packages/embed/dist/index.js';
import { benchDir, report, round } from './common.mjs';

const count = Number(process.argv[2] ?? 256);
const modelsDir = process.env.PROMAX_MODELS_DIR
  ? resolve(process.env.PROMAX_MODELS_DIR)
  : resolve(benchDir, '..', '..', 'shared', 'models');
const modelDir = join(modelsDir, 'all-MiniLM-L6-v2');
if (!existsSync(join(modelDir, 'model.onnx'))) {
  console.log(
    `skipping embed bench: no ONNX model at ${modelDir} (run tools/export-minilm-onnx.py, set PROMAX_MODELS_DIR)`,
  );
  process.exit(0);
}

const dataDir = process.env.PROMAX_DATA_DIR
  ? resolve(process.env.PROMAX_DATA_DIR)
  : resolve(benchDir, '..', '..', 'shared', 'data');
const profilesPath = join(dataDir, 'dbbook', 'user_profiles.jsonl.gz');
let texts;
let source;
if (existsSync(profilesPath)) {
  texts = gunzipSync(readFileSync(profilesPath))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, count)
    .map((l) => JSON.parse(l).profile);
  source = 'dbbook user profiles';
} else {
  texts = Array.from(
    { length: count },
    (_, i) =>
      `Synthetic profile ${i}: enjoys long fantasy series, quiet cafés and turn-based strategy games.`,
  );
  source = 'synthetic sentences';
}

const results = {
  texts: texts.length,
  source,
  mean_chars: round(texts.reduce((s, t) => s + t.length, 0) / texts.length, 1),
};
for (const runBatchSize of [16, 32, 64]) {
  const embedder = await createOnnxEmbedder({ modelDir, runBatchSize });
  if (runBatchSize === 16) {
    const t0 = performance.now();
    let tokens = 0;
    for (const t of texts) tokens += embedder.tokenizer.encode(t).ids.length;
    const ms = performance.now() - t0;
    results.tokenize = {
      ms: round(ms),
      texts_per_s: round((texts.length / ms) * 1000, 1),
      mean_tokens: round(tokens / texts.length, 1),
    };
    await embedder.doEmbed({ texts: texts.slice(0, 8) }); // warm-up
  }
  const t0 = performance.now();
  await embedder.doEmbed({ texts });
  const ms = performance.now() - t0;
  results[`embed_batch${runBatchSize}`] = {
    ms: round(ms),
    texts_per_s: round((texts.length / ms) * 1000, 1),
  };
  await embedder.release();
}
report('embed', results);
