import { PromaxError } from '@promax/core';
import type { GbnfJsonSchema } from 'node-llama-cpp';
import { z } from 'zod';

type Json = Record<string, unknown>;

const KEEP_STRING = ['minLength', 'maxLength', 'description'] as const;
const KEEP_ARRAY = ['minItems', 'maxItems', 'description'] as const;

function unsupported(what: string): never {
  throw new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: 'responseSchema',
    message: `the answer schema uses ${what}, which JSON-schema grammars of node-llama-cpp cannot express`,
    fix: 'use objects, arrays, strings, numbers, booleans, enums, literals and unions of them',
  });
}

function convert(node: Json): Json {
  if (Array.isArray(node.anyOf) || Array.isArray(node.oneOf)) {
    const options = (node.anyOf ?? node.oneOf) as Json[];
    return { oneOf: options.map(convert) };
  }
  if ('const' in node) return { const: node.const };
  if (Array.isArray(node.enum)) return { enum: node.enum };
  const type = node.type;
  if (Array.isArray(type)) return { oneOf: type.map((t) => convert({ ...node, type: t })) };
  switch (type) {
    case 'string': {
      const out: Json = { type: 'string' };
      for (const k of KEEP_STRING) if (node[k] !== undefined) out[k] = node[k];
      return out;
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type };
    case 'array': {
      const out: Json = { type: 'array' };
      if (node.items && typeof node.items === 'object') out.items = convert(node.items as Json);
      for (const k of KEEP_ARRAY) if (node[k] !== undefined) out[k] = node[k];
      return out;
    }
    case 'object': {
      if (typeof node.additionalProperties === 'object' || node.propertyNames !== undefined)
        return unsupported('a record (an object with free keys)');
      const props = (node.properties ?? {}) as Record<string, Json>;
      const properties: Json = {};
      for (const [k, v] of Object.entries(props)) properties[k] = convert(v);
      // The grammar writes every listed property, in order, and nothing else: the model cannot
      // skip a required field or add chatter keys.
      return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
    }
    default:
      return unsupported(type === undefined ? 'a node without a type' : `type '${String(type)}'`);
  }
}

/**
 * The JSON schema a grammar-constrained generation follows, derived from the zod schema the
 * answer is validated with (so a constrained answer always parses).
 */
export function grammarSchemaOf(schema: z.ZodType): GbnfJsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Json;
  return convert(json) as GbnfJsonSchema;
}

/**
 * The grammar schema of profile answers for local models: the profile schema with a
 * non-trivial summarization, so a small model cannot answer with the placeholder of the prompt's
 * example ("..."), capped a little above `LOCAL_PROFILE_PROMPT_DEFAULTS`' word budget (≈ 6
 * characters a word) so a looping model stops, and an empty reasoning: the embeddings read the
 * summarization only, the reasoning is written after it (so it cannot improve it), and on a CPU it
 * would cost as many forward passes as the summarization itself. Every answer it admits also
 * passes `profileOutputSchema`.
 */
export const localProfileAnswerSchema = z.object({
  summarization: z.string().min(12).max(420),
  reasoning: z.literal(''),
});

/**
 * Profile prompt budgets for in-process models (applied beneath the user's own `prompt.*`
 * settings). Every generated token costs a forward pass on the CPU and Gemma-3-270M on 2 cores
 * decodes ≈ 30–40 tokens/s over all parallel sequences, so the defaults of remote models (200-word
 * item summaries, 200-word reasoning, 30 history entries) would cap throughput at a few profiles a
 * minute; small models also drift and repeat in long answers. Larger models can take larger
 * budgets (`--set prompt.itemSummaryWords=200`). The embeddings read the summarization only.
 */
export const LOCAL_PROFILE_PROMPT_DEFAULTS = {
  itemSummaryWords: 40,
  userSummaryWords: 50,
  maxHistoryItems: 20,
  maxItemProfileChars: 160,
} as const;
