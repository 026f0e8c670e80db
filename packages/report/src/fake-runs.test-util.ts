// Test helpers: small run directories shaped like `promax train`'s (config.json, metrics.jsonl,
// results.json, optional final embeddings), written by hand so report tests never train.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Matrix } from '@promax/core';
import { saveEmbeddings } from '@promax/data';

export interface FakeRunOptions {
  model: string;
  /** Dataset name as results.json records it. */
  dataset: string;
  /** config.json `dataset` (a registered name or a folder); default `dataset`. */
  datasetSource?: string;
  seed: number;
  /** ProMax terms, or false for a base run. */
  promax: false | { sdr: boolean; s2dr: boolean; notes?: string[] };
  test: Record<string, number>;
  /** Validation recall@20 by epoch. */
  valCurve?: [number, number][];
  epochs?: number;
  stopped?: string;
  maxEpochs?: number;
  userEmb?: Matrix;
  itemEmb?: Matrix;
  /** Model settings as results.json records them (default `{ embeddingSize: 2 }`). */
  modelSettings?: Record<string, unknown>;
  /** Method plugins other than ProMax, as results.json records them (id + resolved settings). */
  methods?: { id: string; settings: Record<string, unknown> }[];
}

export function writeFakeRun(dir: string, o: FakeRunOptions): string {
  mkdirSync(dir, { recursive: true });
  const promax = o.promax
    ? {
        enabled: true,
        components: { sdr: o.promax.sdr, s2dr: o.promax.s2dr, notes: o.promax.notes ?? [] },
        settings: {},
      }
    : { enabled: false };
  const curve = o.valCurve ?? [];
  const best = curve.length ? curve.reduce((a, b) => (b[1] > a[1] ? b : a)) : undefined;
  const trainer = {
    maxEpochs: o.maxEpochs ?? 1000,
    evalEvery: 3,
    patience: 20,
    ks: [5, 10, 20],
    seed: o.seed,
  };
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        model: o.model,
        dataset: o.datasetSource ?? o.dataset,
        seed: o.seed,
        modelSettings: o.modelSettings ?? { embeddingSize: 2 },
        ...(o.methods ? { methods: o.methods.map((m) => m.id) } : {}),
        promax,
        trainer,
      },
      null,
      2,
    ),
  );
  const lines: Record<string, unknown>[] = [];
  let bestEpoch: number | null = null;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const [epoch, r20] of curve) {
    for (let e = epoch - 2; e <= epoch; e++)
      if (e >= 1)
        lines.push({
          type: 'epoch',
          epoch: e,
          losses: { loss: 0.5, bpr: 0.5 },
          train_s: 0.1,
          completed: true,
        });
    const improved = r20 > bestValue;
    if (improved) {
      bestValue = r20;
      bestEpoch = epoch;
    }
    lines.push({
      type: 'evaluation',
      split: 'val',
      epoch,
      metrics: { 'recall@20': r20, 'ndcg@20': r20 / 2 },
      eval_s: 0.01,
      improved,
      best_epoch: bestEpoch,
    });
  }
  lines.push({ type: 'evaluation', split: 'test', epoch: bestEpoch, metrics: o.test, eval_s: 0.01 });
  lines.push({
    type: 'stop',
    reason: o.stopped ?? 'early-stopping',
    epochs: o.epochs ?? curve.at(-1)?.[0] ?? 0,
    best_epoch: bestEpoch,
  });
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  const results = {
    model: o.promax ? `${o.model}+promax` : `${o.model}${(o.methods ?? []).map((m) => `+${m.id}`).join('')}`,
    dataset: o.dataset,
    seed: o.seed,
    select_metric: 'recall@20',
    best_epoch: best?.[0] ?? null,
    val: best ? { 'recall@20': best[1], 'ndcg@20': best[1] / 2 } : null,
    test: o.test,
    eval_users: { val: 10, test: 10 },
    timing: { train_s_per_epoch: 0.1, eval_s: 0.01, test_eval_s: 0.01, total_s: 1 },
    epochs: o.epochs ?? curve.at(-1)?.[0] ?? 0,
    stopped: o.stopped ?? 'early-stopping',
    history: curve.map(([epoch, r20]) => ({
      epoch,
      metrics: { 'recall@20': r20 },
      eval_s: 0.01,
      improved: false,
      losses: {},
    })),
    promax,
    model_settings: o.modelSettings ?? { embeddingSize: 2 },
    ...(o.methods ? { methods: o.methods } : {}),
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  if (o.userEmb) saveEmbeddings(join(dir, 'user_emb.npy'), o.userEmb);
  if (o.itemEmb) saveEmbeddings(join(dir, 'item_emb.npy'), o.itemEmb);
  return dir;
}

/** Checks that every tag of an XML document is closed in order; returns the problems found. */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textPart = xml.slice(i, lt < 0 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(textPart)) problems.push(`unescaped & in text near ${i}`);
    if (/>/.test(textPart)) problems.push(`stray > in text near ${i}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) {
      problems.push(`malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
      break;
    }
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (!selfClosing) stack.push(name as string);
    i = tag.lastIndex;
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}
