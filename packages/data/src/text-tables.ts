import { PromaxError } from '@promax/core';
import { type Delimiter, splitFields, splitLines } from './delimited.js';
import { readTextFile } from './files.js';

export interface TextTable {
  readonly file: string;
  readonly header: string[];
  /** Data rows, each with exactly `header.length` fields. */
  readonly rows: string[][];
}

export interface ReadTextTableOptions {
  /** Field delimiter (default tab). */
  delimiter?: Delimiter;
  /** Text encoding (default utf8; MovieLens' u.item is latin1). */
  encoding?: 'utf8' | 'latin1';
}

/** Reads a delimited text table whose first line is a header (optionally gzipped). */
export function readTextTable(path: string, options: ReadTextTableOptions = {}): TextTable {
  const delimiter = options.delimiter ?? '\t';
  const lines = splitLines(readTextFile(path, options.encoding));
  if (lines.length === 0) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: 'the table is empty (no header line)',
      file: path,
      fix: 'start the file with a header line',
    });
  }
  const header = splitFields(lines[0], delimiter).map((h) => h.trim());
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const f = splitFields(lines[i], delimiter);
    if (f.length !== header.length) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        message: `line ${i + 1}: has ${f.length} fields, the header has ${header.length} (${header.join(', ')})`,
        file: path,
        fix: `give line ${i + 1} exactly ${header.length} fields (fields must not contain the delimiter)`,
        details: { line: i + 1 },
      });
    }
    rows.push(f);
  }
  return { file: path, header, rows };
}

export interface TextMapOptions extends ReadTextTableOptions {
  /** Column holding the id (default: the first). */
  idColumn?: string;
  /** Column holding the text (default: the second). */
  textColumn?: string;
}

/** Reads an id → text map (item titles, user descriptions) from a table with a header. */
export function loadTextMap(path: string, options: TextMapOptions = {}): Map<string, string> {
  const t = readTextTable(path, options);
  const find = (name: string | undefined, fallback: number, field: string): number => {
    if (name === undefined) return fallback;
    const i = t.header.indexOf(name);
    if (i < 0) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `no column '${name}' in the header [${t.header.join(', ')}]`,
        file: path,
        field,
        fix: 'name a column of the header',
      });
    }
    return i;
  };
  const id = find(options.idColumn, 0, 'idColumn');
  const text = find(options.textColumn, 1, 'textColumn');
  const out = new Map<string, string>();
  for (const r of t.rows) out.set(r[id].trim(), r[text]);
  return out;
}

export interface ProfileRecord {
  /** The id as a string (JSON numbers are stringified). */
  readonly id: string;
  readonly text: string;
  /** All fields of the line, including id and text. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly line: number;
}

export interface ProfileOptions {
  /** Field holding the id (default 'user'). */
  idField?: string;
  /** Field holding the text (default 'profile'). */
  textField?: string;
}

/** Reads a JSON-lines profile file (`{"user": id, "profile": str, ...}` per line, optionally gzipped). */
export function loadProfiles(path: string, options: ProfileOptions = {}): ProfileRecord[] {
  const idField = options.idField ?? 'user';
  const textField = options.textField ?? 'profile';
  const lines = splitLines(readTextFile(path));
  const out: ProfileRecord[] = [];
  const fail = (line: number, message: string, fix: string): PromaxError =>
    new PromaxError({
      code: 'INVALID_FILE',
      message: `line ${line}: ${message}`,
      file: path,
      fix,
      details: { line },
    });
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(lines[i]);
    } catch (e) {
      throw fail(i + 1, `not valid JSON (${(e as Error).message})`, 'write one JSON object per line');
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw fail(i + 1, 'is not a JSON object', `write {"${idField}": …, "${textField}": "…"} per line`);
    }
    const rec = obj as Record<string, unknown>;
    const id = rec[idField];
    const text = rec[textField];
    if ((typeof id !== 'string' && typeof id !== 'number') || typeof text !== 'string') {
      throw fail(
        i + 1,
        `needs a string/number "${idField}" and a string "${textField}" (found keys ${Object.keys(rec).join(', ')})`,
        `write {"${idField}": …, "${textField}": "…"} or pass { idField, textField }`,
      );
    }
    out.push({ id: String(id), text, fields: rec, line: i + 1 });
  }
  return out;
}

/**
 * Arranges texts by dense id: `texts[k]` is the text of `ids[k]`, or undefined when the map
 * has none (counted in `missing`).
 */
export function alignTexts(
  texts: ReadonlyMap<string, string>,
  ids: readonly string[],
): { texts: (string | undefined)[]; missing: number } {
  let missing = 0;
  const out = ids.map((id) => {
    const t = texts.get(id);
    if (t === undefined) missing++;
    return t;
  });
  return { texts: out, missing };
}

/**
 * Reads an RLMRec id mapper (JSON lines like `{"uid": 0, "reviewerID": "A2…"}`): the integer
 * field is the dense id, the other string field the original id. Returns originals by dense id.
 */
export function loadIdMapper(path: string): string[] {
  const lines = splitLines(readTextFile(path));
  const out: string[] = [];
  let filled = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(lines[i]) as Record<string, unknown>;
    } catch (e) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        message: `line ${i + 1}: not valid JSON (${(e as Error).message})`,
        file: path,
        fix: 'write one JSON object per line',
        details: { line: i + 1 },
      });
    }
    const entries = Object.entries(rec ?? {});
    const key =
      ['uid', 'iid', 'id'].find((k) => k in (rec ?? {})) ??
      entries.find(([, v]) => typeof v === 'number')?.[0];
    const d = key === undefined ? undefined : rec[key];
    const dense = typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : undefined;
    const other = entries.find(
      ([k, v]) => k !== key && (typeof v === 'string' || typeof v === 'number'),
    )?.[1];
    const original = other === undefined ? undefined : String(other);
    if (dense === undefined || original === undefined) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        message: `line ${i + 1}: expected {"uid"|"iid": integer, "<original id>": string}`,
        file: path,
        fix: 'write one {"uid": 0, "reviewerID": "…"} object per line',
        details: { line: i + 1 },
      });
    }
    if (out[dense] === undefined) filled++;
    out[dense] = original;
  }
  if (filled !== out.length) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      message: `the id mapper covers ${filled} of the ids 0..${out.length - 1}; some dense ids have no original id`,
      file: path,
      fix: 'list every dense id exactly once',
    });
  }
  return out;
}
