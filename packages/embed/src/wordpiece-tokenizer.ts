import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';

/** How text is normalised before splitting (BERT's "basic tokenizer"). */
export interface BertNormalization {
  /** Drop control characters and map every whitespace character to a space. */
  cleanText: boolean;
  /** Put spaces around CJK ideographs so each becomes its own word. */
  handleChineseChars: boolean;
  /** Remove combining marks after NFD decomposition ("café" → "cafe"). */
  stripAccents: boolean;
  lowercase: boolean;
}

export interface WordPieceConfig {
  /** Token → id. */
  vocab: ReadonlyMap<string, number>;
  normalization: BertNormalization;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  /** Total length including [CLS] and [SEP]; longer inputs are truncated. */
  maxLength: number;
}

/** One tokenised text: ids with [CLS] … [SEP], no padding. */
export interface Encoding {
  ids: number[];
  /** True when the text was longer than `maxLength` and got cut. */
  truncated: boolean;
}

/** A padded batch ready for an encoder: int64 [batch, seq] tensors in row-major order. */
export interface EncodedBatch {
  batch: number;
  seqLength: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** Real (non-padding) tokens per row. */
  lengths: number[];
}

const isChineseCodePoint = (cp: number): boolean =>
  (cp >= 0x4e00 && cp <= 0x9fff) ||
  (cp >= 0x3400 && cp <= 0x4dbf) ||
  (cp >= 0x20000 && cp <= 0x2a6df) ||
  (cp >= 0x2a700 && cp <= 0x2b73f) ||
  (cp >= 0x2b740 && cp <= 0x2b81f) ||
  (cp >= 0x2b820 && cp <= 0x2ceaf) ||
  (cp >= 0xf900 && cp <= 0xfaff) ||
  (cp >= 0x2f800 && cp <= 0x2fa1f);

const WHITESPACE = /^[\s\p{Zs}]$/u;
const CONTROL = /^\p{C}$/u;
const PUNCT = /^\p{P}$/u;
const COMBINING_MARKS = /\p{Mn}/gu;

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || WHITESPACE.test(ch);
}

function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return CONTROL.test(ch);
}

/** BERT counts all non-alphanumeric ASCII as punctuation, plus Unicode category P. */
function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0) as number;
  if (
    (cp >= 33 && cp <= 47) ||
    (cp >= 58 && cp <= 64) ||
    (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) {
    return true;
  }
  return PUNCT.test(ch);
}

/**
 * BERT WordPiece tokenizer (uncased/cased BERT, MiniLM, MPNet-style vocabularies), written from
 * the published algorithm: normalise, split on whitespace and punctuation, then greedy
 * longest-match-first sub-words with a `##` continuation prefix. Special-token strings inside
 * the input text are treated as ordinary text.
 */
export class WordPieceTokenizer {
  readonly config: WordPieceConfig;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;

  constructor(config: WordPieceConfig) {
    this.config = config;
    const id = (token: string, role: string): number => {
      const v = config.vocab.get(token);
      if (v === undefined) {
        throw new PromaxError({
          code: 'INVALID_FILE',
          message: `the vocabulary has no ${role} token '${token}'`,
          fix: 'use a BERT-style WordPiece vocabulary with [CLS], [SEP], [PAD] and [UNK]',
        });
      }
      return v;
    };
    this.clsId = id(config.clsToken, 'CLS');
    this.sepId = id(config.sepToken, 'SEP');
    this.padId = id(config.padToken, 'PAD');
    this.unkId = id(config.unkToken, 'UNK');
    if (!(Number.isInteger(config.maxLength) && config.maxLength >= 2)) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        message: `maxLength must be an integer ≥ 2, got ${config.maxLength}`,
        field: 'maxLength',
      });
    }
  }

  /** Normalised text (what the splitter sees). */
  normalize(text: string): string {
    const n = this.config.normalization;
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0) as number;
      if (n.cleanText) {
        if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
        if (isWhitespace(ch)) {
          out += ' ';
          continue;
        }
      }
      if (n.handleChineseChars && isChineseCodePoint(cp)) out += ` ${ch} `;
      else out += ch;
    }
    if (n.stripAccents) out = out.normalize('NFD').replace(COMBINING_MARKS, '');
    if (n.lowercase) out = out.toLowerCase();
    return out;
  }

  /** Words after whitespace and punctuation splitting. */
  preTokenize(normalized: string): string[] {
    const words: string[] = [];
    let current = '';
    for (const ch of normalized) {
      if (isWhitespace(ch)) {
        if (current) words.push(current);
        current = '';
      } else if (isPunctuation(ch)) {
        if (current) words.push(current);
        words.push(ch);
        current = '';
      } else {
        current += ch;
      }
    }
    if (current) words.push(current);
    return words;
  }

  /** Sub-word tokens of one word (greedy longest match); the unknown token when it cannot be split. */
  wordPiece(word: string): string[] {
    const chars = Array.from(word);
    const { vocab, continuingSubwordPrefix, maxInputCharsPerWord, unkToken } = this.config;
    if (chars.length > maxInputCharsPerWord) return [unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = continuingSubwordPrefix + sub;
        if (vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) return [unkToken];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  /** Tokens of a text without special tokens. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const word of this.preTokenize(this.normalize(text))) out.push(...this.wordPiece(word));
    return out;
  }

  /** Ids `[CLS] tokens… [SEP]`, truncated to `maxLength`. */
  encode(text: string): Encoding {
    const tokens = this.tokenize(text);
    const room = this.config.maxLength - 2;
    const truncated = tokens.length > room;
    const ids = [this.clsId];
    const n = Math.min(tokens.length, room);
    for (let i = 0; i < n; i++) ids.push(this.config.vocab.get(tokens[i] as string) ?? this.unkId);
    ids.push(this.sepId);
    return { ids, truncated };
  }

  /** Pads encodings to the longest in the batch (right padding, mask 0 on padding). */
  pad(encodings: readonly Encoding[]): EncodedBatch {
    const batch = encodings.length;
    let seqLength = 0;
    for (const e of encodings) seqLength = Math.max(seqLength, e.ids.length);
    const inputIds = new BigInt64Array(batch * seqLength).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(batch * seqLength);
    const lengths: number[] = [];
    for (let b = 0; b < batch; b++) {
      const ids = (encodings[b] as Encoding).ids;
      for (let t = 0; t < ids.length; t++) {
        inputIds[b * seqLength + t] = BigInt(ids[t] as number);
        attentionMask[b * seqLength + t] = 1n;
      }
      lengths.push(ids.length);
    }
    return {
      batch,
      seqLength,
      inputIds,
      attentionMask,
      tokenTypeIds: new BigInt64Array(batch * seqLength),
      lengths,
    };
  }
}

export interface LoadTokenizerOptions {
  /** Overrides the maximum sequence length found in the model folder. */
  maxLength?: number;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: `cannot read JSON: ${(cause as Error).message}`,
      file: path,
      cause,
    });
  }
}

function readOptionalJson(path: string): Record<string, unknown> | undefined {
  return existsSync(path) ? readJson(path) : undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The longest input the model folder supports, by precedence: an explicit override,
 * sentence-transformers' `max_seq_length`, `tokenizer.json` truncation, `tokenizer_config.json`
 * `model_max_length` (when sane), else 512; capped by `max_position_embeddings`.
 */
function resolveMaxLength(
  dir: string,
  tokenizerJson: Record<string, unknown> | undefined,
  override?: number,
): number {
  const st = readOptionalJson(join(dir, 'sentence_bert_config.json'));
  const tc = readOptionalJson(join(dir, 'tokenizer_config.json'));
  const cfg = readOptionalJson(join(dir, 'config.json'));
  const trunc = tokenizerJson?.truncation as Record<string, unknown> | null | undefined;
  const modelMax = num(tc?.model_max_length);
  let maxLength =
    override ??
    num(st?.max_seq_length) ??
    num(trunc?.max_length) ??
    (modelMax !== undefined && modelMax < 100_000 ? modelMax : undefined) ??
    512;
  const positions = num(cfg?.max_position_embeddings);
  if (positions !== undefined) maxLength = Math.min(maxLength, positions);
  return maxLength;
}

/**
 * Loads a WordPiece tokenizer from a model folder: `tokenizer.json` (Hugging Face tokenizers
 * format, model type WordPiece with a BertNormalizer) or else `vocab.txt` with
 * `tokenizer_config.json`. Reads local files only.
 */
export function loadWordPieceTokenizer(
  modelDir: string,
  options: LoadTokenizerOptions = {},
): WordPieceTokenizer {
  const tjPath = join(modelDir, 'tokenizer.json');
  const special = readOptionalJson(join(modelDir, 'special_tokens_map.json'));
  const tc = readOptionalJson(join(modelDir, 'tokenizer_config.json'));
  const specialName = (key: string, fallback: string): string => {
    const v = special?.[key] ?? tc?.[key];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
      return (v as { content: string }).content;
    }
    return fallback;
  };
  if (existsSync(tjPath)) {
    const tj = readJson(tjPath);
    const model = tj.model as Record<string, unknown> | undefined;
    if (model?.type !== 'WordPiece' || typeof model.vocab !== 'object' || model.vocab === null) {
      throw new PromaxError({
        code: 'UNSUPPORTED_FORMAT',
        message: `tokenizer model type '${String(model?.type)}' is not supported (only WordPiece)`,
        file: tjPath,
        fix: 'use a BERT-family sentence encoder (e.g. all-MiniLM-L6-v2) or provide vocab.txt',
      });
    }
    const vocab = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
    const norm = tj.normalizer as Record<string, unknown> | null | undefined;
    let normalization: BertNormalization;
    if (norm == null) {
      normalization = { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };
    } else if (norm.type === 'BertNormalizer') {
      const lowercase = norm.lowercase !== false;
      normalization = {
        cleanText: norm.clean_text !== false,
        handleChineseChars: norm.handle_chinese_chars !== false,
        // null means "follow lowercase", as in BERT's uncased models
        stripAccents: typeof norm.strip_accents === 'boolean' ? norm.strip_accents : lowercase,
        lowercase,
      };
    } else {
      throw new PromaxError({
        code: 'UNSUPPORTED_FORMAT',
        message: `tokenizer normalizer '${String(norm.type)}' is not supported (only BertNormalizer)`,
        file: tjPath,
      });
    }
    const pp = tj.post_processor as Record<string, unknown> | null | undefined;
    const tmplSpecial = (pp?.special_tokens ?? {}) as Record<string, unknown>;
    const has = (t: string): boolean => t in tmplSpecial || vocab.has(t);
    const padding = tj.padding as Record<string, unknown> | null | undefined;
    return new WordPieceTokenizer({
      vocab,
      normalization,
      unkToken: str(model.unk_token) ?? '[UNK]',
      clsToken: has(specialName('cls_token', '[CLS]')) ? specialName('cls_token', '[CLS]') : '[CLS]',
      sepToken: has(specialName('sep_token', '[SEP]')) ? specialName('sep_token', '[SEP]') : '[SEP]',
      padToken: str(padding?.pad_token) ?? specialName('pad_token', '[PAD]'),
      continuingSubwordPrefix: str(model.continuing_subword_prefix) ?? '##',
      maxInputCharsPerWord: num(model.max_input_chars_per_word) ?? 100,
      maxLength: resolveMaxLength(modelDir, tj, options.maxLength),
    });
  }
  const vocabPath = join(modelDir, 'vocab.txt');
  if (!existsSync(vocabPath)) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      message: `no tokenizer.json or vocab.txt in ${modelDir}`,
      file: modelDir,
      fix: 'point modelDir at a folder exported for local use (see tools/export-minilm-onnx.py)',
    });
  }
  const vocab = new Map<string, number>();
  readFileSync(vocabPath, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.length > 0 && !vocab.has(line)) vocab.set(line, i);
    });
  const lowercase = tc?.do_lower_case !== false;
  return new WordPieceTokenizer({
    vocab,
    normalization: {
      cleanText: true,
      handleChineseChars: tc?.tokenize_chinese_chars !== false,
      stripAccents: typeof tc?.strip_accents === 'boolean' ? tc.strip_accents : lowercase,
      lowercase,
    },
    unkToken: specialName('unk_token', '[UNK]'),
    clsToken: specialName('cls_token', '[CLS]'),
    sepToken: specialName('sep_token', '[SEP]'),
    padToken: specialName('pad_token', '[PAD]'),
    continuingSubwordPrefix: '##',
    maxInputCharsPerWord: 100,
    maxLength: resolveMaxLength(modelDir, undefined, options.maxLength),
  });
}
