import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_VOCAB, writeTinyTokenizerJson } from './tiny-model.fixture.js';
import { loadWordPieceTokenizer } from './wordpiece-tokenizer.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'promax-tok-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('WordPieceTokenizer (tokenizer.json)', () => {
  const dir = tmp();
  writeTinyTokenizerJson(dir);
  const tok = loadWordPieceTokenizer(dir);

  it('lower-cases, strips accents, splits punctuation and sub-words (hand-computed ids)', () => {
    expect(tok.tokenize('Hello, WORLD! Unaffable café playing')).toEqual([
      'hello',
      ',',
      'world',
      '!',
      'un',
      '##aff',
      '##able',
      'cafe',
      'play',
      '##ing',
    ]);
    expect(tok.encode('Hello, WORLD! Unaffable café playing').ids).toEqual([
      2, 5, 11, 6, 12, 7, 8, 9, 10, 14, 15, 3,
    ]);
  });

  it('maps unknown words to [UNK] as a whole and cleans control characters and whitespace', () => {
    expect(tok.encode('hello xyz').ids).toEqual([2, 5, 1, 3]);
    // "abx": "a" + "##b" then "x" fails → whole word is [UNK]
    expect(tok.tokenize('ab abx')).toEqual(['a', '##b', '[UNK]']);
    expect(tok.tokenize('hello\u0000\tworld\u200b\n')).toEqual(['hello', 'world']);
  });

  it('splits CJK ideographs into single-character words', () => {
    expect(tok.tokenize('身体hello')).toEqual(['身', '体', 'hello']);
  });

  it('encodes the empty string as [CLS] [SEP]', () => {
    expect(tok.encode('').ids).toEqual([2, 3]);
  });

  it('truncates to maxLength including the special tokens', () => {
    const short = loadWordPieceTokenizer(dir, { maxLength: 5 });
    const e = short.encode('hello world hello world');
    expect(e.ids).toEqual([2, 5, 6, 5, 3]);
    expect(e.truncated).toBe(true);
    expect(short.encode('hello').truncated).toBe(false);
  });

  it('pads a batch to its longest row with a zero attention mask', () => {
    const b = tok.pad([tok.encode('hello'), tok.encode('hello world !')]);
    expect(b.seqLength).toBe(5);
    expect(Array.from(b.inputIds, Number)).toEqual([2, 5, 3, 0, 0, 2, 5, 6, 12, 3]);
    expect(Array.from(b.attentionMask, Number)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(b.tokenTypeIds, Number)).toEqual(new Array(10).fill(0));
    expect(b.lengths).toEqual([3, 5]);
  });

  it('keeps case and accents when the normalizer says so', () => {
    const d = tmp();
    writeTinyTokenizerJson(d, {
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: false,
        lowercase: false,
      },
    });
    const cased = loadWordPieceTokenizer(d);
    expect(cased.normalize('Café')).toBe('Café');
    expect(cased.tokenize('Hello hello')).toEqual(['[UNK]', 'hello']);
  });

  it('reads the max length from sentence_bert_config.json', () => {
    const d = tmp();
    writeTinyTokenizerJson(d, { truncation: { max_length: 128 } });
    expect(loadWordPieceTokenizer(d).config.maxLength).toBe(128);
    writeFileSync(join(d, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 7 }));
    expect(loadWordPieceTokenizer(d).config.maxLength).toBe(7);
  });

  it('rejects non-WordPiece tokenizers with a readable error', () => {
    const d = tmp();
    writeFileSync(join(d, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: {} } }));
    try {
      loadWordPieceTokenizer(d);
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('UNSUPPORTED_FORMAT');
    }
  });
});

describe('WordPieceTokenizer (vocab.txt)', () => {
  it('loads vocab.txt + tokenizer_config.json when tokenizer.json is absent', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'vocab.txt'), `${TINY_VOCAB.join('\n')}\n`);
    writeFileSync(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ do_lower_case: true, model_max_length: 512 }),
    );
    const tok = loadWordPieceTokenizer(dir);
    expect(tok.encode('Hello, WORLD! Unaffable café playing').ids).toEqual([
      2, 5, 11, 6, 12, 7, 8, 9, 10, 14, 15, 3,
    ]);
    expect(tok.config.maxLength).toBe(512);
  });

  it('says what is missing when the folder has no tokenizer', () => {
    expect(() => loadWordPieceTokenizer(tmp())).toThrow(/no tokenizer.json or vocab.txt/);
  });
});
