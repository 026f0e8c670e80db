import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSha256 } from './gguf-file.js';
import { loadLocalChatModel } from './local-chat-model.js';
import { ggufBytes } from './test-model.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'promax-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadError(path: string): Promise<PromaxError> {
  try {
    await loadLocalChatModel({ settings: { modelPath: path } });
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('the model loaded');
}

describe('bad GGUF input gives named errors', () => {
  it('a missing file is FILE_NOT_FOUND with the fetch hint', async () => {
    const e = await loadError(join(dir, 'absent.gguf'));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.fix).toMatch(/fetch-gguf/);
  });

  it('a file that is not GGUF is INVALID_FILE', async () => {
    const p = join(dir, 'text.gguf');
    writeFileSync(p, 'this is not a model at all');
    expect((await loadError(p)).code).toBe('INVALID_FILE');
  });

  it('a truncated GGUF header is INVALID_FILE', async () => {
    const p = join(dir, 'cut.gguf');
    const full = ggufBytes({ 'general.architecture': 'llama', 'general.name': 'a model with a long name' });
    writeFileSync(p, full.subarray(0, 40));
    const e = await loadError(p);
    expect(e.code).toBe('INVALID_FILE');
    expect(e.message).toMatch(/truncated or corrupt/);
  });

  it('an embedding model is UNSUPPORTED_FORMAT', async () => {
    const p = join(dir, 'bert.gguf');
    writeFileSync(p, ggufBytes({ 'general.architecture': 'bert', 'bert.pooling_type': 1 }));
    const e = await loadError(p);
    expect(e.code).toBe('UNSUPPORTED_FORMAT');
    expect(e.message).toMatch(/not a text-generating language model/);
  });

  it('a LoRA adapter is UNSUPPORTED_FORMAT', async () => {
    const p = join(dir, 'lora.gguf');
    writeFileSync(p, ggufBytes({ 'general.architecture': 'llama', 'general.type': 'adapter' }));
    expect((await loadError(p)).code).toBe('UNSUPPORTED_FORMAT');
  });

  it('bad settings are INVALID_CONFIG naming the field', async () => {
    let caught: unknown;
    try {
      await loadLocalChatModel({ settings: { modelPath: 'x.gguf', parallel: 0 } });
    } catch (e) {
      caught = e;
    }
    expect((caught as PromaxError).code).toBe('INVALID_CONFIG');
    expect((caught as PromaxError).field).toBe('parallel');
  });
});

describe('fileSha256', () => {
  it('matches a one-shot hash', async () => {
    const p = join(dir, 'bytes.bin');
    const data = Buffer.alloc(300_000, 7);
    data.write('promax', 1000);
    writeFileSync(p, data);
    expect(await fileSha256(p)).toBe(createHash('sha256').update(data).digest('hex'));
  });
});
