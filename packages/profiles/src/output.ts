import { z } from 'zod';

/** The JSON a profile answer must be. */
export const profileOutputSchema = z.object({
  summarization: z.string().trim().min(1),
  reasoning: z.string(),
});
export type ProfileOutput = z.infer<typeof profileOutputSchema>;

/** The JSON a re-ranking answer must be. */
export const rerankOutputSchema = z.object({
  ids: z.array(z.union([z.string(), z.number()])),
});

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Extracts the JSON value from a model answer: the whole text, or the inside of a ```json
 * fence, or the outermost {...} span (models sometimes add a sentence around it).
 */
export function extractJson(text: string): ParseResult<unknown> {
  const candidates: string[] = [text.trim()];
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fence?.[1]) candidates.push(fence[1].trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1));
  for (const c of candidates) {
    if (!c) continue;
    try {
      return { ok: true, value: JSON.parse(c) as unknown };
    } catch {
      // try the next candidate
    }
  }
  return { ok: false, reason: text.trim() ? 'the answer is not valid JSON' : 'the answer is empty' };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ');
}

/** Parses and validates a profile answer `{summarization, reasoning}`. */
export function parseProfileOutput(text: string): ParseResult<ProfileOutput> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const res = profileOutputSchema.safeParse(json.value);
  if (!res.success)
    return { ok: false, reason: `the JSON does not have the required fields (${describeIssues(res.error)})` };
  return { ok: true, value: { summarization: res.data.summarization, reasoning: res.data.reasoning } };
}

export interface RerankParse {
  /** Valid distinct ids in answer order (at most n). */
  ids: string[];
  /** Ids that are not candidates. */
  unknown: string[];
  /** Repeated ids that were dropped. */
  duplicates: string[];
}

/**
 * Parses a re-ranking answer: ids are compared as strings, duplicates are dropped, and the
 * answer is valid only when it names no unknown id and at least n distinct candidates.
 */
export function parseRerankOutput(
  text: string,
  candidateIds: readonly string[],
  n: number,
): ParseResult<RerankParse> & { partial?: RerankParse } {
  const json = extractJson(text);
  if (!json.ok) return json;
  const value = Array.isArray(json.value) ? { ids: json.value } : json.value;
  const res = rerankOutputSchema.safeParse(value);
  if (!res.success)
    return { ok: false, reason: `the JSON must be {"ids": [...]} (${describeIssues(res.error)})` };
  const allowed = new Set(candidateIds);
  const seen = new Set<string>();
  const parsed: RerankParse = { ids: [], unknown: [], duplicates: [] };
  for (const raw of res.data.ids) {
    const id = String(raw).trim();
    if (!allowed.has(id)) parsed.unknown.push(id);
    else if (seen.has(id)) parsed.duplicates.push(id);
    else {
      seen.add(id);
      parsed.ids.push(id);
    }
  }
  const problems: string[] = [];
  if (parsed.unknown.length)
    problems.push(`these ids are not in the candidate list: ${parsed.unknown.slice(0, 10).join(', ')}`);
  if (parsed.ids.length < n)
    problems.push(`only ${parsed.ids.length} distinct valid ids were given, ${n} are needed`);
  if (problems.length) return { ok: false, reason: problems.join('; '), partial: parsed };
  return { ok: true, value: { ...parsed, ids: parsed.ids.slice(0, n) } };
}
