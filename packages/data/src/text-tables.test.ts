import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { locateData } from './data-dir.js';
import { tempDir } from './fixtures.test-util.js';
import { alignTexts, loadIdMapper, loadProfiles, loadTextMap, readTextTable } from './text-tables.js';

function failure(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

describe('text tables and profiles', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const write = (name: string, data: string | Uint8Array): string => {
    const p = join(tmp.dir, name);
    writeFileSync(p, data);
    return p;
  };

  it('reads id → text maps by column name and aligns them to dense ids', () => {
    const p = write(
      'items.tsv.gz',
      gzipSync('item\ttitle\turi\n7\tDune\thttp://x/Dune\n3\tEmma\thttp://x/Emma\n'),
    );
    expect(readTextTable(p).header).toEqual(['item', 'title', 'uri']);
    const titles = loadTextMap(p, { idColumn: 'item', textColumn: 'title' });
    expect(titles.get('7')).toBe('Dune');
    expect(loadTextMap(p, { textColumn: 'uri' }).get('3')).toBe('http://x/Emma');
    expect(alignTexts(titles, ['3', '5', '7'])).toEqual({ texts: ['Emma', undefined, 'Dune'], missing: 1 });
    expect(failure(() => loadTextMap(p, { textColumn: 'name' })).message).toMatch(
      /no column 'name' in the header \[item, title, uri\]/,
    );
  });

  it('decodes Latin-1 when asked', () => {
    const p = write('l1.tsv', Buffer.from('id\ttitle\n1\tCaf\xe9\n', 'latin1'));
    expect(loadTextMap(p, { encoding: 'latin1' }).get('1')).toBe('Café');
  });

  it('names the line of a malformed table row or JSON line', () => {
    const t = failure(() => readTextTable(write('bad.tsv', 'a\tb\n1\t2\n3\n')));
    expect([t.code, t.details]).toEqual(['INVALID_FILE', { line: 3 }]);
    expect(t.message).toMatch(/line 3: has 1 fields, the header has 2/);
    const j = failure(() =>
      loadProfiles(write('p.jsonl', '{"user": 1, "profile": "likes sci-fi"}\n{"user": 2, "profile": \n')),
    );
    expect(j.message).toMatch(/line 2: not valid JSON/);
    expect(j.file).toBe(join(tmp.dir, 'p.jsonl'));
    const k = failure(() => loadProfiles(write('q.jsonl', '{"uid": 1, "text": "x"}\n')));
    expect(k.message).toMatch(
      /line 1: needs a string\/number "user" and a string "profile" \(found keys uid, text\)/,
    );
    expect(loadProfiles(join(tmp.dir, 'q.jsonl'), { idField: 'uid', textField: 'text' })[0]).toMatchObject({
      id: '1',
      text: 'x',
      line: 1,
    });
  });

  it('reads RLMRec id mappers and refuses gaps', () => {
    expect(
      loadIdMapper(write('m.jsonl', '{"uid": 1, "reviewerID": "B"}\n{"uid": 0, "reviewerID": "A"}\n')),
    ).toEqual(['A', 'B']);
    expect(failure(() => loadIdMapper(write('g.jsonl', '{"iid": 2, "asin": "C"}\n'))).code).toBe(
      'INVALID_DATA',
    );
  });

  const dbbook = locateData('dbbook');
  if (!dbbook.path) console.warn(`skipping DBbook text tests: ${dbbook.reason}`);
  it.skipIf(!dbbook.path)('reads the DBbook item titles and user profiles', () => {
    const dir = dbbook.path as string;
    const titles = loadTextMap(join(dir, 'items.tsv.gz'), { idColumn: 'item', textColumn: 'title' });
    expect(titles.size).toBe(6645);
    expect(titles.get('6181')).toBe('Dragonfly in Amber');
    const profiles = loadProfiles(join(dir, 'user_profiles.jsonl.gz'));
    expect(profiles.length).toBe(6181);
    expect(profiles[0].id).toBe('0');
    expect(profiles.filter((p) => p.fields.flagged_broken === true).length).toBe(2);
  });

  const amazon = locateData('amazon_book');
  it.skipIf(!amazon.path)('reads the Amazon-book id mappers', () => {
    const users = loadIdMapper(join(amazon.path as string, 'user_mapper.jsonl.gz'));
    const items = loadIdMapper(join(amazon.path as string, 'item_mapper.jsonl.gz'));
    expect([users.length, items.length]).toEqual([11000, 9332]);
    expect([users[0], items[0]]).toEqual(['A2PDSDPBAO255U', '0373730489']);
  });
});
