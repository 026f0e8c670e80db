import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultStore, type StoreRecord } from './result-store.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'promax-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rec = (id: string, type: 'success' | 'failure' = 'success'): StoreRecord => {
  const base = {
    v: 1 as const,
    key: { id, promptHash: `h${id}`, model: 'm' },
    kind: 'item-profile',
    templateId: 't',
    attempts: 1,
    usage: { promptTokens: 1, completionTokens: 1 },
    source: 'online' as const,
    at: '2026-01-01T00:00:00.000Z',
  };
  return type === 'success'
    ? { ...base, type, output: { summarization: `s${id}`, reasoning: '' }, raw: '{}' }
    : { ...base, type, error: { code: 'INVALID_RESPONSE', message: 'bad' } };
};

describe('ResultStore', () => {
  it('appends records durably and reads them back', async () => {
    const path = join(tmp(), 'sub', 'store.jsonl');
    const s = await ResultStore.open(path);
    await Promise.all([s.append(rec('1')), s.append(rec('2')), s.append(rec('3', 'failure'))]);
    await s.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
    const again = await ResultStore.open(path);
    expect(again.size).toBe(3);
    expect(again.getSuccess({ id: '2', promptHash: 'h2', model: 'm' })?.output).toEqual({
      summarization: 's2',
      reasoning: '',
    });
    expect(again.get({ id: '3', promptHash: 'h3', model: 'm' })?.type).toBe('failure');
    expect(again.get({ id: '3', promptHash: 'h3', model: 'other' })).toBeUndefined();
  });

  it('never lets a later failure hide a success, but a success replaces a failure', async () => {
    const path = join(tmp(), 'store.jsonl');
    const s = await ResultStore.open(path);
    await s.append(rec('1'));
    await s.append(rec('1', 'failure'));
    await s.append(rec('2', 'failure'));
    await s.append(rec('2'));
    expect(s.get({ id: '1', promptHash: 'h1', model: 'm' })?.type).toBe('success');
    expect(s.get({ id: '2', promptHash: 'h2', model: 'm' })?.type).toBe('success');
    await s.close();
  });

  it('skips a torn last line, keeps it isolated and keeps appending', async () => {
    const path = join(tmp(), 'store.jsonl');
    const s = await ResultStore.open(path);
    await s.append(rec('1'));
    await s.close();
    appendFileSync(path, JSON.stringify(rec('2')).slice(0, 40)); // killed mid-write
    const events: ProgressEvent[] = [];
    const t = await ResultStore.open(path, { onProgress: (e) => events.push(e) });
    expect(t.size).toBe(1);
    expect(t.skippedLines).toBe(1);
    expect(events).toEqual([expect.objectContaining({ type: 'warning', code: 'TORN_LINE' })]);
    await t.append(rec('2'));
    await t.close();
    const u = await ResultStore.open(path);
    expect(u.size).toBe(2);
    expect(u.skippedLines).toBe(1); // the fragment stays on its own line
  });
});
