import { describe, expect, it } from 'vitest';
import { resolveApiKey } from './api-key.js';
import { PromaxError } from './errors.js';

describe('resolveApiKey (the one environment fallback for API keys)', () => {
  it('prefers the given key, then OPENAI_API_KEY; a local endpoint needs none; the official one does', () => {
    expect(resolveApiKey({ apiKey: 'a' }, { OPENAI_API_KEY: 'b' })).toBe('a');
    expect(resolveApiKey({}, { OPENAI_API_KEY: 'b' })).toBe('b');
    expect(resolveApiKey({ baseURL: 'http://127.0.0.1:8000/v1' }, {})).toBe('no-key');
    expect(() => resolveApiKey({}, {})).toThrow(PromaxError);
    expect(() =>
      resolveApiKey({ baseURL: 'https://api.openai.com/v1' }, {}, 'the embeddings endpoint'),
    ).toThrow(/no API key for the embeddings endpoint/);
  });
});
