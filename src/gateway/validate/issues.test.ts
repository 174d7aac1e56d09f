import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { InvalidRequestError } from '../../core/errors.ts';
import { priceSheetJsonSchema } from '../admin/priceSheetJson.ts';
import { chatCompletionSchema } from '../kinds/chat/chatKind.ts';
import { completionSchema } from '../kinds/completions/completionsKind.ts';
import { embeddingSchema } from '../kinds/embeddings/embeddingsKind.ts';
import { imageGenerationSchema } from '../kinds/images/imagesKind.ts';
import { parseWith } from './body.ts';
import { describeValue, paramOf } from './issues.ts';
import { createKeySchema, updateKeySchema } from './schemas.ts';

const chat = (extra: Record<string, unknown>) => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

function refusal(schema: z.ZodType, body: unknown): { message: string; code: string; param: string | null } {
  try {
    parseWith(schema, body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    const { message, code, param } = error as InvalidRequestError;
    return { message, code, param };
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('parseWith: a wrong type says what was expected and what came, never that the field is missing', () => {
  it.each([
    [{ max_tokens: 3.7 }, 'max_tokens', 'max_tokens must be an integer, got a number (3.7)'],
    [{ max_tokens: '10' }, 'max_tokens', 'max_tokens must be an integer, got a string ("10")'],
    [{ temperature: 'hot' }, 'temperature', 'temperature must be a number, got a string ("hot")'],
    [{ stream: 'yes' }, 'stream', 'stream must be a boolean, got a string ("yes")'],
    [{ model: 42 }, 'model', 'model must be a string, got a number (42)'],
    [{ seed: 1.5 }, 'seed', 'seed must be an integer, got a number (1.5)'],
    [{ tools: 'x' }, 'tools', 'tools must be an array, got a string ("x")'],
    [{ stop: 5 }, 'stop', 'stop must be a string or an array, got a number (5)'],
    [{ messages: 'hi' }, 'messages', 'messages must be an array, got a string ("hi")'],
    [
      { messages: [{ role: 'user', content: 5 }] },
      'messages[0].content',
      'messages[0].content must be a string, an array or null, got a number (5)',
    ],
    [{ stream: null, logprobs: 'no' }, 'logprobs', 'logprobs must be a boolean, got a string ("no")'],
  ])('%j → %s', (extra, param, message) => {
    expect(refusal(chatCompletionSchema, chat(extra))).toEqual({ code: 'invalid_type', param, message });
  });

  it('says a field that is absent is required, at its path', () => {
    const { model: _model, ...noModel } = chat({});
    expect(refusal(chatCompletionSchema, noModel)).toEqual({
      code: 'missing_required_parameter',
      param: 'model',
      message: 'model is required',
    });
    expect(refusal(chatCompletionSchema, chat({ messages: [{ content: 'x' }] }))).toMatchObject({
      code: 'missing_required_parameter',
      param: 'messages[0].role',
    });
    expect(refusal(chatCompletionSchema, chat({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }))).toEqual({
      code: 'missing_required_parameter',
      param: 'messages[0].content[0].text',
      message: 'messages[0].content[0].text is required',
    });
    expect(refusal(embeddingSchema, { model: 'm' })).toMatchObject({ param: 'input', message: 'input is required' });
  });

  it('names the allowed values and the bounds, with the value that broke them', () => {
    expect(refusal(chatCompletionSchema, chat({ temperature: 3 })).message).toBe(
      'temperature must be at most 2, got a number (3)',
    );
    expect(refusal(chatCompletionSchema, chat({ top_p: 0 })).message).toBe(
      'top_p must be greater than 0, got a number (0)',
    );
    // The schema's bound (1,000,000) speaks, not z.int()'s safe-integer range.
    expect(refusal(chatCompletionSchema, chat({ max_tokens: 1e300 })).message).toBe(
      'max_tokens must be at most 1000000, got a number (1e+300)',
    );
    expect(refusal(chatCompletionSchema, chat({ messages: [{ role: 'wizard', content: 'x' }] }))).toEqual({
      code: 'invalid_value',
      param: 'messages[0].role',
      message:
        'messages[0].role must be one of "system", "developer", "user", "assistant", "tool", got a string ("wizard")',
    });
    expect(
      refusal(chatCompletionSchema, chat({ messages: [{ role: 'user', content: [{ type: 'video' }] }] })).message,
    ).toBe(
      'messages[0].content[0].type must be one of "text", "image_url", "input_audio", "file", "refusal", got a string ("video")',
    );
    expect(refusal(chatCompletionSchema, chat({ user: 'u'.repeat(300) })).message).toBe(
      'user must be at most 256 characters long',
    );
    expect(refusal(chatCompletionSchema, chat({ logit_bias: { abc: 1 } }))).toMatchObject({
      param: 'logit_bias',
      message: expect.stringContaining('invalid key "abc"'),
    });
    expect(refusal(completionSchema, { model: 'm', prompt: 'x', echo: true }).message).toBe(
      'echo must be false: echo is not supported',
    );
    expect(refusal(embeddingSchema, { model: 'm', input: [1, 2] })).toEqual({
      code: 'invalid_type',
      param: 'input[0]',
      message: 'input[0] must be a string, got a number (1)',
    });
    expect(refusal(imageGenerationSchema, { model: 'm', prompt: 'x', size: 'big' }).message).toBe(
      'size must be WIDTHxHEIGHT',
    );
  });

  it('reads the same on the api_keys and admin bodies', () => {
    expect(refusal(createKeySchema, { apiKeyType: 'INFERENCE', description: 5 })).toEqual({
      code: 'invalid_type',
      param: 'description',
      message: 'description must be a string, got a number (5)',
    });
    expect(refusal(updateKeySchema, { id: 'k', limitPeriod: 'WEEK' })).toMatchObject({
      param: 'limitPeriod',
      message: 'limitPeriod must be one of "EPOCH", "MONTH", "LIFETIME", got a string ("WEEK")',
    });
    expect(
      refusal(createKeySchema, { apiKeyType: 'INFERENCE', description: 'x', rateLimits: { requestsPerMinute: 2.5 } }),
    ).toMatchObject({ code: 'invalid_type', param: 'rateLimits.requestsPerMinute' });
    expect(
      refusal(priceSheetJsonSchema, { effectiveFrom: '2026-01-01T00:00:00Z', models: { a: { kind: 'zz' } } }),
    ).toMatchObject({ param: 'models.a.kind', message: expect.stringContaining('"text", "embedding"') });
    expect(refusal(priceSheetJsonSchema, { effectiveFrom: 'yesterday', models: {} }).message).toContain(
      'effectiveFrom must be an ISO 8601 date-time',
    );
  });

  it('names an unknown field, nested ones by their path', () => {
    expect(refusal(chatCompletionSchema, chat({ max_token: 5 }))).toEqual({
      code: 'unknown_parameter',
      param: 'max_token',
      message: 'unrecognized request argument supplied: max_token',
    });
    expect(
      refusal(createKeySchema, { apiKeyType: 'INFERENCE', description: 'x', consumptionLimit: { eur: 1 } }),
    ).toMatchObject({ param: 'consumptionLimit.eur' });
  });

  it('quotes long strings only in part', () => {
    expect(describeValue('x'.repeat(500))).toBe(`a string ("${'x'.repeat(40)}…")`);
    expect(describeValue([1])).toBe('an array');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(null)).toBe('null');
    expect(paramOf(['messages', 0, 'content'])).toBe('messages[0].content');
    expect(paramOf([])).toBeNull();
  });
});

describe('Venice fields', () => {
  it('accepts the fields Venice documents for chat, completions and images', () => {
    const venice = {
      venice_parameters: { include_venice_system_prompt: false, enable_web_search: 'auto', character_slug: 'x' },
      top_k: 40,
      min_p: 0.05,
      min_temp: 0.1,
      max_temp: 1.5,
      repetition_penalty: 1.2,
      stop_token_ids: [151643, 151645],
    };
    expect(chatCompletionSchema.safeParse(chat(venice)).success).toBe(true);
    const { venice_parameters: _chatOnly, ...sampling } = venice;
    expect(completionSchema.safeParse({ model: 'm', prompt: 'x', ...sampling }).success).toBe(true);
    const image = { background: 'auto', moderation: 'low', output_compression: 100, output_format: 'webp' };
    expect(imageGenerationSchema.safeParse({ model: 'm', prompt: 'x', ...image }).success).toBe(true);
    expect(embeddingSchema.safeParse({ model: 'm', input: 'x', dimensions: 8, encoding_format: 'float' }).success).toBe(
      true,
    );
  });

  it('checks their types like any other field', () => {
    expect(refusal(chatCompletionSchema, chat({ venice_parameters: 'on' }))).toMatchObject({
      code: 'invalid_type',
      param: 'venice_parameters',
    });
    expect(refusal(chatCompletionSchema, chat({ top_k: 1.5 })).message).toBe(
      'top_k must be an integer, got a number (1.5)',
    );
  });

  it("accepts Venice's key shape: limitPeriod, and perdiem's TOTAL limits and per-key rate limits", () => {
    for (const limitPeriod of ['EPOCH', 'MONTH', 'LIFETIME']) {
      const body = { apiKeyType: 'INFERENCE', description: 'x', consumptionLimit: { usd: 1, diem: '2' }, limitPeriod };
      expect(createKeySchema.safeParse(body).success).toBe(true);
      expect(updateKeySchema.safeParse({ id: 'k', limitPeriod }).success).toBe(true);
    }
    const extension = {
      apiKeyType: 'INFERENCE',
      description: 'x',
      limits: [{ currency: 'TOTAL', period: 'MONTH', amount: '5' }],
      rateLimits: { requestsPerMinute: 10, tokensPerMinute: null },
    };
    expect(createKeySchema.safeParse(extension).success).toBe(true);
    expect(updateKeySchema.safeParse({ id: 'k', rateLimits: null }).success).toBe(true);
    expect(refusal(updateKeySchema, { id: 'k', rateLimits: { requestsPerMinute: 0 } }).param).toBe(
      'rateLimits.requestsPerMinute',
    );
    expect(refusal(updateKeySchema, { id: 'k', rateLimits: { burst: 1 } }).param).toBe('rateLimits.burst');
  });
});
