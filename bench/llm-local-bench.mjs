// In-process LLM throughput: profiles/min for MovieLens-100K items and users with a GGUF model
// (default Gemma-3-270M Q4_K_M from tools/fetch-gguf.sh) at 1, 2, 4 and 8 parallel sequences,
// through the same profile job and answer grammar as `promax profiles --llm-gguf`.
// Usage: pnpm build && node bench/llm-local-bench.mjs [profilesPerSetting] [threads] [model.gguf]
// (LLM_BENCH_PARALLEL=1,2,4,8 picks the parallel settings)
// Env: PROMAX_MODELS_DIR, PROMAX_DATA_DIR. Prints one JSON object; also
// bench/results/llm-local.json. Each setting writes max(profilesPerSetting, parallel) profiles.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  LOCAL_PROFILE_PROMPT_DEFAULTS,
  loadLocalChatModel,
  localProfileAnswerSchema,
} from '../packages/llm-local/dist/index.js';
import { generateProfiles, ResultStore } from '../packages/profiles/dist/index.js';
import { benchDir, report, round } from './common.mjs';

const perSetting = Number(process.argv[2] ?? 4);
const threads = Number(process.argv[3] ?? 1);
const settingsList = (process.env.LLM_BENCH_PARALLEL ?? '1,2,4,8').split(',').map(Number);
// The model: a path as the third argument, else Gemma-3-270M in $PROMAX_MODELS_DIR or .cache/models.
const gguf = resolve(
  process.argv[4] ??
    join(
      process.env.PROMAX_MODELS_DIR ?? join(benchDir, '..', '.cache', 'models'),
      'gemma-3-270m-q4_k_m.gguf',
    ),
);
const dataDir = resolve(process.env.PROMAX_DATA_DIR ?? join(benchDir, '..', '..', 'shared', 'data'));
const ml = join(dataDir, 'ml100k');
if (!existsSync(gguf) || !existsSync(join(ml, 'u.item.gz'))) {
  console.log(`skipping llm-local bench: needs ${gguf} (tools/fetch-gguf.sh) and ${ml}/u.item.gz`);
  process.exit(0);
}

const lines = (f) =>
  gunzipSync(readFileSync(join(ml, f)))
    .toString('latin1')
    .split('\n')
    .filter(Boolean);
const genres = lines('u.genre.gz').map((l) => l.split('|')[0]);
const movies = new Map();
for (const l of lines('u.item.gz')) {
  const f = l.split('|');
  const g = genres.filter((_, k) => f[5 + k] === '1');
  movies.set(f[0], { title: f[1], genres: g.join(', '), release_date: f[2] });
}
// User histories: rated movies in time order (the bench measures speed; the CLI uses the train split).
const byUser = new Map();
for (const l of lines('u.data.gz')) {
  const [u, i, , t] = l.split('\t');
  if (!byUser.has(u)) byUser.set(u, []);
  byUser.get(u).push([Number(t), i]);
}
const itemIds = [...movies.keys()];
const userIds = [...byUser.keys()].sort((a, b) => Number(a) - Number(b));
let nextItem = 0;
let nextUser = 0;
const itemRequests = (n) =>
  Array.from({ length: n }, () => {
    const id = itemIds[nextItem++];
    return { kind: 'item', id, domain: 'movies', facts: movies.get(id) };
  });
const userRequests = (n) =>
  Array.from({ length: n }, () => {
    const id = userIds[nextUser++];
    const history = byUser
      .get(id)
      .sort((a, b) => a[0] - b[0])
      .slice(-LOCAL_PROFILE_PROMPT_DEFAULTS.maxHistoryItems)
      .map(([, i]) => ({ title: movies.get(i).title, profile: null }));
    return { kind: 'user', id, domain: 'movies', history };
  });

const dir = mkdtempSync(join(tmpdir(), 'promax-llm-bench-'));
const results = [];
try {
  for (const parallel of settingsList) {
    const model = await loadLocalChatModel({
      settings: { modelPath: gguf, parallel, threads, contextSize: 4096 },
      responseSchema: localProfileAnswerSchema,
    });
    const row = { parallel, loadMs: model.info.loadMs };
    for (const kind of ['item', 'user']) {
      const n = Math.max(perSetting, parallel);
      const requests = kind === 'item' ? itemRequests(n) : userRequests(n);
      const store = await ResultStore.open(join(dir, `${kind}-${parallel}.jsonl`));
      const t0 = performance.now();
      const r = await generateProfiles(requests, {
        client: model,
        settings: { model: model.info.modelId, concurrency: parallel },
        prompt: LOCAL_PROFILE_PROMPT_DEFAULTS,
        store,
      });
      const ms = performance.now() - t0;
      await store.close();
      row[kind] = {
        profiles: r.profiles.length,
        failures: r.failures.length,
        seconds: round(ms / 1000),
        profilesPerMin: round((r.profiles.length + r.failures.length) / (ms / 60_000)),
        promptTokens: r.summary.usage.promptTokens,
        completionTokens: r.summary.usage.completionTokens,
        completionTokensPerSec: round(r.summary.usage.completionTokens / (ms / 1000)),
        example: r.profiles[0]?.summarization,
      };
    }
    results.push(row);
    // One line per finished setting on stderr, so a cut-short run still shows what it measured.
    console.error(JSON.stringify(row));
    await model.dispose();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const best = (kind) => Math.max(...results.map((r) => r[kind].profilesPerMin));
report('llm-local', {
  model: gguf.split('/').at(-1),
  threads,
  profilesPerSetting: perSetting,
  prompt: LOCAL_PROFILE_PROMPT_DEFAULTS,
  results,
  best: { itemsPerMin: best('item'), usersPerMin: best('user') },
  targets: { itemsPerMin: 60, usersPerMin: 30 },
});
