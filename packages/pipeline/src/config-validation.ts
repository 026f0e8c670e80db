import { PromaxError } from '@promax/core';

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Parses the text of a `--set key=value` override: `true`/`false`, `null`, numbers (`1e-3`),
 * JSON arrays/objects/quoted strings (`[5,10,20]`, `{"a":1}`, `"2025"` for a string that looks
 * like a number), comma-separated numbers (`5,10,20` → `[5, 10, 20]`), anything else a string.
 */
export function parseConfigValue(text: string, key = 'value'): unknown {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (NUMBER.test(t)) return Number(t);
  if (t.startsWith('[') || t.startsWith('{') || t.startsWith('"')) {
    try {
      return JSON.parse(t);
    } catch (e) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: key,
        message: `cannot parse ${JSON.stringify(text)} as JSON: ${(e as Error).message}`,
        fix: `quote the whole override for the shell, e.g. --set '${key}=[5,10,20]'`,
      });
    }
  }
  if (t.includes(',')) {
    const parts = t.split(',').map((p) => p.trim());
    if (parts.every((p) => NUMBER.test(p))) return parts.map(Number);
  }
  return text;
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export interface SetByPathOptions {
  /** Parse string values with `parseConfigValue` (default true); false sets them verbatim. */
  parse?: boolean;
}

/** `obj.a.b.c` for the path `a.b.c`, or undefined where the path leaves the objects. */
export function getByPath(obj: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}

/**
 * Sets `obj.a.b.c = value` in place (creating missing objects on the way) and returns `obj`.
 * String values are parsed with `parseConfigValue` unless `parse: false`. Numeric segments
 * index into existing arrays.
 */
export function setByPath<T extends Record<string, unknown>>(
  obj: T,
  path: string,
  value: unknown,
  options: SetByPathOptions = {},
): T {
  const keys = path.split('.');
  if (path.trim() === '' || keys.some((k) => k === '')) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: path,
      message: `invalid key path "${path}"`,
      fix: 'use dotted keys such as trainer.lr',
    });
  }
  for (const k of keys) {
    if (FORBIDDEN.has(k)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: path,
        message: `key "${k}" is not allowed in a path`,
      });
    }
  }
  const parsed = typeof value === 'string' && options.parse !== false ? parseConfigValue(value, path) : value;
  let node: Record<string, unknown> | unknown[] = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i];
    const existing: unknown = Array.isArray(node) ? node[Number(k)] : node[k];
    if (existing === undefined || existing === null) {
      const created: Record<string, unknown> = {};
      assign(node, k, created, path);
      node = created;
    } else if (typeof existing === 'object') {
      node = existing as Record<string, unknown> | unknown[];
    } else {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: path,
        message: `cannot set "${path}": "${keys.slice(0, i + 1).join('.')}" is a ${typeof existing}, not an object`,
      });
    }
  }
  assign(node, keys[keys.length - 1], parsed, path);
  return obj;
}

function assign(node: Record<string, unknown> | unknown[], key: string, value: unknown, path: string): void {
  if (Array.isArray(node)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: path,
        message: `"${key}" in "${path}" indexes an array, so it must be a non-negative integer`,
      });
    }
    node[i] = value;
  } else {
    node[key] = value;
  }
}

/** Applies `key=value` strings (the CLI's `--set`) in order; returns `obj`. */
export function applyOverrides<T extends Record<string, unknown>>(obj: T, overrides: readonly string[]): T {
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: o,
        message: `override "${o}" is not of the form key=value`,
        fix: 'write e.g. --set trainer.lr=0.001',
      });
    }
    setByPath(obj, o.slice(0, eq).trim(), o.slice(eq + 1));
  }
  return obj;
}
