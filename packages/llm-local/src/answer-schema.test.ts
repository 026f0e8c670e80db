import { PromaxError } from '@promax/core';
import { profileOutputSchema, rerankOutputSchema } from '@promax/profiles';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { grammarSchemaOf } from './answer-schema.js';

describe('grammarSchemaOf', () => {
  it('turns the profile answer schema into an ordered, closed object of strings', () => {
    expect(grammarSchemaOf(profileOutputSchema)).toEqual({
      type: 'object',
      properties: { summarization: { type: 'string', minLength: 1 }, reasoning: { type: 'string' } },
      required: ['summarization', 'reasoning'],
      additionalProperties: false,
    });
  });

  it('turns the re-rank answer schema into an array of string-or-number ids', () => {
    expect(grammarSchemaOf(rerankOutputSchema)).toEqual({
      type: 'object',
      properties: { ids: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'number' }] } } },
      required: ['ids'],
      additionalProperties: false,
    });
  });

  it('keeps length and count limits, enums and literals', () => {
    const s = z.object({
      a: z.string().min(3).max(9),
      b: z.array(z.boolean()).min(1).max(2),
      c: z.enum(['x', 'y']),
      d: z.literal('k'),
    });
    expect(grammarSchemaOf(s)).toMatchObject({
      properties: {
        a: { type: 'string', minLength: 3, maxLength: 9 },
        b: { type: 'array', items: { type: 'boolean' }, minItems: 1, maxItems: 2 },
        c: { enum: ['x', 'y'] },
        d: { const: 'k' },
      },
    });
  });

  it('refuses what a grammar cannot express with a named error', () => {
    let caught: unknown;
    try {
      grammarSchemaOf(z.object({ m: z.record(z.string(), z.string()) }));
    } catch (e) {
      caught = e;
    }
    expect(PromaxError.isInstance(caught)).toBe(true);
    expect((caught as PromaxError).field).toBe('responseSchema');
  });
});
