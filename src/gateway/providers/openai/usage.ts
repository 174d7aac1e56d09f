/**
 * Usage from an upstream's OpenAI-shaped `usage` object, or null when it is missing or malformed. prompt_tokens
 * includes the cached tokens and completion_tokens the reasoning tokens (OpenAI's rule), so the details are parts of
 * them, never added to them. Cache reads come as `prompt_tokens_details.cached_tokens` (OpenAI, xAI, vLLM,
 * OpenRouter), `prompt_cache_hit_tokens` (DeepSeek) or `cache_read_input_tokens` (Anthropic's name, as LiteLLM
 * passes it on); cache writes as `prompt_tokens_details.cache_write_tokens` (OpenAI) or `cache_creation_input_tokens`.
 * A part larger than its whole is clamped to it: a token is never priced twice.
 */
import type { Usage } from '../types.ts';

type Json = Record<string, unknown>;

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function objectAt(value: unknown, key: string): Json {
  const inner = typeof value === 'object' && value !== null ? (value as Json)[key] : undefined;
  return typeof inner === 'object' && inner !== null ? (inner as Json) : {};
}

/** The first of `values` that is a count, else 0. */
function firstCount(...values: unknown[]): number {
  for (const value of values) {
    const n = count(value);
    if (n !== null) return n;
  }
  return 0;
}

export function extractUsage(body: unknown): Usage | null {
  if (typeof body !== 'object' || body === null) return null;
  const usage = (body as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return null;
  const fields = usage as Json;
  const promptTokens = count(fields.prompt_tokens);
  const completionTokens = count(fields.completion_tokens) ?? 0;
  if (promptTokens === null) return null;
  const promptDetails = objectAt(fields, 'prompt_tokens_details');
  const completionDetails = objectAt(fields, 'completion_tokens_details');
  const cached = Math.min(
    promptTokens,
    firstCount(promptDetails.cached_tokens, fields.prompt_cache_hit_tokens, fields.cache_read_input_tokens),
  );
  const cacheWrite = Math.min(
    promptTokens - cached,
    firstCount(promptDetails.cache_write_tokens, fields.cache_creation_input_tokens),
  );
  const reasoning = Math.min(completionTokens, firstCount(completionDetails.reasoning_tokens));
  return {
    promptTokens,
    completionTokens,
    ...(cached > 0 ? { cachedPromptTokens: cached } : {}),
    ...(cacheWrite > 0 ? { cacheWritePromptTokens: cacheWrite } : {}),
    ...(reasoning > 0 ? { reasoningTokens: reasoning } : {}),
    estimated: false,
  };
}
