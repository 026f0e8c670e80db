import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildItemProfilePrompt,
  buildRerankPrompt,
  buildUserProfilePrompt,
  clip,
  domainSchema,
  MAX_PROFILE_VARIANTS,
  PROFILE_PROMPT_VERSION,
  PROFILE_VARIANTS,
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

describe('extra profile variants', () => {
  const sha = (t: string) => createHash('sha256').update(t).digest('hex').slice(0, 16);
  const item = { id: 1, facts: { title: 'Dune', description: 'Sand and spice' }, reviews: ['Epic.'] };
  const user = { id: 'u', history: [{ title: 'Dune', profile: 'Fans of epic worlds', review: 'Loved it' }] };

  it('leave the main templates as they were (the answers stored for them stay valid)', () => {
    // the main texts of profile-v1, pinned: a change here must bump PROFILE_PROMPT_VERSION
    const books = { ...settings, domain: 'books' as const };
    expect(sha(buildItemProfilePrompt(item, books).system)).toBe('352acc0dce831e18');
    expect(sha(buildUserProfilePrompt(user, books).system)).toBe('3ff961704873fc68');
    expect(sha(buildItemProfilePrompt(item, settings).system)).toBe('a9d06a63582b8871');
    expect(sha(buildUserProfilePrompt(user, settings).system)).toBe('3c2d69763940bf3e');
    expect(buildItemProfilePrompt(item, books, 0)).toEqual(buildItemProfilePrompt(item, books));
  });

  it('ask about different facets with the same input and the same JSON answer, under their own template ids', () => {
    expect(MAX_PROFILE_VARIANTS).toBe(PROFILE_VARIANTS.length);
    expect(MAX_PROFILE_VARIANTS).toBeGreaterThanOrEqual(3);
    for (const d of domainSchema.options) {
      const s = { ...settings, domain: d };
      for (const [build, input] of [
        [buildItemProfilePrompt, item],
        [buildUserProfilePrompt, user],
      ] as const) {
        const all = Array.from({ length: MAX_PROFILE_VARIANTS + 1 }, (_, v) =>
          (build as typeof buildItemProfilePrompt)(input as typeof item, s, v),
        );
        expect(new Set(all.map((p) => p.system)).size, d).toBe(all.length);
        expect(new Set(all.map((p) => p.templateId)).size, d).toBe(all.length);
        for (const p of all) {
          expect(p.user).toBe(all[0]?.user);
          expect(p.system).toContain('{"summarization": "...", "reasoning": "..."}');
          expect(p.system).toContain('write "None"');
          expect(p.templateId).toMatch(
            new RegExp(`^(item|user)-profile[a-z0-9-]*/${d}@${PROFILE_PROMPT_VERSION}$`),
          );
        }
      }
    }
    const books = { ...settings, domain: 'books' as const };
    expect(buildItemProfilePrompt(item, books, 1).templateId).toBe(
      `item-profile-variant-1-${PROFILE_VARIANTS[0].facet}/books@${PROFILE_PROMPT_VERSION}`,
    );
    expect(buildUserProfilePrompt(user, books, 2).system).toMatch(/moods, tones and occasions/);
    expect(buildItemProfilePrompt(item, books, 3).system).toMatch(/who would be disappointed by this book/);
  });

  it('reject a variant without a template', () => {
    for (const v of [-1, 1.5, MAX_PROFILE_VARIANTS + 1]) {
      expect(() => buildItemProfilePrompt(item, settings, v)).toThrow(
        new RegExp(`profile variant ${v} does not exist`),
      );
    }
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
