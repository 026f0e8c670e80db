import { PromaxError } from '@promax/core';

/** A delimiter for field splitting; `'whitespace'` means runs of spaces/tabs. */
export type Delimiter = '\t' | ',' | ';' | '|' | 'whitespace' | (string & {});

const CANDIDATES = ['\t', ',', ';', '|'] as const;

/** Splits text into lines, accepting \n and \r\n. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Guesses the delimiter from the first 20 non-empty lines: of tab, comma, semicolon and pipe,
 * the one occurring on most lines as often as on line 1 (ties: that order), else runs of
 * whitespace.
 */
export function sniffDelimiter(lines: readonly string[], file: string): Delimiter {
  const sample = lines.filter((l) => l.trim() !== '').slice(0, 20);
  if (sample.length === 0) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: 'the file is empty',
      file,
      fix: 'pass a file with one interaction per line',
    });
  }
  // The delimiter occurs as often on most lines as on line 1; a few malformed lines must not
  // hide it (the parser then reports them by line number).
  const majority = Math.ceil(sample.length / 2);
  let best: Delimiter | undefined;
  let bestScore = 0;
  for (const d of CANDIDATES) {
    const n = count(sample[0], d);
    if (n === 0) continue;
    const score = sample.filter((l) => count(l, d) === n).length;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  if (best && bestScore >= majority) return best;
  if (sample.filter((l) => /\S\s+\S/.test(l.trim())).length >= majority) return 'whitespace';
  throw new PromaxError({
    code: 'INVALID_FILE',
    message: `cannot tell the field delimiter from line 1 (${JSON.stringify(sample[0].slice(0, 80))})`,
    file,
    fixFor: {
      cli: 'separate the fields with tabs or commas',
      library: "separate fields with tabs or commas, or pass { delimiter: '…' }",
    },
  });
}

function count(line: string, d: string): number {
  let n = 0;
  for (let i = line.indexOf(d); i >= 0; i = line.indexOf(d, i + 1)) n++;
  return n;
}

/** Splits one line into fields (double-quoted fields are unquoted for comma/semicolon files). */
export function splitFields(line: string, delimiter: Delimiter): string[] {
  if (delimiter === 'whitespace') return line.trim().split(/\s+/);
  if (!line.includes('"') || delimiter === '\t') return line.split(delimiter);
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (line.startsWith(delimiter, i)) {
      out.push(field);
      field = '';
      i += delimiter.length - 1;
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Describes a delimiter for messages. */
export function delimiterName(d: Delimiter): string {
  return d === '\t' ? 'tab' : d === 'whitespace' ? 'whitespace' : `'${d}'`;
}
