import type * as z from 'zod';
import { PromaxError } from './errors.js';

export interface ParseSettingsOptions {
  /** What is validated, for the message: "lightgcn settings", "trainer config" (default "config"). */
  what?: string;
  /** Where the value came from ("config.json", "--set", "defaults"), quoted in the error. */
  source?: string;
  /** The fix hint when no key can be suggested (default "correct the keys listed above"). */
  fix?: string;
  /** Extra structured details for the error. */
  details?: Record<string, unknown>;
}

/** One problem found in a config, as recorded in `PromaxError.details.issues`. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `trainer.lr` or `ks[0]`. */
  path: string;
  message: string;
  /** What the schema expected there (a type name or the allowed values). */
  expected?: string;
  /** For unknown keys: the closest valid key at that level. */
  suggestion?: string;
}

/**
 * Parses `value` with a zod schema (every default applied); on failure throws ONE
 * `PromaxError('INVALID_CONFIG')` listing every issue with its key path and expected type, and for
 * unknown keys the closest valid key. The one place where schema errors become the project's error:
 * every package's settings go through it.
 */
export function parseSettings<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: ParseSettingsOptions = {},
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues: ConfigIssue[] = [];
  for (const issue of parsed.error.issues) issues.push(...describeIssue(schema, value, issue));
  const where = options.source ? ` in ${options.source}` : '';
  const lines = issues.map((i) => `${i.path || '(root)'}: ${i.message}`);
  const fixes = issues.filter((i) => i.suggestion !== undefined);
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    field: issues[0]?.path,
    message: `invalid ${options.what ?? 'config'}${where}: ${lines.join('; ')}`,
    fix: fixes.length
      ? fixes
          .map((i) => `rename "${i.path}" to "${joinPath(parentPath(i.path), i.suggestion ?? '')}"`)
          .join(', ')
      : (options.fix ?? 'correct the keys listed above'),
    details: { ...options.details, source: options.source, issues },
  });
}

type Issue = z.core.$ZodIssue;

function describeIssue(schema: z.ZodType, root: unknown, issue: Issue): ConfigIssue[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const valid = objectKeysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const suggestion = valid ? closestKey(key, valid) : undefined;
        const hint = suggestion ? ` — did you mean "${suggestion}"?` : '';
        const list = valid?.length ? ` Valid keys: ${valid.join(', ')}.` : '';
        return {
          path: joinPath(path, key),
          message: `unknown key "${key}"${hint}${list}`,
          suggestion,
        };
      });
    }
    case 'invalid_type': {
      const received = describeValue(valueAt(root, issue.path));
      return [{ path, expected: issue.expected, message: `expected ${issue.expected}, got ${received}` }];
    }
    case 'invalid_value': {
      const expected = issue.values.map((v) => JSON.stringify(v)).join(' | ');
      const received = describeValue(valueAt(root, issue.path));
      return [{ path, expected, message: `expected one of ${expected}, got ${received}` }];
    }
    default:
      return [{ path, message: `${issue.message}, got ${describeValue(valueAt(root, issue.path))}` }];
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function joinPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function parentPath(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? '' : path.slice(0, dot);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  const kind = Array.isArray(v) ? 'array' : typeof v;
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  if (text.length > 40) text = `${text.slice(0, 37)}...`;
  return `${kind} ${text}`;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): SchemaDef => (s as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** Strips wrappers (default, optional, pipe, lazy, …) down to the structural schema. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let guard = 0; guard < 32; guard++) {
    const d = defOf(s);
    const next =
      d.innerType ?? (d.type === 'pipe' ? d.in : undefined) ?? (d.type === 'lazy' ? d.getter?.() : undefined);
    if (!next) return s;
    s = next;
  }
  return s;
}

/** The valid keys of the object schema reached by `path`, or undefined if none is found. */
export function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s = unwrap(schema);
  for (const p of path) {
    const d = defOf(s);
    let next: z.ZodType | undefined;
    if (d.type === 'object' && typeof p === 'string') next = d.shape?.[p];
    else if (d.type === 'array') next = d.element;
    else if (d.type === 'record') next = d.valueType;
    if (!next) return undefined;
    s = unwrap(next);
  }
  const d = defOf(s);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : undefined;
}

/**
 * Optimal-string-alignment edit distance (Levenshtein plus adjacent transpositions), so
 * `lr` → `rl` costs 1.
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n];
}

const normaliseKey = (k: string): string => k.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The candidate closest to `key`: compared case- and separator-insensitively first
 * (`batch_size` → `batchSize`), ties broken by the exact edit distance, then by order.
 * Always returns a candidate when there is one (see {@link closestMatch} for a bounded one).
 */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const score = editDistance(normaliseKey(key), normaliseKey(c)) * 1000 + editDistance(key, c);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/**
 * The candidate closest to `word` (for "did you mean"), or undefined when none is close: within
 * max(2, ⌊|word|/3⌋) edits, or a case-insensitive prefix of at least 3 characters either way.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const best = closestKey(word, candidates);
  if (best === undefined) return undefined;
  if (editDistance(normaliseKey(word), normaliseKey(best)) <= Math.max(2, Math.floor(word.length / 3)))
    return best;
  const lower = word.toLowerCase();
  if (lower.length >= 3) return candidates.find((c) => c.toLowerCase().startsWith(lower));
  return undefined;
}
