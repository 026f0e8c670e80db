import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { captureIo } from '../test-util/capture-io.js';
import { localJobSettings, localModelName, parseLocalLlmFlags } from './llm-client.js';

const io = captureIo('/data');
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return PromaxError.isInstance(e) ? `${e.code} ${e.field}` : String(e);
  }
  return undefined;
};

describe('parseLocalLlmFlags', () => {
  it('is undefined without --llm-gguf, and reads the tuning flags with it', () => {
    expect(parseLocalLlmFlags(io, {})).toBeUndefined();
    expect(
      parseLocalLlmFlags(io, {
        'llm-gguf': 'm.gguf',
        'llm-threads': '0',
        'llm-context': '2048',
        'llm-gpu-layers': 'max',
        'llm-parallel': '8',
      }),
    ).toEqual({ path: '/data/m.gguf', threads: 0, contextSize: 2048, gpuLayers: 'max', parallel: 8 });
    expect(parseLocalLlmFlags(io, { 'llm-gguf': '/abs/m.gguf' })).toEqual({
      path: '/abs/m.gguf',
      parallel: 4,
    });
  });

  it('refuses a remote endpoint beside a local model, and tuning flags without one', () => {
    expect(
      codeOf(() => parseLocalLlmFlags(io, { 'llm-gguf': 'm.gguf', 'llm-base-url': 'http://x/v1' })),
    ).toBe('INVALID_ARGUMENT --llm-base-url');
    expect(codeOf(() => parseLocalLlmFlags(io, { 'llm-gguf': 'm.gguf', 'llm-model': 'gpt' }))).toBe(
      'INVALID_ARGUMENT --llm-model',
    );
    expect(codeOf(() => parseLocalLlmFlags(io, { 'llm-parallel': '2' }))).toBe(
      'INVALID_ARGUMENT --llm-parallel',
    );
    expect(codeOf(() => parseLocalLlmFlags(io, { 'llm-gguf': 'm.gguf', 'llm-parallel': 'two' }))).toMatch(
      /--llm-parallel/,
    );
  });

  it('runs as many requests at once as the model has sequences unless told otherwise', () => {
    const flags = { path: 'm.gguf', parallel: 8 };
    expect(localJobSettings(flags, { model: 'm' }).concurrency).toBe(8);
    expect(localJobSettings(flags, { model: 'm', concurrency: 2 }).concurrency).toBe(2);
  });

  it('names a missing GGUF with FILE_NOT_FOUND before anything loads', async () => {
    await expect(localModelName({ path: '/no/such/model.gguf', parallel: 1 })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      field: '--llm-gguf',
    });
  });
});
