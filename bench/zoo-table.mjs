// Markdown table of the full zoo runs written by bench/zoo-runs.mjs (bench/results/zoo-*.json):
// test metrics at the best validation epoch, best epoch, median train seconds per epoch.
// Usage: node bench/zoo-table.mjs [--dataset amazon-book]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDir } from './common.mjs';

const { values: args } = parseArgs({ options: { dataset: { type: 'string' } } });
const KEYS = ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20'];
const dir = join(benchDir, 'results');
const rows = readdirSync(dir)
  .filter((f) => /^zoo-.*\.json$/.test(f))
  .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }))
  .filter((r) => r.test && (!args.dataset || r.dataset === args.dataset))
  .sort((a, b) => `${a.dataset} ${a.benchmark}`.localeCompare(`${b.dataset} ${b.benchmark}`));
const settings = (r) =>
  Object.entries(r.model_settings ?? {})
    .filter(
      ([k, v]) =>
        !['embeddingSize', 'layers', 'layerCombination'].includes(k) && !(k === 'edgeKeepRate' && v === 1),
    )
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
console.log(`| run | dataset | settings | ${KEYS.join(' | ')} | best epoch | val R@20 | s/epoch |`);
console.log(`|---|---|---|${KEYS.map(() => '---:').join('|')}|---:|---:|---:|`);
for (const r of rows) {
  const name = r.benchmark.replace(/^zoo-/, '').replace(`-${r.dataset}-${r.seed}`, '');
  console.log(
    `| ${name} (seed ${r.seed}) | ${r.dataset} | ${settings(r) || '–'} | ${KEYS.map((k) => r.test[k].toFixed(4)).join(' | ')} | ${r.best_epoch} | ${r.val?.['recall@20']?.toFixed(4) ?? '–'} | ${r.timing.train_s_per_epoch?.toFixed(2)} |`,
  );
}
