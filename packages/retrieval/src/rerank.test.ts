import { describe, expect, it } from 'vitest';
import { validateRerankAnswer } from './rerank.js';

describe('validateRerankAnswer', () => {
  const candidates = [10, 11, 12, 13, 14];

  it('accepts a clean answer as is, in the re-ranker order', () => {
    expect(validateRerankAnswer(1, [13, 10], candidates, 2)).toEqual({ items: [13, 10] });
  });

  it('drops ids outside the candidates and non-integers, then fills from the retrieval order', () => {
    const { items, issue } = validateRerankAnswer(1, [99, 12, '11', 1.5, -1], candidates, 3);
    expect(items).toEqual([12, 10, 11]);
    expect(issue).toMatchObject({
      user: 1,
      invalidIds: [99, Number.NaN, 1.5, -1],
      duplicateIds: [],
      filled: 2,
      extra: 0,
    });
  });

  it('drops duplicates and ignores ids beyond n', () => {
    const { items, issue } = validateRerankAnswer(2, [14, 14, 13, 12, 14], candidates, 2);
    expect(items).toEqual([14, 13]);
    expect(issue).toMatchObject({ duplicateIds: [14, 14], filled: 0, extra: 1 });
  });

  it('fills a short answer; a failure (no answer) is filled entirely and keeps its message', () => {
    expect(validateRerankAnswer(3, [], candidates, 2)).toEqual({
      items: [10, 11],
      issue: { user: 3, invalidIds: [], duplicateIds: [], filled: 2, extra: 0, error: undefined },
    });
    const failed = validateRerankAnswer(4, undefined, candidates, 3, 'HTTP 429');
    expect(failed.items).toEqual([10, 11, 12]);
    expect(failed.issue?.error).toBe('HTTP 429');
    expect(failed.issue?.filled).toBe(3);
  });

  it('never returns more than the candidates hold', () => {
    const { items, issue } = validateRerankAnswer(5, [11], [11, 12], 4);
    expect(items).toEqual([11, 12]);
    expect(issue?.filled).toBe(1);
  });
});
