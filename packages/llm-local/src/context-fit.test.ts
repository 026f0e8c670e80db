import type { ChatMessage } from '@promax/profiles';
import { describe, expect, it } from 'vitest';
import { fitPromptToBudget } from './context-fit.js';

const rows = (n: number) => Array.from({ length: n }, (_, k) => JSON.stringify({ title: `book ${k}` }));
const prompt = (n: number): ChatMessage[] => [
  { role: 'system', content: 'describe the taste' },
  { role: 'user', content: `HISTORY:\n[\n${rows(n).join(',\n')}\n]` },
];
// One "token" per character keeps the arithmetic checkable by hand.
const chars = (m: readonly ChatMessage[]) => m.reduce((a, x) => a + x.content.length, 0);

describe('fitPromptToBudget', () => {
  it('leaves a prompt that fits untouched', () => {
    const m = prompt(5);
    const fit = fitPromptToBudget(m, chars(m), chars);
    expect(fit?.truncated).toBe(0);
    expect(fit?.messages).toEqual(m);
    expect(fit?.historyEntries).toBe(5);
  });

  it('drops the fewest oldest entries that make it fit, keeping valid JSON', () => {
    const m = prompt(40);
    const budget = chars(prompt(25));
    const fit = fitPromptToBudget(m, budget, chars);
    expect(fit).toBeDefined();
    const f = fit as NonNullable<typeof fit>;
    expect(f.tokens).toBeLessThanOrEqual(budget);
    const list = JSON.parse((f.messages[1]?.content ?? '').replace('HISTORY:\n', '')) as { title: string }[];
    // The newest entries are kept: the first one left is `book <truncated>`.
    expect(list[0]?.title).toBe(`book ${f.truncated}`);
    expect(list.at(-1)?.title).toBe('book 39');
    expect(f.truncated + list.length).toBe(40);
    // One entry fewer dropped would not fit.
    const oneMore = `HISTORY:\n[\n${rows(40)
      .slice(f.truncated - 1)
      .join(',\n')}\n]`;
    expect(chars([m[0] as ChatMessage, { role: 'user', content: oneMore }])).toBeGreaterThan(budget);
    expect(f.messages[0]).toEqual(m[0]);
  });

  it('gives up when even an empty history does not fit, or there is no list to cut', () => {
    expect(fitPromptToBudget(prompt(10), 5, chars)).toBeUndefined();
    const plain: ChatMessage[] = [{ role: 'user', content: 'x'.repeat(100) }];
    expect(fitPromptToBudget(plain, 50, chars)).toBeUndefined();
  });
});
