// Test fixtures (excluded from the build): a tiny WordPiece tokenizer and a tiny ONNX "encoder".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '@promax/tensor';

/** id = position in this list. */
export const TINY_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'hello',
  'world',
  'un',
  '##aff',
  '##able',
  'cafe',
  ',',
  '!',
  'the',
  'play',
  '##ing',
  '身',
  '体',
  'a',
  '##b',
];

export function writeTinyTokenizerJson(dir: string, extra: Record<string, unknown> = {}): void {
  const vocab = Object.fromEntries(TINY_VOCAB.map((t, i) => [t, i]));
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [2] }, '[SEP]': { id: '[SEP]', ids: [3] } },
      },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab,
      },
      ...extra,
    }),
  );
}

export const TINY_DIM = 3;

/**
 * Embedding-table row of token id v. The [PAD] row is huge so that pooling which forgot the
 * attention mask would be obvious.
 */
export function tinyRow(v: number): number[] {
  return v === 0 ? [1000, -1000, 1000] : [v, 1, (v % 3) - 1];
}

/**
 * Writes `model.onnx`: last_hidden_state[b, t, :] = table[input_ids[b, t], :] (a Gather),
 * with attention_mask and token_type_ids as (unused) int64 [batch, seq] inputs like a BERT export.
 */
export function writeTinyEncoder(dir: string, options: { withTokenTypes?: boolean } = {}): void {
  const withTokenTypes = options.withTokenTypes ?? true;
  const table = new Float32Array(TINY_VOCAB.length * TINY_DIM);
  for (let v = 0; v < TINY_VOCAB.length; v++) table.set(tinyRow(v), v * TINY_DIM);
  const inputs = [
    { name: 'input_ids', dtype: 'int64' as const, shape: ['batch', 'seq'] },
    { name: 'attention_mask', dtype: 'int64' as const, shape: ['batch', 'seq'] },
  ];
  if (withTokenTypes)
    inputs.push({ name: 'token_type_ids', dtype: 'int64' as const, shape: ['batch', 'seq'] });
  const bytes = encodeModel({
    graph: {
      name: 'tiny-encoder',
      inputs,
      outputs: [{ name: 'last_hidden_state', dtype: 'float32', shape: ['batch', 'seq', TINY_DIM] }],
      initializers: [{ name: 'table', dtype: 'float32', dims: [TINY_VOCAB.length, TINY_DIM], data: table }],
      nodes: [
        {
          op: 'Gather',
          inputs: ['table', 'input_ids'],
          outputs: ['last_hidden_state'],
          attributes: { axis: { type: 'int', value: 0 } },
        },
      ],
    },
    opset: 17,
  });
  writeFileSync(join(dir, 'model.onnx'), bytes);
}

/** Hand computation: mean of the table rows of the ids, then L2 normalisation. */
export function expectedTinyEmbedding(ids: readonly number[]): number[] {
  const sum = [0, 0, 0];
  for (const id of ids) {
    for (const [k, x] of tinyRow(id).entries()) sum[k] = (sum[k] as number) + x;
  }
  const mean = sum.map((s) => s / ids.length);
  const norm = Math.hypot(...mean);
  return mean.map((m) => m / norm);
}
