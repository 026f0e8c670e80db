import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { itemMetadataText } from '../profile-pipeline/metadata-profiles.js';
import {
  readJsonl,
  removeTempDirs,
  tempDir,
  writeSyntheticDataset,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

afterAll(() => removeTempDirs());

const run = async (argv: string[]) => {
  const io = captureIo();
  const code = await main(['profiles', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

describe('promax profiles --from-metadata', () => {
  it('writes item metadata and train-only user histories, with no LLM', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const r = await run(['--dataset', ds.dir, '--from-metadata', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const items = readJsonl(join(out, 'item_profiles.jsonl'));
    expect(items.length).toBe(ds.items.length);
    items.forEach((e, i) => {
      const topic = /^The (\w+) book number (\d+)\. topic: (\w+)$/.exec(String(e.profile));
      expect(topic, String(e.profile)).not.toBeNull();
      expect(topic?.[1]).toBe(topic?.[3]);
      expect(e.item).toBe(ds.items[Number(topic?.[2])]);
      expect(e.item).toBe(ds.items[i]);
    });
    const users = readJsonl(join(out, 'user_profiles.jsonl'));
    expect(users.length).toBe(ds.users.length);
    for (const e of users) {
      const u = ds.users.indexOf(String(e.user));
      const train = new Set(ds.train.filter(([a]) => a === u).map(([, i]) => i));
      const heldOut = [...ds.val, ...ds.test].filter(([a]) => a === u).map(([, i]) => i);
      const shown = [...String(e.profile).matchAll(/book number (\d+)/g)].map((m) => Number(m[1]));
      expect(String(e.profile)).toMatch(new RegExp(`^${train.size} items in the history`));
      expect(shown.length).toBe(Math.min(train.size, 30));
      for (const i of shown) expect(train.has(i), `user ${e.user} shows item ${i}`).toBe(true);
      for (const i of heldOut) expect(shown).not.toContain(i);
    }
    const manifest = JSON.parse(readFileSync(join(out, 'profiles_manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      source: 'metadata',
      kinds: { item: { written: ds.items.length }, user: { written: ds.users.length } },
    });
  });

  it('--variants 3 writes the genres, titles and era facets for every entity, users from train only', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const r = await run(['--dataset', ds.dir, '--from-metadata', '--variants', '3', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/variant 1 \(genres\)/);
    const main0 = readJsonl(join(out, 'item_profiles.jsonl')).map((e) => e.profile);
    const seen = new Set<unknown>(main0);
    for (const v of [1, 2, 3]) {
      const items = readJsonl(join(out, `item_profiles_${v}.jsonl`));
      const users = readJsonl(join(out, `user_profiles_${v}.jsonl`));
      expect(items.map((e) => e.item)).toEqual(ds.items);
      expect(users.length).toBe(ds.users.length);
      expect(seen.has(items[0]?.profile)).toBe(false);
      seen.add(items[0]?.profile);
      for (const e of users) {
        const u = ds.users.indexOf(String(e.user));
        const train = new Set(ds.train.filter(([a]) => a === u).map(([, i]) => i));
        const shown = [...String(e.profile).matchAll(/book number (\d+)/g)].map((m) => Number(m[1]));
        for (const i of shown) expect(train.has(i)).toBe(true);
        if (v === 1) {
          // the genre (topic) counts add up to the user's train items
          const total = [...String(e.profile).matchAll(/\w+ (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
          expect(total).toBe(train.size);
        }
      }
    }
    expect(readJsonl(join(out, 'item_profiles_1.jsonl'))[0]?.profile).toMatch(/^genres: \w+$/);
  });

  it('keeps descriptive columns and drops identifiers and links', () => {
    expect(
      itemMetadataText('Emma', {
        title: 'Emma',
        dbpedia_uri: 'http://dbpedia.org/resource/Emma',
        item_id: '7',
        genres: 'Romance',
        year: '1815',
      }),
    ).toBe('Emma. genres: Romance; year: 1815');
    expect(itemMetadataText('Emma', { title: 'Emma' })).toBe('Emma');
  });

  it('refuses LLM flags and the other offline source', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const a = await run(['--dataset', ds.dir, '--from-metadata', '--llm-model', 'm', '--out', out]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--from-metadata writes profiles without an LLM .*--llm-model does not apply/);
    const b = await run(['--dataset', ds.dir, '--from-metadata', '--from-existing', '--out', out]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/two different sources of profiles/);
  });
});
