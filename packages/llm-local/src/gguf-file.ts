import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { PromaxError } from '@promax/core';

/** What the header of a GGUF file says about the model, read without loading it. */
export interface GgufSummary {
  path: string;
  bytes: number;
  architecture: string;
  /** `general.name` when present. */
  name?: string;
  /** Whether the file carries a chat template (`tokenizer.chat_template`). */
  hasChatTemplate: boolean;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian

/**
 * Architectures llama.cpp loads that are not text generators (encoders, projectors, vocoders):
 * they cannot answer a chat request, so they are refused up front with a named error.
 */
const NOT_LANGUAGE_MODELS = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'neo-bert',
  'modern-bert',
  't5encoder',
  'clip',
  'wavtokenizer-dec',
]);
const NOT_LANGUAGE_MODEL_TYPES = new Set(['adapter', 'mmproj', 'projector', 'vocoder', 'clip']);

/** sha256 of a file, streamed (the GGUF's identity in every store key). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Throws FILE_NOT_FOUND / INVALID_FILE with the fix when `path` is not a readable GGUF file;
 * returns the number of metadata entries the header declares.
 */
export async function checkGgufHeader(path: string): Promise<number> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      file: path,
      field: 'modelPath',
      message: 'the GGUF model file does not exist',
      fix: 'pass the path of a .gguf file (tools/fetch-gguf.sh downloads Gemma-3-270M into .cache/models/)',
    });
  }
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(24);
    const { bytesRead } = await fh.read(head, 0, 24, 0);
    if (bytesRead < 24 || head.readUInt32LE(0) !== GGUF_MAGIC) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        file: path,
        field: 'modelPath',
        message: 'the file is not a GGUF model (its first bytes are not "GGUF")',
        fix: 'pass a llama.cpp GGUF file; convert other formats with llama.cpp convert_hf_to_gguf.py',
      });
    }
    return Number(head.readBigUInt64LE(16));
  } finally {
    await fh.close();
  }
}

/** Metadata entries of a parsed (nested) GGUF metadata object: its leaves, arrays counted once. */
export function countMetadataEntries(metadata: unknown): number {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return 1;
  let n = 0;
  for (const v of Object.values(metadata)) n += countMetadataEntries(v);
  return n;
}

/**
 * Reads the GGUF header and refuses files that are not text-generating language models.
 * `readMetadata` is node-llama-cpp's `readGgufFileInfo` (injected so this stays testable alone).
 */
export function summarizeGguf(path: string, bytes: number, metadata: Record<string, unknown>): GgufSummary {
  const general = (metadata.general ?? {}) as Record<string, unknown>;
  const architecture = String(general.architecture ?? '');
  const type = general.type === undefined ? undefined : String(general.type);
  const archMeta = (metadata[architecture] ?? {}) as Record<string, unknown>;
  const pooling = Number(archMeta.pooling_type ?? 0);
  const encoderOnly =
    NOT_LANGUAGE_MODELS.has(architecture) || (type !== undefined && NOT_LANGUAGE_MODEL_TYPES.has(type));
  if (!architecture || encoderOnly || pooling > 0) {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      file: path,
      field: 'modelPath',
      message: `the GGUF is not a text-generating language model (architecture '${architecture || 'none'}'${type ? `, type '${type}'` : ''}${pooling > 0 ? ', it pools embeddings' : ''})`,
      fix: 'pass a chat or completion model GGUF (e.g. Gemma-3-270M, Qwen2.5-Instruct, Llama-3-Instruct); embedding models go to `promax embed`',
      details: { architecture, type },
    });
  }
  const tokenizer = (metadata.tokenizer ?? {}) as Record<string, unknown>;
  const summary: GgufSummary = {
    path,
    bytes,
    architecture,
    hasChatTemplate: typeof tokenizer.chat_template === 'string' && tokenizer.chat_template.length > 0,
  };
  if (typeof general.name === 'string') summary.name = general.name;
  return summary;
}
