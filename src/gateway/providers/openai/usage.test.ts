import { describe, expect, it } from 'vitest';
import { textUsage } from '../../metering/meter.ts';
import { toOpenAiUsage } from '../types.ts';
import { extractUsage } from './usage.ts';

describe('upstream usage', () => {
  it("reads OpenAI's cached and reasoning parts, which prompt_tokens and completion_tokens include", () => {
    const usage = extractUsage({
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 256 },
      },
    });
    expect(usage).toEqual({
      promptTokens: 2006,
      completionTokens: 300,
      cachedPromptTokens: 1920,
      reasoningTokens: 256,
      estimated: false,
    });
    // Priced once each: 86 input + 1920 cache read, 44 output + 256 reasoning.
    expect(textUsage(usage!)).toEqual({
      kind: 'text',
      inputTokens: 86,
      cacheReadTokens: 1920,
      outputTokens: 44,
      reasoningTokens: 256,
    });
    expect(toOpenAiUsage(usage!)).toEqual({
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920 },
      completion_tokens_details: { reasoning_tokens: 256 },
    });
  });

  it("reads DeepSeek's and Anthropic-named cache fields, and OpenAI's cache writes", () => {
    const deepseek = extractUsage({
      usage: { prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 },
    });
    expect(deepseek).toMatchObject({ promptTokens: 100, cachedPromptTokens: 64 });
    const named = extractUsage({
      usage: { prompt_tokens: 100, completion_tokens: 5, cache_read_input_tokens: 30, cache_creation_input_tokens: 50 },
    });
    expect(textUsage(named!)).toEqual({
      kind: 'text',
      inputTokens: 20,
      cacheReadTokens: 30,
      cacheWriteTokens: 50,
      outputTokens: 5,
    });
    const writes = extractUsage({
      usage: {
        prompt_tokens: 2600,
        completion_tokens: 1,
        prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 400 },
      },
    });
    expect(writes).toMatchObject({ cachedPromptTokens: 2000, cacheWritePromptTokens: 400 });
  });

  it('clamps a part larger than its whole, so that no token is priced twice', () => {
    const usage = extractUsage({
      usage: {
        prompt_tokens: 10,
        completion_tokens: 4,
        prompt_tokens_details: { cached_tokens: 12, cache_write_tokens: 3 },
        completion_tokens_details: { reasoning_tokens: 9 },
      },
    });
    expect(textUsage(usage!)).toEqual({
      kind: 'text',
      inputTokens: 0,
      cacheReadTokens: 10,
      outputTokens: 0,
      reasoningTokens: 4,
    });
    expect(extractUsage({ usage: { completion_tokens: 1 } })).toBeNull();
    expect(extractUsage({ usage: { prompt_tokens: 1, prompt_tokens_details: { cached_tokens: -1 } } })).toEqual({
      promptTokens: 1,
      completionTokens: 0,
      estimated: false,
    });
  });
});
