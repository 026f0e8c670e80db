import { describe, expect, it } from 'vitest';
import {
  buildItemProfilePrompt,
  buildRerankPrompt,
  buildUserProfilePrompt,
  clip,
  domainSchema,
  PROFILE_PROMPT_VERSION,
  profilePromptSettingsSchema,
  promptHash,
  rerankPromptSettingsSchema,
} from './prompts.js';
import { parseSettings } from './settings.js';

const settings = profilePromptSettingsSchema.parse({});

describe('profile prompts', () => {
  it('renders item facts, unknown fields and a capped review sample', () => {
    const p = buildItemProfilePrompt(
      {
        id: 7,
        facts: { title: 'Dune', authors: ['Frank Herbert'], description: null },
        reviews: ['Great world-building.', 'Too long.', 'x'],
      },
      { ...settings, domain: 'books', maxReviews: 2 },
    );
    expect(p.templateId).toBe(`item-profile/books@${PROFILE_PROMPT_VERSION}`);
    expect(p.system).toContain('what kind of person would enjoy this book');
    expect(p.system).toContain('"summarization"');
    expect(p.system).toContain('at most 200 words');
    expect(p.user).toBe(
      'ITEM FACTS:\n{"title":"Dune","authors":"Frank Herbert","description":"unknown"}\nREVIEWS:\n[\n"Great world-building.",\n"Too long."\n]',
    );
  });

  it('renders a user history with item profiles and reviews', () => {
    const p = buildUserProfilePrompt(
      {
        id: 'u1',
        history: [{ title: 'Cafe A', profile: 'People who like espresso', review: null }, { title: 'Bar B' }],
      },
      { ...settings, domain: 'businesses' },
    );
    expect(p.templateId).toBe(`user-profile/businesses@${PROFILE_PROMPT_VERSION}`);
    expect(p.system).toContain('businesses this person has visited');
    expect(p.system).toContain('at most 100 words');
    expect(p.user).toBe(
      'HISTORY:\n[\n{"title":"Cafe A","audience":"People who like espresso","review":"none"},\n{"title":"Bar B","audience":"unknown","review":"none"}\n]',
    );
  });

  it('has wording for every domain and a request may override the domain', () => {
    for (const d of domainSchema.options) {
      const p = buildItemProfilePrompt({ id: 1, facts: { title: 't' }, domain: d }, settings);
      expect(p.templateId).toContain(`/${d}@`);
    }
    expect(buildItemProfilePrompt({ id: 1, facts: {}, domain: 'games' }, settings).system).toContain(
      'video game',
    );
  });

  it('hashes model + system + user, so any change gives a new key', () => {
    const h = promptHash('m', 'sys', 'user');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(promptHash('m', 'sys', 'user')).toBe(h);
    expect(promptHash('m2', 'sys', 'user')).not.toBe(h);
    expect(promptHash('m', 'sysu', 'ser')).not.toBe(h);
  });

  it('rejects unknown prompt settings', () => {
    expect(() => parseSettings(profilePromptSettingsSchema, { maxReview: 3 }, 'profile prompt')).toThrow(
      /maxReview/,
    );
  });

  it('clips at a word boundary', () => {
    expect(clip('one two three four', 11)).toBe('one two…');
    expect(clip('abcdefghijkl', 5)).toBe('abcde…');
    expect(clip('  short \n text ', 50)).toBe('short text');
  });
});

describe('rerank prompt', () => {
  it('lists candidates with ids and asks for exactly n ids', () => {
    const p = buildRerankPrompt(
      {
        userId: 3,
        userProfile: 'Likes sci-fi',
        history: ['Dune'],
        candidates: [
          { id: 10, title: 'Foundation', profile: 'Fans of big ideas' },
          { id: 'b-2', title: 'Emma' },
        ],
        n: 5,
      },
      rerankPromptSettingsSchema.parse({ domain: 'books' }),
    );
    expect(p.system).toContain('Choose the 2 candidates'); // n capped at the candidate count
    expect(p.user).toContain('{"id":"10","title":"Foundation","about":"Fans of big ideas"}');
    expect(p.user).toContain('{"id":"b-2","title":"Emma","about":"unknown"}');
    expect(p.user).toContain('PERSON PROFILE:\nLikes sci-fi');
  });
});
