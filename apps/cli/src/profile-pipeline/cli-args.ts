import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PromaxError } from '@promax/core';
import type { Io } from '../io.js';

/** A required flag: returns its value or throws INVALID_ARGUMENT naming it, with the usage line as the fix. */
export function requireFlag(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} is required`,
      fix: usage.split('\n')[0],
    });
  }
  return value;
}

/** Parses a positive integer flag (or undefined when absent). */
export function positiveIntFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} must be a positive integer, got '${value}'`,
      fix: `pass e.g. ${flag} 10`,
    });
  }
  return n;
}

/** Parses a non-negative integer flag (or undefined when absent). */
export function nonNegativeIntFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} must be a whole number ≥ 0, got '${value}'`,
      fix: `pass e.g. ${flag} 3 (0 turns it off)`,
    });
  }
  return n;
}

/** Parses a positive number flag (or undefined when absent). */
export function positiveNumberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} must be a positive number, got '${value}'`,
      fix: `pass e.g. ${flag} 500`,
    });
  }
  return n;
}

/** Checks a flag against its allowed values. */
export function choiceFlag<T extends string>(value: string, flag: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} must be one of ${choices.join(', ')}, got '${value}'`,
      fix: `pass ${flag} ${choices[0]}`,
    });
  }
  return value as T;
}

/** Resolves a path argument against the Io's working directory. */
export const pathIn = (io: Io, p: string): string => resolve(io.cwd, p);

/** An endpoint URL as it may be recorded: credentials, query and fragment removed. */
export function redactUrl(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Writes JSON atomically (temp file + rename), creating the folder. */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Writes text atomically (temp file + rename), creating the folder. */
export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Formats a dollar amount, or says why there is none. */
export function formatUsd(value: number | undefined, model: string): string {
  if (value === undefined) return `unknown (no price known for ${model})`;
  return value < 0.01 && value > 0 ? `$${value.toFixed(6)}` : `$${value.toFixed(4)}`;
}
