import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { csrNnz, PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { locateData } from './data-dir.js';
import { tempDir } from './fixtures.test-util.js';
import { indexInteractions, loadInteractions, readInteractions } from './interactions.js';

function failure(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

describe('interaction tables', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const write = (name: string, text: string, gz = false): string => {
    const p = join(tmp.dir, name);
    writeFileSync(p, gz ? gzipSync(text) : text);
    return p;
  };

  it('reads TSV with a header, remaps string ids densely (sorted), merges and reports duplicates', () => {
    const p = write('a.tsv', 'user_id\titem_id\trating\nbob\tx9\t5\nalice\tx1\t3\nbob\tx1\t4\nbob\tx9\t2\n');
    const r = loadInteractions(p);
    expect(r.userIds).toEqual(['alice', 'bob']);
    expect(r.itemIds).toEqual(['x1', 'x9']);
    expect(r.report).toMatchObject({
      rows: 4,
      duplicates: 1,
      kept: 4,
      filtered: 0,
      delimiter: '\t',
      header: ['user_id', 'item_id', 'rating'],
    });
    expect(Array.from(r.matrix.indptr)).toEqual([0, 1, 3]);
    expect(Array.from(r.matrix.indices)).toEqual([0, 0, 1]);
  });

  it('sniffs comma, semicolon and whitespace, detects no header, sorts numeric ids numerically, reads gzip', () => {
    const csv = write('b.csv.gz', '10,3,4.5,881250949\n9,3,1,881250950\n100,20,5,881250951\n', true);
    const t = readInteractions(csv);
    expect(t.delimiter).toBe(',');
    expect(t.header).toBeUndefined();
    expect(Array.from(t.timestamps as Float64Array)).toEqual([881250949, 881250950, 881250951]);
    const ix = indexInteractions([t]);
    expect(ix.userIds).toEqual(['9', '10', '100']);
    expect(ix.itemIds).toEqual(['3', '20']);
    expect(readInteractions(write('c.txt', '1;2\n3;4\n')).delimiter).toBe(';');
    expect(readInteractions(write('d.txt', '1  2  5\n3 4 1\n')).delimiter).toBe('whitespace');
    const q = readInteractions(write('q.csv', 'user,item\n"a,b",x\nc,"y"\n'));
    expect(q.users).toEqual(['a,b', 'c']);
    expect(q.items).toEqual(['x', 'y']);
  });

  it('applies rating thresholds but keeps every id in the id space by default', () => {
    const p = write('r.tsv', 'user\titem\tlabel\n0\t7\t1\n0\t8\t0\n1\t8\t0\n2\t9\t1\n');
    const liked = readInteractions(p, { ratingEquals: 1 });
    expect(liked.kept).toBe(2);
    const all = indexInteractions([liked]);
    expect(all.userIds).toEqual(['0', '1', '2']);
    expect(Array.from(all.splits[0].users)).toEqual([0, 2]);
    const keptOnly = indexInteractions([liked], { idSpace: 'kept-rows' });
    expect(keptOnly.userIds).toEqual(['0', '2']);
    expect(readInteractions(p, { minRating: 1 }).kept).toBe(2);
  });

  it('maps ids consistently across split files and honours fixed id lists', () => {
    const tr = readInteractions(write('tr.tsv', 'u2\ti1\nu1\ti2\n'));
    const te = readInteractions(write('te.tsv', 'u3\ti1\nu1\ti1\n'));
    const ix = indexInteractions([tr, te]);
    expect(ix.userIds).toEqual(['u1', 'u2', 'u3']);
    expect(Array.from(ix.splits[1].users)).toEqual([2, 0]);
    expect(Array.from(ix.splits[1].lines)).toEqual([1, 2]);
    const e = failure(() => indexInteractions([te], { userIds: ['u1', 'u2'] }));
    expect(e.code).toBe('ID_OUT_OF_RANGE');
    expect(e.message).toMatch(/line 1: user 'u3' is not in the given id list/);
  });

  it('names the file, line and fix for malformed lines', () => {
    const p = write('bad.tsv', 'user\titem\trating\n1\t2\t5\n3\n4\t5\t1\n');
    const e = failure(() => readInteractions(p));
    expect(e.code).toBe('INVALID_FILE');
    expect(e.file).toBe(p);
    expect(e.details).toEqual({ line: 3 });
    expect(e.message).toMatch(
      /line 3: has 1 field separated by tab, expected at least 3.*Fix: each line must be user<tab>item/i,
    );
    const r = failure(() => readInteractions(write('bad2.tsv', 'user\titem\trating\n1\t2\tfive\n')));
    expect(r.message).toMatch(/line 2: rating "five" is not a number/);
    expect(failure(() => readInteractions(write('e.tsv', ''))).message).toMatch(/the file is empty/);
    const col = failure(() => readInteractions(p, { columns: { rating: 'stars' } }));
    expect(col.message).toMatch(/column 'stars' \(rating\) is not in the header \[user, item, rating\]/);
  });

  const dbbook = locateData('dbbook', 'train.tsv.gz');
  if (!dbbook.path) console.warn(`skipping DBbook interaction test: ${dbbook.reason}`);
  it.skipIf(!dbbook.path)('reads DBbook train.tsv.gz with the README counts', () => {
    const t = readInteractions(dbbook.path as string, { ratingEquals: 1 });
    expect(t.header).toEqual(['user', 'item', 'label']);
    expect(t.users.length).toBe(68958);
    expect(t.kept).toBe(33176);
    const ix = indexInteractions([t]);
    expect(ix.userIds.length).toBe(5660);
    expect(ix.itemIds.length).toBe(6645);
  });

  const ml = locateData('ml100k', 'u.data.gz');
  if (!ml.path) console.warn(`skipping MovieLens interaction test: ${ml.reason}`);
  it.skipIf(!ml.path)('reads MovieLens u.data (no header, tabs) with rating ≥ 4', () => {
    const r = loadInteractions(ml.path as string, { minRating: 4, header: false });
    expect(r.report).toMatchObject({ rows: 55375, kept: 55375, filtered: 44625, duplicates: 0 });
    expect([r.userIds.length, r.itemIds.length]).toEqual([943, 1682]);
    expect(csrNnz(r.matrix)).toBe(55375);
    expect(r.userIds[0]).toBe('1');
  });
});
