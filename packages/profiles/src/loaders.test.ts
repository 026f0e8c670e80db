import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { locateData } from '@promax/data';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProfilesJsonl, loadRlmrecProfiles, profilesFromStore } from './loaders.js';
import { ResultStore } from './result-store.js';

const dir = mkdtempSync(join(tmpdir(), 'promax-loaders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadRlmrecProfiles', () => {
  it('reads {id: {profile, reasoning}} JSON sorted by numeric id', async () => {
    const p = join(dir, 'usr_prf.json');
    writeFileSync(
      p,
      JSON.stringify({
        10: { profile: 'ten', reasoning: 'r10' },
        2: { summarization: 'two', reasoning: 'r2' },
      }),
    );
    expect(await loadRlmrecProfiles(p)).toEqual([
      { id: '2', profile: 'two', reasoning: 'r2' },
      { id: '10', profile: 'ten', reasoning: 'r10' },
    ]);
  });

  it('names the file and entry on bad input', async () => {
    const p = join(dir, 'bad.json');
    writeFileSync(p, JSON.stringify({ 1: { reasoning: 'x' } }));
    await expect(loadRlmrecProfiles(p)).rejects.toThrow(/entry 1 has no string "profile".*bad.json/);
    await expect(loadRlmrecProfiles(join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
  });
});

describe('loadProfilesJsonl', () => {
  it('reads gzipped and plain JSON lines with user/item/id fields', async () => {
    const p = join(dir, 'p.jsonl.gz');
    writeFileSync(
      p,
      gzipSync(
        '{"user": 0, "profile": "a", "flagged_broken": false}\n{"user": 1, "profile": "b", "flagged_broken": true}\n',
      ),
    );
    expect(await loadProfilesJsonl(p)).toEqual([
      { id: '0', profile: 'a', flaggedBroken: false },
      { id: '1', profile: 'b', flaggedBroken: true },
    ]);
    const q = join(dir, 'q.jsonl');
    writeFileSync(q, '{"item": "x", "profile": "p"}\nnot json\n');
    await expect(loadProfilesJsonl(q)).rejects.toThrow(/line 2 is not valid JSON/);
  });

  const dbbook = locateData('dbbook', 'user_profiles.jsonl.gz');
  if (!dbbook.path) console.log(`skipping DBbook profile check: ${dbbook.reason}`);
  it.skipIf(!dbbook.path)('reads the DBbook user profiles (6,181 users, 2 flagged broken)', async () => {
    const all = await loadProfilesJsonl(dbbook.path as string);
    expect(all).toHaveLength(6181);
    expect(all.filter((p) => p.flaggedBroken)).toHaveLength(2);
    expect(all[0]?.id).toBe('0');
    expect(all[0]?.profile.length).toBeGreaterThan(300);
  });
});

describe('profilesFromStore', () => {
  it('lists the stored profiles of one kind', async () => {
    const store = await ResultStore.open(join(dir, 'store.jsonl'));
    const base = {
      v: 1 as const,
      templateId: 't',
      attempts: 1,
      usage: { promptTokens: 0, completionTokens: 0 },
      source: 'online' as const,
      at: '',
    };
    await store.append({
      ...base,
      type: 'success',
      kind: 'user-profile',
      key: { id: '5', promptHash: 'a', model: 'm' },
      output: { summarization: 'five', reasoning: 'r' },
      raw: '',
    });
    await store.append({
      ...base,
      type: 'success',
      kind: 'item-profile',
      key: { id: '1', promptHash: 'b', model: 'm' },
      output: { summarization: 'one', reasoning: 'r' },
      raw: '',
    });
    await store.append({
      ...base,
      type: 'failure',
      kind: 'user-profile',
      key: { id: '6', promptHash: 'c', model: 'm' },
      error: { code: 'X', message: '' },
    });
    // an extra profile variant of the same user: kept apart from the main profile
    await store.append({
      ...base,
      type: 'success',
      kind: 'user-profile',
      key: { id: '5', promptHash: 'd', model: 'm', variant: 2 },
      output: { summarization: 'five, mood', reasoning: 'r' },
      raw: '',
    });
    expect(profilesFromStore(store, { kind: 'user' })).toEqual([
      { id: '5', profile: 'five', reasoning: 'r' },
    ]);
    expect(profilesFromStore(store, { kind: 'user', variant: 2 })).toEqual([
      { id: '5', profile: 'five, mood', reasoning: 'r' },
    ]);
    expect(profilesFromStore(store, { kind: 'user', variant: 1 })).toEqual([]);
    expect(profilesFromStore(store, { kind: 'item', model: 'other' })).toEqual([]);
    await store.close();
  });
});
