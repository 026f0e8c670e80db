import { locateDataset, resolveDataset } from '@promax/data';
import { describe, expect, it } from 'vitest';
import { loadItemTexts } from './dataset-texts.js';

const ml = (() => {
  try {
    locateDataset('ml100k');
    return '';
  } catch (e) {
    return (e as Error).message;
  }
})();
if (ml) console.warn(`skipping the MovieLens-100K item text test: ${ml}`);

describe.skipIf(ml !== '')('loadItemTexts on MovieLens-100K', () => {
  it('gives item prompts the title, release date, year and genre names from the flags', () => {
    const texts = loadItemTexts(resolveDataset('ml100k'));
    expect(texts?.byId.size).toBe(1682);
    expect(texts?.byId.get('1')?.facts).toEqual({
      title: 'Toy Story (1995)',
      release_date: '01-Jan-1995',
      year: '1995',
      genres: "Animation, Children's, Comedy",
    });
    expect(texts?.byId.get('2')?.facts.genres).toBe('Action, Adventure, Thriller');
  });
});
