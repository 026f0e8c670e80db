import { PromaxError } from '@promax/core';

/**
 * Rejects unknown keys and wrong primitive types in a settings object. This package has no
 * schema library dependency, so the checks are spelled out by hand (the typed interfaces
 * carry the documentation).
 */
export function checkSettings(
  settings: unknown,
  name: string,
  spec: Record<string, 'string' | 'number' | 'boolean' | 'object' | 'function'>,
  required: readonly string[] = [],
): void {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new PromaxError({ code: 'INVALID_CONFIG', message: `${name} settings must be an object` });
  }
  const obj = settings as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in spec)) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        message: `unknown ${name} setting '${key}'`,
        field: key,
        fix: `use one of: ${Object.keys(spec).join(', ')}`,
      });
    }
    const value = obj[key];
    if (value === undefined) continue;
    const want = spec[key];
    const ok = want === 'object' ? typeof value === 'object' && value !== null : typeof value === want;
    if (!ok) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        message: `${name} setting '${key}' must be a ${want}, got ${value === null ? 'null' : typeof value}`,
        field: key,
      });
    }
  }
  for (const key of required) {
    if (obj[key] === undefined || obj[key] === '') {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        message: `${name} setting '${key}' is required`,
        field: key,
      });
    }
  }
}

export function checkPositiveInt(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      message: `${name} must be a positive integer, got ${value}`,
      field: name,
    });
  }
}
