import { describe, expect, it } from 'vitest';
import { ensure, PromaxError } from './errors.js';

describe('PromaxError', () => {
  it('is recognised by marker, even on a structurally separate copy', () => {
    const e = new PromaxError({
      code: 'INVALID_FILE',
      message: 'bad header',
      file: 'a.npy',
      fix: 'rewrite it',
    });
    expect(PromaxError.isInstance(e)).toBe(true);
    expect(PromaxError.isInstance(new Error('x'))).toBe(false);
    expect(PromaxError.isInstance(null)).toBe(false);
    const foreign = Object.assign(new Error('x'), { [Symbol.for('promax.error')]: true });
    expect(PromaxError.isInstance(foreign)).toBe(true);
    expect(e.message).toBe('bad header (file a.npy). Fix: rewrite it');
    expect(e.code).toBe('INVALID_FILE');
    expect(e.toJSON()).toMatchObject({ code: 'INVALID_FILE', file: 'a.npy', isRetryable: false });
  });
  it('ensure throws only on falsy conditions', () => {
    expect(() => ensure(true, { code: 'INVALID_ARGUMENT', message: 'no' })).not.toThrow();
    expect(() => ensure(0, { code: 'INVALID_ARGUMENT', message: 'no', field: 'k' })).toThrow(
      /no \(field k\)/,
    );
  });
});
