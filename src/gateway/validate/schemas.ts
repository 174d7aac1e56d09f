/**
 * Request schemas for the OpenAI routes (zod). Top-level objects are strict: an unknown or misspelt parameter is a
 * 400 naming it, rather than being silently ignored. Fields perdiem does not interpret but OpenAI defines (tools,
 * response_format, …) are accepted and forwarded. Fields only Venice defines are accepted and dropped (see
 * `veniceOnlyFields`), so Venice's clients work unchanged.
 */
import { z } from 'zod';
import { gatewayLimits } from '../limits.ts';

const modelId = z.string().min(1, 'must name a model').max(256);
const finite = z.number();
const penalty = finite.min(-2).max(2).nullable().optional();

const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const otherPart = z.looseObject({ type: z.enum(['image_url', 'input_audio', 'file', 'refusal']) });
const contentPart = z.union([textPart, otherPart]);

const message = z
  .looseObject({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(contentPart).max(256), z.null()]).optional(),
    name: z.string().min(1).max(256).optional(),
    tool_calls: z.array(z.looseObject({ id: z.string(), type: z.string() })).optional(),
    tool_call_id: z.string().optional(),
  })
  .refine((m) => m.role === 'assistant' || (m.content !== undefined && m.content !== null), {
    message: 'is required for this role',
    path: ['content'],
  });

const stop = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(4)])
  .nullable()
  .optional();
const maxTokens = z.int().min(1, 'must be at least 1').max(1_000_000).nullable().optional();
const streamOptions = z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional();

/**
 * Request fields Venice's API reference documents (docs.venice.ai: chat/completions, images/generations) that OpenAI
 * does not. They are checked for shape, then dropped before the request goes upstream (validate.ts): an
 * OpenAI-compatible upstream may refuse them, and none of them changes what a request may cost.
 */
const veniceSampling = {
  top_k: z.int().min(0).nullable().optional(),
  min_p: finite.min(0).max(1).nullable().optional(),
  min_temp: finite.min(0).max(2).nullable().optional(),
  max_temp: finite.min(0).max(2).nullable().optional(),
  repetition_penalty: finite.min(0).nullable().optional(),
  stop_token_ids: z.array(z.int().min(0)).max(256).nullable().optional(),
};
/** Venice's own switches (web search, characters, thinking, its system prompt): none applies to perdiem's models. */
const veniceParameters = { venice_parameters: z.looseObject({}).nullable().optional() };
const veniceImage = {
  background: z.enum(['transparent', 'opaque', 'auto']).nullable().optional(),
  moderation: z.enum(['low', 'auto']).nullable().optional(),
  output_compression: z.int().min(0).max(100).nullable().optional(),
  output_format: z.enum(['jpeg', 'png', 'webp']).nullable().optional(),
};

/** Every Venice-only field any route accepts; validate drops them from the parsed body. */
export const veniceOnlyFields: readonly string[] = Object.keys({
  ...veniceSampling,
  ...veniceParameters,
  ...veniceImage,
});

const sampling = {
  ...veniceSampling,
  model: modelId,
  max_tokens: maxTokens,
  temperature: finite.min(0).max(2).nullable().optional(),
  top_p: finite.gt(0).max(1).nullable().optional(),
  n: z.literal(1, 'must be 1: only n = 1 is supported').nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptions,
  stop,
  presence_penalty: penalty,
  frequency_penalty: penalty,
  logit_bias: z.record(z.string().regex(/^\d+$/), finite.min(-100).max(100)).nullable().optional(),
  seed: z.int().nullable().optional(),
  user: z.string().max(256).optional(),
};

function streamOptionsNeedStream(body: { stream?: boolean | null; stream_options?: unknown }): boolean {
  return body.stream_options == null || body.stream === true;
}
const streamOptionsIssue = { message: 'is only allowed when stream is true', path: ['stream_options'] };

export const chatCompletionSchema = z
  .strictObject({
    ...sampling,
    messages: z.array(message).min(1, 'must hold at least one message').max(gatewayLimits.messagesMax),
    max_completion_tokens: maxTokens,
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.int().min(0).max(20).nullable().optional(),
    tools: z.array(z.looseObject({ type: z.string() })).optional(),
    tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]).optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    store: z.boolean().nullable().optional(),
    reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).nullable().optional(),
    service_tier: z.string().nullable().optional(),
    ...veniceParameters,
  })
  .refine(streamOptionsNeedStream, streamOptionsIssue);

const promptText = z.string().max(gatewayLimits.requestBodyBytesMax);

export const completionSchema = z
  .strictObject({
    ...sampling,
    prompt: z.union([promptText, z.array(promptText).min(1, 'must hold at least one prompt').max(1)]),
    echo: z.literal(false, 'must be false: echo is not supported').nullable().optional(),
    best_of: z.literal(1, 'must be 1: only best_of = 1 is supported').nullable().optional(),
    logprobs: z.null().optional(),
    suffix: z.null().optional(),
  })
  .refine(streamOptionsNeedStream, streamOptionsIssue);

const embeddingText = z.string().min(1, 'must not be empty').max(gatewayLimits.requestBodyBytesMax);

export const embeddingSchema = z.strictObject({
  model: modelId,
  input: z.union([embeddingText, z.array(embeddingText).min(1).max(gatewayLimits.inputsMax)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.int().min(1).optional(),
  user: z.string().max(256).optional(),
});

export const imageGenerationSchema = z.strictObject({
  model: modelId,
  prompt: z.string().min(1).max(32_000),
  n: z.int().min(1).max(10).nullable().optional(),
  size: z
    .string()
    .regex(/^\d{2,5}x\d{2,5}$|^auto$/, 'must be WIDTHxHEIGHT')
    .nullable()
    .optional(),
  quality: z.enum(['standard', 'hd', 'low', 'medium', 'high', 'auto']).nullable().optional(),
  response_format: z.enum(['url', 'b64_json']).nullable().optional(),
  style: z.enum(['vivid', 'natural']).nullable().optional(),
  user: z.string().max(256).optional(),
  ...veniceImage,
});

export type ChatCompletionBody = z.infer<typeof chatCompletionSchema>;
export type CompletionBody = z.infer<typeof completionSchema>;
export type EmbeddingBody = z.infer<typeof embeddingSchema>;
export type ImageGenerationBody = z.infer<typeof imageGenerationSchema>;

/** A USD or DIEM amount as a decimal string or a JSON number (converted exactly through its decimal text). */
const amount = z.union([z.string().regex(/^\d+(\.\d{1,9})?$/, 'must be a decimal with at most 9 places'), z.number()]);

const limitPeriod = z.enum(['EPOCH', 'MONTH', 'LIFETIME']);

/** USD covers credits and the USD balance, DIEM the allowance (Venice's rule); TOTAL (perdiem's) covers every source. */
const keyLimit = z.strictObject({
  currency: z.enum(['USD', 'DIEM', 'TOTAL']),
  period: limitPeriod,
  amount,
});

const perMinute = z.int().min(1).max(1_000_000_000).nullable().optional();

const keyFields = {
  description: z.string().min(1).max(256),
  expiresAt: z.union([z.iso.datetime({ offset: true }), z.literal(''), z.null()]).optional(),
  /** Venice's shape: USD and DIEM limits over the window `limitPeriod` names. */
  /** Venice's limits: `usd` covers credits and USD, `diem` the DIEM allowance; `vcu` is Venice's legacy name for diem. */
  consumptionLimit: z
    .strictObject({
      usd: amount.nullable().optional(),
      diem: amount.nullable().optional(),
      vcu: amount.nullable().optional(),
    })
    .optional(),
  /** Venice's: the window `consumptionLimit` applies to (default EPOCH). */
  limitPeriod: limitPeriod.optional(),
  /** perdiem's limits: currency DIEM, USD or TOTAL (every source), each over its own period. */
  limits: z.array(keyLimit).max(9).optional(),
  /** Per-key overrides of the operator's rate limits; null (or an absent field) keeps the default. */
  rateLimits: z.strictObject({ requestsPerMinute: perMinute, tokensPerMinute: perMinute }).nullable().optional(),
  allowedModels: z.array(modelId).max(256).nullable().optional(),
};

export const createKeySchema = z.strictObject({
  apiKeyType: z.enum(['INFERENCE', 'ADMIN']),
  ...keyFields,
});

export const updateKeySchema = z.strictObject({
  id: z.string().min(1),
  ...keyFields,
  description: keyFields.description.optional(),
});

export type CreateKeyBody = z.infer<typeof createKeySchema>;
export type UpdateKeyBody = z.infer<typeof updateKeySchema>;
