import { describe, expect, it } from 'vitest';
import { earlyEndOf } from './meter.ts';

describe('who pays for a text request that ended early', () => {
  it("charges what reached the client once a token did, by the upstream's count when it gave one", () => {
    expect(earlyEndOf({ promptTokens: 12, completionTokens: 3, estimated: true }, null)).toEqual({
      charge: { kind: 'text', inputTokens: 12, outputTokens: 3 },
    });
    const billed = { promptTokens: 10, completionTokens: 4, reasoningTokens: 1, estimated: false };
    expect(earlyEndOf({ promptTokens: 12, completionTokens: 3, estimated: true }, billed)).toEqual({
      charge: { kind: 'text', inputTokens: 10, outputTokens: 3, reasoningTokens: 1 },
    });
  });

  it("before the first token: nothing charged; the upstream's billed usage is the operator's loss", () => {
    const billed = { promptTokens: 96, completionTokens: 3, cachedPromptTokens: 64, estimated: false };
    expect(earlyEndOf({ promptTokens: 12, completionTokens: 0, estimated: true }, billed)).toEqual({
      lose: { kind: 'text', inputTokens: 32, cacheReadTokens: 64, outputTokens: 3 },
    });
  });

  it('before the first token and with no billed usage: the prompt a started stream read, else nothing', () => {
    expect(earlyEndOf({ promptTokens: 9, completionTokens: 0, estimated: true }, null)).toEqual({
      lose: { kind: 'text', inputTokens: 9, outputTokens: 0 },
    });
    expect(earlyEndOf({ promptTokens: 0, completionTokens: 0, estimated: false }, null)).toEqual({ lose: null });
  });
});
