/**
 * Request fields shared by the text kinds (chat, completions), checked with zod. Top-level objects are strict: an
 * unknown or misspelt parameter is a 400 naming it. Fields only Venice defines are accepted and dropped (see
 * `veniceSampling`), so Venice's clients work unchanged.
 */
import { z } from 'zod';
import { modelId } from '../../validate/schemas.ts';

export const finite = z.number();
const penalty = finite.min(-2).max(2).nullable().optional();

const stop = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(4)])
  .nullable()
  .optional();
export const maxTokens = z.int().min(1, 'must be at least 1').max(1_000_000).nullable().optional();
const streamOptions = z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional();

/**
 * Sampling fields Venice's API reference documents (docs.venice.ai) that OpenAI does not. They are checked for shape,
 * then dropped before the request goes upstream (validate.ts): an OpenAI-compatible upstream may refuse them, and
 * none of them changes what a request may cost.
 */
export const veniceSampling = {
  top_k: z.int().min(0).nullable().optional(),
  min_p: finite.min(0).max(1).nullable().optional(),
  min_temp: finite.min(0).max(2).nullable().optional(),
  max_temp: finite.min(0).max(2).nullable().optional(),
  repetition_penalty: finite.min(0).nullable().optional(),
  stop_token_ids: z.array(z.int().min(0)).max(256).nullable().optional(),
};

export const sampling = {
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

export function streamOptionsNeedStream(body: { stream?: boolean | null; stream_options?: unknown }): boolean {
  return body.stream_options == null || body.stream === true;
}
export const streamOptionsIssue = { message: 'is only allowed when stream is true', path: ['stream_options'] };
