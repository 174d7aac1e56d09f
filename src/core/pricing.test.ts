import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addPriceSheet,
  costOf,
  emptyPriceBook,
  type ImagePrice,
  maxOutputTokensWithin,
  maxTextCost,
  modelPriceAt,
  type TextPrice,
} from './pricing.ts';

const text: TextPrice = {
  kind: 'text',
  inputPer1M: 150_000_000n, // $0.15
  outputPer1M: 600_000_000n, // $0.60
  cacheReadPer1M: 75_000_000n,
  longContext: { thresholdTokens: 128_000, inputPer1M: 300_000_000n, outputPer1M: 1_200_000_000n },
};

describe('pricing', () => {
  it('prices text per 1M tokens, one line per SKU, rounding each line up', () => {
    const cost = costOf(text, { kind: 'text', inputTokens: 1000, outputTokens: 1, cacheReadTokens: 10 });
    expect(cost.lines.map((l) => [l.sku, l.amountNano])).toEqual([
      ['text.input', 150_000n],
      ['text.output', 600n],
      ['text.cache_read', 750n],
    ]);
    expect(cost.totalNano).toBe(151_350n);
    expect(costOf(text, { kind: 'text', inputTokens: 1, outputTokens: 0 }).totalNano).toBe(150n);
    expect(costOf({ ...text, inputPer1M: 1n }, { kind: 'text', inputTokens: 1, outputTokens: 0 }).totalNano).toBe(1n);
  });

  it('switches every token to the long-context tier above the threshold', () => {
    const cost = costOf(text, { kind: 'text', inputTokens: 128_001, outputTokens: 1000 });
    expect(cost.lines.map((l) => l.sku)).toEqual(['text.input.long', 'text.output.long']);
    expect(cost.totalNano).toBe(mulUp(128_001n, 300_000_000n) + 1_200_000n);
    expect(costOf(text, { kind: 'text', inputTokens: 128_000, outputTokens: 0 }).lines[0]!.sku).toBe('text.input');
  });

  it('prices images by resolution and quality, then resolution, then per image', () => {
    const image: ImagePrice = {
      kind: 'image',
      perImage: 10_000_000n,
      byResolution: { '1024x1024': 20_000_000n, '1024x1024:hd': 40_000_000n },
    };
    expect(costOf(image, { kind: 'image', images: 2, resolution: '1024x1024', quality: 'hd' }).totalNano).toBe(
      80_000_000n,
    );
    expect(costOf(image, { kind: 'image', images: 1, resolution: '1024x1024', quality: 'std' }).totalNano).toBe(
      20_000_000n,
    );
    expect(costOf(image, { kind: 'image', images: 3 }).totalNano).toBe(30_000_000n);
    expect(() => costOf({ kind: 'image' }, { kind: 'image', images: 1, resolution: '9x9' })).toThrow(/no price/);
  });

  it('prices embeddings per 1M tokens and speech per 1M characters', () => {
    expect(
      costOf({ kind: 'embedding', inputPer1M: 20_000_000n }, { kind: 'embedding', inputTokens: 500 }).totalNano,
    ).toBe(10_000n);
    expect(
      costOf({ kind: 'speech', per1MCharacters: 15_000_000_000n }, { kind: 'speech', characters: 1 }).totalNano,
    ).toBe(15_000n);
  });

  it('rejects a usage of another kind and negative or fractional units', () => {
    expect(() => costOf(text, { kind: 'speech', characters: 1 })).toThrow(/cannot be priced/);
    expect(() => costOf(text, { kind: 'text', inputTokens: -1, outputTokens: 0 })).toThrow(/non-negative integer/);
    expect(() => costOf(text, { kind: 'text', inputTokens: 1.5, outputTokens: 0 })).toThrow(/non-negative integer/);
  });

  it('picks the sheet in force at the request time and only accepts later versions', () => {
    let book = addPriceSheet(emptyPriceBook(), { effectiveFromMs: 1000, models: { m: text } });
    book = addPriceSheet(book, { effectiveFromMs: 2000, models: { m: { ...text, inputPer1M: 1n } } });
    expect(() => modelPriceAt(book, 'm', 999)).toThrow(/no price/);
    expect((modelPriceAt(book, 'm', 1999) as TextPrice).inputPer1M).toBe(150_000_000n);
    expect((modelPriceAt(book, 'm', 2000) as TextPrice).inputPer1M).toBe(1n);
    expect(() => modelPriceAt(book, 'other', 5000)).toThrow(/no price/);
    expect(() => addPriceSheet(book, { effectiveFromMs: 2000, models: {} })).toThrow(/must be after/);
    expect(() => addPriceSheet(book, { effectiveFromMs: 3000, models: { m: { ...text, inputPer1M: -1n } } })).toThrow(
      /non-negative/,
    );
  });

  it('caps max output tokens at the largest safe integer when output is nearly free', () => {
    const price: TextPrice = { ...text, outputPer1M: 1n, longContext: undefined };
    const n = maxOutputTokensWithin(price, 0, 9_007_199_255n);
    expect(n).toBe(Number.MAX_SAFE_INTEGER);
    expect(maxTextCost(price, 0, n)).toBeLessThanOrEqual(9_007_199_255n);
  });

  it('sizes max output tokens so that the cost never exceeds the budget, and one more token would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.bigInt({ min: 0n, max: 10n ** 10n }),
        fc.bigInt({ min: 1n, max: 10n ** 11n }),
        (prompt, budget, outputPer1M) => {
          const price: TextPrice = { ...text, outputPer1M, longContext: undefined };
          const n = maxOutputTokensWithin(price, prompt, budget);
          if (n === 0) return maxTextCost(price, prompt, 1) > budget || maxTextCost(price, prompt, 0) <= budget;
          // At the cap (output nearly free), one more token is not a count a request can carry.
          if (n === Number.MAX_SAFE_INTEGER) return maxTextCost(price, prompt, n) <= budget;
          return maxTextCost(price, prompt, n) <= budget && maxTextCost(price, prompt, n + 1) > budget;
        },
      ),
      { numRuns: 500, seed: 20261123 },
    );
  });
});

function mulUp(tokens: bigint, per1M: bigint): bigint {
  return (tokens * per1M + 999_999n) / 1_000_000n;
}
