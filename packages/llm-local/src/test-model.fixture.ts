import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_GGUF_NAME = 'gemma-3-270m-q4_k_m.gguf';

/**
 * The Gemma-3-270M GGUF for real-model tests: $PROMAX_MODELS_DIR, else .cache/models at the
 * repository root (where tools/fetch-gguf.sh puts it). `reason` says why it is absent.
 */
export function locateTestGguf(): { path?: string; reason: string } {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const dir = process.env.PROMAX_MODELS_DIR ?? join(root, '.cache/models');
  const path = join(dir, TEST_GGUF_NAME);
  return existsSync(path)
    ? { path, reason: '' }
    : { reason: `${path} is absent (run tools/fetch-gguf.sh, or set PROMAX_MODELS_DIR)` };
}

type GgufValue = string | number;

/** A minimal GGUF v3 file with the given metadata and no tensors (bad-input tests). */
export function ggufBytes(metadata: Record<string, GgufValue>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    parts.push(b);
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    u64(b.length);
    parts.push(b);
  };
  parts.push(Buffer.from('GGUF', 'ascii'));
  u32(3);
  u64(0);
  u64(Object.keys(metadata).length);
  for (const [k, v] of Object.entries(metadata)) {
    str(k);
    if (typeof v === 'string') {
      u32(8);
      str(v);
    } else {
      u32(4);
      u32(v);
    }
  }
  // Real files pad the header to the 32-byte data alignment.
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.alloc((32 - (body.length % 32)) % 32)]);
}
