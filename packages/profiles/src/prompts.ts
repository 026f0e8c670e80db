import { createHash } from 'node:crypto';
import { PromaxError } from '@promax/core';
import { z } from 'zod';

/**
 * Version of the profile prompt templates (the main ones and every extra variant); bump it when
 * any template text changes. Each template has its own id (`profileTemplateName`), so adding a
 * variant leaves the main templates, their prompt hashes and the answers stored for them as they are.
 */
export const PROFILE_PROMPT_VERSION = 'profile-v1';
/** Version of the re-ranking prompt template. */
export const RERANK_PROMPT_VERSION = 'rerank-v1';

export const domainSchema = z.enum(['books', 'businesses', 'games', 'movies', 'generic']);
/** Catalogue domain; it only changes wording (nouns, verbs, typical fact fields). */
export type Domain = z.infer<typeof domainSchema>;

interface DomainWords {
  item: string;
  items: string;
  consumed: string;
  facts: readonly string[];
}

const DOMAIN_WORDS: Record<Domain, DomainWords> = {
  books: {
    item: 'book',
    items: 'books',
    consumed: 'read',
    facts: ['title', 'authors', 'description', 'categories'],
  },
  businesses: {
    item: 'business',
    items: 'businesses',
    consumed: 'visited',
    facts: ['name', 'city', 'categories'],
  },
  games: {
    item: 'video game',
    items: 'video games',
    consumed: 'played',
    facts: ['name', 'publisher', 'genres', 'tags'],
  },
  movies: {
    item: 'movie',
    items: 'movies',
    consumed: 'watched',
    facts: ['title', 'year', 'genres', 'description'],
  },
  generic: { item: 'item', items: 'items', consumed: 'interacted with', facts: ['title', 'description'] },
};

/** Limits that shape the profile prompts. */
export const profilePromptSettingsSchema = z.strictObject({
  /** Default domain of the requests (a request may name its own). */
  domain: domainSchema.default('generic'),
  /** Characters kept of each item fact value (long descriptions are clipped). */
  maxFactChars: z.number().int().positive().default(1500),
  /** Reviews shown per item (the first ones given; the caller chooses the sample). */
  maxReviews: z.number().int().min(0).default(10),
  /** Characters kept of each review. */
  maxReviewChars: z.number().int().positive().default(600),
  /** History entries shown per user (the first ones given). */
  maxHistoryItems: z.number().int().positive().default(30),
  /** Characters kept of each item profile inside a user's history. */
  maxItemProfileChars: z.number().int().positive().default(400),
  /** Word budget of an item profile's summarization. */
  itemSummaryWords: z.number().int().positive().default(200),
  /** Word budget of a user profile's summarization. */
  userSummaryWords: z.number().int().positive().default(100),
  /** Word budget of the reasoning field. */
  reasoningWords: z.number().int().positive().default(200),
});
export type ProfilePromptSettings = z.infer<typeof profilePromptSettingsSchema>;
export type ProfilePromptSettingsInput = z.input<typeof profilePromptSettingsSchema>;

/** A fact value about an item; null/undefined/'' are shown as "unknown". */
export type FactValue = string | number | boolean | readonly string[] | null | undefined;

export interface ItemProfileInput {
  id: string | number;
  /** Facts as field → value, e.g. `{ title, authors, description }` or `{ name, city, categories }`. */
  facts: Readonly<Record<string, FactValue>>;
  /** Review texts (a sample chosen by the caller). */
  reviews?: readonly string[];
  /** Overrides the settings' domain. */
  domain?: Domain;
}

export interface HistoryEntry {
  title: string;
  /** The item's own profile ("who would enjoy it"), when known. */
  profile?: string | null;
  /** This user's review of it, when known. */
  review?: string | null;
}

export interface UserProfileInput {
  id: string | number;
  /** Interacted items in the order to show them. */
  history: readonly HistoryEntry[];
  domain?: Domain;
}

/** A rendered prompt: what is sent and how it is identified. */
export interface RenderedPrompt {
  system: string;
  user: string;
  /** e.g. `item-profile/books@profile-v1`. */
  templateId: string;
}

/** Cuts text to `max` characters at a word boundary when possible, marking the cut. */
export function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function factText(v: FactValue): string {
  if (v === null || v === undefined || v === '') return 'unknown';
  if (Array.isArray(v)) return v.length ? v.join(', ') : 'unknown';
  return String(v);
}

const JSON_REPLY = (first: string, second: string): string =>
  `Reply with a single JSON object and nothing before or after it:\n{"summarization": "...", "reasoning": "..."}\n- "summarization": ${first}\n- "reasoning": ${second}`;

/**
 * What one profile template asks for. The main template asks for the audience as a whole; each
 * extra variant (ProEx's extra profiles) looks at one facet, with the same JSON answer shape.
 */
interface ProfileFacet {
  /** What the item prompt asks the model to describe (the end of its first paragraph). */
  itemTask(w: DomainWords): string;
  /** The "summarization" instruction of the item prompt. */
  itemSummary(w: DomainWords, words: number): string;
  /** What the user prompt asks the model to work out (the end of its first paragraph). */
  userTask(w: DomainWords): string;
  /** The "summarization" instruction of the user prompt. */
  userSummary(w: DomainWords, words: number): string;
}

const MAIN_FACET: ProfileFacet = {
  itemTask: (w) =>
    `Describe its audience: what kind of person would enjoy this ${w.item}, what such a person values, and who would probably be disappointed by it.`,
  itemSummary: (w, n) =>
    `who would enjoy this ${w.item} and why, in at most ${n} words. Describe tastes and preferences rather than retelling the content or advertising it. If the input is too thin to say anything useful, write "None".`,
  userTask: () => 'Work out what this person enjoys and what they tend to avoid.',
  userSummary: (w, n) =>
    `the kinds of ${w.items} this person is likely to enjoy, in at most ${n} words. Name recurring themes, styles and qualities, and dislikes when the reviews show them. If the history is too thin, write "None".`,
};

/**
 * The extra profile variants, in variant order (variant k = entry k−1): each describes the same
 * entity from one facet, so the K profiles of an entity differ in what they stress.
 */
export const PROFILE_VARIANTS = [
  {
    facet: 'themes',
    description: 'genres, subjects, themes and style',
    itemTask: (w: DomainWords) =>
      `Describe what draws its audience: the genres or kinds, subjects, themes and style of this ${w.item} that would attract a person to it.`,
    itemSummary: (w: DomainWords, n: number) =>
      `the genres or kinds, subjects, themes and style of this ${w.item} and the kind of person who looks for them, in at most ${n} words. Describe what attracts people rather than retelling the content or advertising it. If the input is too thin to say anything useful, write "None".`,
    userTask: (w: DomainWords) =>
      `Work out which genres or kinds of ${w.items}, subjects, themes and styles this person is drawn to.`,
    userSummary: (w: DomainWords, n: number) =>
      `the genres or kinds, subjects, themes and styles of ${w.items} this person is drawn to, in at most ${n} words, most important first. If the history is too thin, write "None".`,
  },
  {
    facet: 'mood',
    description: 'mood, tone and occasion',
    itemTask: (w: DomainWords) =>
      `Describe the experience this ${w.item} offers: its mood, tone and pace, and the moments or occasions it suits (for example to relax, to learn, to share with others, to fill a long evening).`,
    itemSummary: (w: DomainWords, n: number) =>
      `the mood and tone of this ${w.item} and the occasions and frames of mind it suits best, in at most ${n} words. If the input is too thin to say anything useful, write "None".`,
    userTask: (w: DomainWords) =>
      `Work out what this person seeks in ${w.items}: the moods and tones they like, and why and when they turn to them.`,
    userSummary: (w: DomainWords, n: number) =>
      `the moods, tones and occasions this person looks for in ${w.items}, in at most ${n} words. If the history is too thin, write "None".`,
  },
  {
    facet: 'letdowns',
    description: 'what disappoints',
    itemTask: (w: DomainWords) =>
      `Describe who would be disappointed by this ${w.item}: which expectations it fails to meet, which drawbacks people mention, and what kind of person should look elsewhere.`,
    itemSummary: (w: DomainWords, n: number) =>
      `who would be disappointed by this ${w.item} and why, and by contrast whom it still suits, in at most ${n} words. If the input is too thin to say anything useful, write "None".`,
    userTask: (w: DomainWords) =>
      `Work out what would disappoint this person: the kinds of ${w.items}, qualities and flaws they avoid or complain about, and what is conspicuously absent from their history.`,
    userSummary: (w: DomainWords, n: number) =>
      `what this person is likely to dislike or find disappointing in ${w.items}, in at most ${n} words, with what they enjoy instead as contrast. If the history is too thin, write "None".`,
  },
] as const satisfies readonly (ProfileFacet & { facet: string; description: string })[];

/** The extra profile variants there are templates for (`promax profiles --variants N` allows at most this). */
export const MAX_PROFILE_VARIANTS = PROFILE_VARIANTS.length;

/** The facet of a variant: 0 is the main profile, 1..MAX_PROFILE_VARIANTS the extra ones. */
function facetOf(variant: number): ProfileFacet {
  if (variant === 0) return MAIN_FACET;
  const facet = Number.isInteger(variant) ? PROFILE_VARIANTS[variant - 1] : undefined;
  if (!facet) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'variant',
      message: `profile variant ${variant} does not exist (0 is the main profile, 1..${MAX_PROFILE_VARIANTS} the extra ones)`,
      fix: `ask for at most ${MAX_PROFILE_VARIANTS} extra profile variants`,
    });
  }
  return facet;
}

/** The template name of a profile kind and variant: `item-profile`, `item-profile-variant-1-themes`, … */
export function profileTemplateName(kind: 'item' | 'user', variant = 0): string {
  facetOf(variant);
  return variant === 0
    ? `${kind}-profile`
    : `${kind}-profile-variant-${variant}-${PROFILE_VARIANTS[variant - 1]?.facet}`;
}

/** System prompt for item profiles ("what kind of user would enjoy it"; a variant looks at one facet). */
export function itemProfileSystemPrompt(domain: Domain, s: ProfilePromptSettings, variant = 0): string {
  const w = DOMAIN_WORDS[domain];
  const facet = facetOf(variant);
  return [
    `You are helping a recommender system describe its catalogue. You will see facts about one ${w.item} and, when available, a few reviews written by people who tried it. ${facet.itemTask(w)}`,
    '',
    'The input has two parts:',
    `ITEM FACTS: a JSON object with fields such as ${w.facts.map((f) => `"${f}"`).join(', ')}. A field we know nothing about is set to "unknown".`,
    'REVIEWS: a JSON array of review texts; it may be empty.',
    '',
    JSON_REPLY(
      facet.itemSummary(w, s.itemSummaryWords),
      `which facts and review points support the summarization, in at most ${s.reasoningWords} words.`,
    ),
  ].join('\n');
}

/** System prompt for user profiles ("what this user enjoys"; a variant looks at one facet). */
export function userProfileSystemPrompt(domain: Domain, s: ProfilePromptSettings, variant = 0): string {
  const w = DOMAIN_WORDS[domain];
  const facet = facetOf(variant);
  return [
    `You are helping a recommender system understand one person's taste. You will see the ${w.items} this person has ${w.consumed}. Each comes with a short description of who tends to enjoy it and, when available, the person's own review. ${facet.userTask(w)}`,
    '',
    `The input is HISTORY: a JSON array with one object per ${w.item}: {"title": the name, "audience": who tends to enjoy it (or "unknown"), "review": the person's own words (or "none")}.`,
    '',
    JSON_REPLY(
      facet.userSummary(w, s.userSummaryWords),
      `how the history supports the summarization, in at most ${s.reasoningWords} words.`,
    ),
  ].join('\n');
}

/** Renders the prompt of one item profile (variant 0: the main profile; k ≥ 1: extra variant k). */
export function buildItemProfilePrompt(
  input: ItemProfileInput,
  settings: ProfilePromptSettings,
  variant = 0,
): RenderedPrompt {
  const domain = input.domain ?? settings.domain;
  const facts: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.facts)) facts[k] = clip(factText(v), settings.maxFactChars);
  const reviews = (input.reviews ?? [])
    .slice(0, settings.maxReviews)
    .map((r) => clip(r, settings.maxReviewChars));
  const user = [
    'ITEM FACTS:',
    JSON.stringify(facts),
    'REVIEWS:',
    reviews.length ? `[\n${reviews.map((r) => JSON.stringify(r)).join(',\n')}\n]` : '[]',
  ].join('\n');
  return {
    system: itemProfileSystemPrompt(domain, settings, variant),
    user,
    templateId: `${profileTemplateName('item', variant)}/${domain}@${PROFILE_PROMPT_VERSION}`,
  };
}

/** Renders the prompt of one user profile (variant 0: the main profile; k ≥ 1: extra variant k). */
export function buildUserProfilePrompt(
  input: UserProfileInput,
  settings: ProfilePromptSettings,
  variant = 0,
): RenderedPrompt {
  const domain = input.domain ?? settings.domain;
  const rows = input.history.slice(0, settings.maxHistoryItems).map((h) =>
    JSON.stringify({
      title: clip(h.title, 300),
      audience: h.profile ? clip(h.profile, settings.maxItemProfileChars) : 'unknown',
      review: h.review ? clip(h.review, settings.maxReviewChars) : 'none',
    }),
  );
  return {
    system: userProfileSystemPrompt(domain, settings, variant),
    user: `HISTORY:\n[\n${rows.join(',\n')}\n]`,
    templateId: `${profileTemplateName('user', variant)}/${domain}@${PROFILE_PROMPT_VERSION}`,
  };
}

/** Limits that shape the re-ranking prompt. */
export const rerankPromptSettingsSchema = z.strictObject({
  /** Domain wording of the prompt. */
  domain: domainSchema.default('generic'),
  /** History titles shown (the first ones given). */
  maxHistoryItems: z.number().int().positive().default(20),
  /** Characters kept of the user profile. */
  maxUserProfileChars: z.number().int().positive().default(1500),
  /** Characters kept of each candidate's description. */
  maxCandidateChars: z.number().int().positive().default(300),
});
export type RerankPromptSettings = z.infer<typeof rerankPromptSettingsSchema>;
export type RerankPromptSettingsInput = z.input<typeof rerankPromptSettingsSchema>;

export interface RerankCandidate {
  /** Id used in the prompt and in the answer. */
  id: string | number;
  title: string;
  /** Item profile or description. */
  profile?: string | null;
}

export interface RerankInput {
  /** The user's id (the store key's entity id). */
  userId: string | number;
  /** The user's profile text, when known. */
  userProfile?: string | null;
  /** Titles of items the user interacted with. */
  history?: readonly string[];
  candidates: readonly RerankCandidate[];
  /** How many candidates to choose (capped at the number of candidates). */
  n: number;
  domain?: Domain;
}

/** Renders the re-ranking prompt: pick the n best candidates by id. */
export function buildRerankPrompt(input: RerankInput, settings: RerankPromptSettings): RenderedPrompt {
  const domain = input.domain ?? settings.domain;
  const w = DOMAIN_WORDS[domain];
  const n = Math.min(input.n, input.candidates.length);
  const system = [
    `You are the final ranking step of a recommender system. You will see what we know about one person (a taste profile and the ${w.items} they have ${w.consumed}) and a list of candidate ${w.items}, each with an id. Choose the ${n} candidates this person is most likely to enjoy next, best first.`,
    '',
    'Reply with a single JSON object and nothing before or after it:',
    '{"ids": ["<id>", ...]}',
    `Copy the ids exactly as written in the candidate list, give exactly ${n} different ids, and never include an id that is not in the list.`,
  ].join('\n');
  const history = (input.history ?? []).slice(0, settings.maxHistoryItems).map((t) => clip(t, 200));
  const user = [
    'PERSON PROFILE:',
    input.userProfile ? clip(input.userProfile, settings.maxUserProfileChars) : 'unknown',
    'HISTORY:',
    JSON.stringify(history),
    'CANDIDATES:',
    ...input.candidates.map((c) =>
      JSON.stringify({
        id: String(c.id),
        title: clip(c.title, 200),
        about: c.profile ? clip(c.profile, settings.maxCandidateChars) : 'unknown',
      }),
    ),
  ].join('\n');
  return { system, user, templateId: `rerank/${domain}@${RERANK_PROMPT_VERSION}` };
}

/** sha256 of model + system + user text (a JSON array, so the parts cannot run into each other). */
export function promptHash(model: string, system: string, user: string): string {
  return createHash('sha256')
    .update(JSON.stringify([model, system, user]))
    .digest('hex');
}
