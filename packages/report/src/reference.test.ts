import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findReferenceRun,
  loadReferenceCurve,
  loadReferenceSummary,
  locateReferenceLogs,
  parseCsv,
  referenceDataset,
} from './reference.js';

describe('reference logs', () => {
  it('maps our dataset names to the authors', () => {
    expect(referenceDataset('amazon-book')).toBe('amazon');
    expect(referenceDataset('amazon_book')).toBe('amazon');
    expect(referenceDataset('yelp')).toBe('yelp');
    expect(referenceDataset('steam')).toBe('steam');
    expect(referenceDataset('ml100k')).toBeUndefined();
    expect(referenceDataset('tiny-books')).toBeUndefined();
  });

  it('parses CSV with quoted fields', () => {
    expect(parseCsv('a,b,c\n1,"x, ""y""",3\r\n4,,6\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, "y"', '3'],
      ['4', '', '6'],
    ]);
  });

  it('reads a summary and a curve in the released layout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promax-ref-'));
    mkdirSync(join(dir, 'lightgcn_promax'));
    writeFileSync(
      join(dir, 'summary.csv'),
      'model,dataset,log,ks,n_val_evals,last_epoch,best_epoch,val_recall@10,val_recall@20,val_ndcg@10,val_ndcg@20,test_recall@10,test_recall@20,test_ndcg@10,test_ndcg@20,test_recall_5,test_ndcg_5,logged_hparams,logged_general\n' +
        'lightgcn_promax,yelp,yelp_X.log,5 10 20,3,9,6,0.1,0.2,0.05,0.06,0.11,0.21,0.051,0.061,0.07,0.04,{a: 1},k:1\n',
    );
    writeFileSync(
      join(dir, 'lightgcn_promax', 'yelp_X.csv'),
      'split,epoch,recall@5,recall@10,recall@20,ndcg@5,ndcg@10,ndcg@20\nval,3,0.01,0.02,0.03,0.01,0.02,0.03\nval,0,0.005,0.01,0.02,0.005,0.01,0.015\ntest,6,0.07,0.11,0.21,0.04,0.051,0.061\n',
    );
    const [run] = loadReferenceSummary(dir);
    expect(run).toMatchObject({
      family: 'lightgcn_promax',
      dataset: 'yelp',
      ks: [5, 10, 20],
      bestEpoch: 6,
      lastEpoch: 9,
      valEvaluations: 3,
    });
    expect(run?.test).toEqual({
      'recall@10': 0.11,
      'recall@20': 0.21,
      'ndcg@10': 0.051,
      'ndcg@20': 0.061,
      'recall@5': 0.07,
      'ndcg@5': 0.04,
    });
    expect(run?.val).toEqual({ 'recall@10': 0.1, 'recall@20': 0.2, 'ndcg@10': 0.05, 'ndcg@20': 0.06 });
    const curve = loadReferenceCurve(dir, 'lightgcn_promax', 'yelp');
    expect(curve?.val.map((p) => [p.epoch, p.metrics['recall@20']])).toEqual([
      [0, 0.02],
      [3, 0.03],
    ]);
    expect(curve?.test).toEqual({
      epoch: 6,
      metrics: {
        'recall@5': 0.07,
        'recall@10': 0.11,
        'recall@20': 0.21,
        'ndcg@5': 0.04,
        'ndcg@10': 0.051,
        'ndcg@20': 0.061,
      },
    });
    expect(loadReferenceCurve(dir, 'lightgcn_proex', 'yelp')).toBeUndefined();
  });

  const logs = locateReferenceLogs();
  it.skipIf(logs.reason)('reads the authors released logs (method.md §8 numbers)', () => {
    const runs = loadReferenceSummary(logs.path as string);
    expect(runs).toHaveLength(6);
    const amazon = findReferenceRun(runs, 'lightgcn_promax', 'amazon');
    expect(amazon?.test['recall@20']).toBeCloseTo(0.16234309, 8);
    expect(amazon?.test['recall@5']).toBeCloseTo(0.06958011, 8);
    expect(amazon?.bestEpoch).toBe(108);
    expect(findReferenceRun(runs, 'lightgcn_proex', 'steam')?.test['recall@5']).toBeUndefined();
    const curve = loadReferenceCurve(logs.path as string, 'lightgcn_promax', 'amazon');
    expect(curve?.val).toHaveLength(57);
    expect(curve?.val[0]).toEqual({ epoch: 0, metrics: expect.objectContaining({ 'recall@20': 0.0972 }) });
    expect(curve?.test?.epoch).toBe(108);
  });
  if (logs.reason) console.warn(`skipping the released reference logs check: ${logs.reason}`);
});
