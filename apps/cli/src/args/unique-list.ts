import { PromaxError } from '@promax/core';

/**
 * Refuses a list flag that names the same value twice (`--seeds 2025,2025`, `--models mf,mf`):
 * a repeated seed trains the same run twice, and its zero spread would make every gain look
 * "beyond std". Returns the list unchanged.
 */
export function uniqueList<T extends string | number>(values: readonly T[], flag: string): T[] {
  const seen = new Set<T>();
  const repeated: T[] = [];
  for (const v of values) {
    if (seen.has(v) && !repeated.includes(v)) repeated.push(v);
    seen.add(v);
  }
  if (repeated.length) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} names ${repeated.map((v) => `'${v}'`).join(', ')} more than once (${values.join(',')})`,
      fix: `list each value once, e.g. ${flag} ${[...seen].join(',')}`,
      details: { repeated },
    });
  }
  return [...values];
}
