import { describe, expect, it } from 'vitest';
import { extractJson, parseProfileOutput, parseRerankOutput } from './output.js';

describe('parseProfileOutput', () => {
  it('accepts plain, fenced and wrapped JSON', () => {
    const want = { summarization: 'Readers of epics', reasoning: 'long' };
    expect(parseProfileOutput(JSON.stringify(want))).toEqual({ ok: true, value: want });
    expect(parseProfileOutput(`\`\`\`json\n${JSON.stringify(want)}\n\`\`\``)).toEqual({
      ok: true,
      value: want,
    });
    expect(parseProfileOutput(`Sure! Here it is: ${JSON.stringify(want)} Hope it helps.`)).toEqual({
      ok: true,
      value: want,
    });
  });

  it('rejects malformed JSON, missing fields and empty answers with a reason', () => {
    expect(parseProfileOutput('{"summarization": "x", ')).toMatchObject({
      ok: false,
      reason: 'the answer is not valid JSON',
    });
    const missing = parseProfileOutput('{"summary": "x"}');
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.reason).toMatch(/summarization/);
    expect(parseProfileOutput('{"summarization": "  ", "reasoning": ""}').ok).toBe(false);
    expect(extractJson('   ')).toEqual({ ok: false, reason: 'the answer is empty' });
  });
});

describe('parseRerankOutput', () => {
  const cands = ['10', '11', '12', '13'];
  it('keeps valid ids in order, drops duplicates, compares numbers as strings', () => {
    const r = parseRerankOutput('{"ids": [12, "10", "12", 11]}', cands, 3);
    expect(r).toEqual({ ok: true, value: { ids: ['12', '10', '11'], unknown: [], duplicates: ['12'] } });
  });

  it('cuts to n and accepts a bare array', () => {
    const r = parseRerankOutput('["13", "12", "11"]', cands, 2);
    expect(r.ok && r.value.ids).toEqual(['13', '12']);
  });

  it('rejects unknown ids and too few ids, keeping the partial parse', () => {
    const r = parseRerankOutput('{"ids": ["10", "99"]}', cands, 2);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/not in the candidate list: 99.*only 1 distinct valid/);
    expect(r.partial?.ids).toEqual(['10']);
    expect(parseRerankOutput('{"ids": ["10", "10"]}', cands, 2).ok).toBe(false);
    expect(parseRerankOutput('{"choice": 1}', cands, 1).ok).toBe(false);
  });
});
