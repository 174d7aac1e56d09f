import { describe, expect, it } from 'vitest';
import { usageBreakdownOf } from './usageBreakdown.ts';

describe('usageBreakdownOf', () => {
  it('sums each SKU into its field, tiers included', () => {
    expect(
      usageBreakdownOf([
        { sku: 'text.input.long', units: 10 },
        { sku: 'text.cache_read.long', units: 4 },
        { sku: 'text.cache_write', units: 1 },
        { sku: 'text.output', units: 7 },
        { sku: 'text.reasoning', units: 3 },
        { sku: 'image.1024x1024:hd', units: 2 },
      ]),
    ).toEqual({ inputTokens: 11, cachedInputTokens: 4, outputTokens: 7, reasoningTokens: 3, images: 2, characters: 0 });
  });

  it('refuses a SKU it does not know', () => {
    expect(() => usageBreakdownOf([{ sku: 'text.bogus', units: 1 }])).toThrow(/unknown SKU/);
  });
});
