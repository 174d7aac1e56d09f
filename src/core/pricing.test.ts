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

  it('prices reasoning and cache reads once each, apart from input and output (sheet rates by hand)', () => {
    const price: TextPrice = { ...text, reasoningPer1M: 2_000_000_000n, longContext: undefined };
    // 1000 prompt tokens of which 400 cached; 300 completion tokens of which 120 reasoning.
    const cost = costOf(price, {
      kind: 'text',
      inputTokens: 600,
      cacheReadTokens: 400,
      outputTokens: 180,
      reasoningTokens: 120,
    });
    expect(cost.lines.map((l) => [l.sku, l.units, l.amountNano])).toEqual([
      ['text.input', 600, 90_000n], // 600 × $0.15 / 1M
      ['text.output', 180, 108_000n], // 180 × $0.60 / 1M
      ['text.reasoning', 120, 240_000n], // 120 × $2 / 1M
      ['text.cache_read', 400, 30_000n], // 400 × $0.075 / 1M
    ]);
    expect(cost.totalNano).toBe(468_000n);
    // Without a reasoning rate, reasoning is priced as output; with no reasoning there is no line.
    const plain = costOf(text, { kind: 'text', inputTokens: 0, outputTokens: 1, reasoningTokens: 1 });
    expect(plain.lines.at(-1)).toMatchObject({ sku: 'text.reasoning', amountNano: 600n });
    expect(costOf(text, { kind: 'text', inputTokens: 1, outputTokens: 1 }).lines.map((l) => l.sku)).toEqual([
      'text.input',
      'text.output',
    ]);
  });

  it('bounds any split of prompt and answer: the reservation is never below the cost', () => {
    fc.assert(
      fc.property(
        fc.record({
          input: fc.bigInt({ min: 0n, max: 10n ** 10n }),
          output: fc.bigInt({ min: 0n, max: 10n ** 10n }),
          cacheRead: fc.option(fc.bigInt({ min: 0n, max: 10n ** 10n }), { nil: undefined }),
          cacheWrite: fc.option(fc.bigInt({ min: 0n, max: 10n ** 10n }), { nil: undefined }),
          reasoning: fc.option(fc.bigInt({ min: 0n, max: 10n ** 10n }), { nil: undefined }),
        }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (r, prompt, completion, readPct, writePct, reasoningPct) => {
          const price: TextPrice = {
            kind: 'text',
            inputPer1M: r.input,
            outputPer1M: r.output,
            ...(r.cacheRead === undefined ? {} : { cacheReadPer1M: r.cacheRead }),
            ...(r.cacheWrite === undefined ? {} : { cacheWritePer1M: r.cacheWrite }),
            ...(r.reasoning === undefined ? {} : { reasoningPer1M: r.reasoning }),
          };
          const cacheReadTokens = Math.floor((prompt * readPct) / 100);
          const cacheWriteTokens = Math.floor(((prompt - cacheReadTokens) * writePct) / 100);
          const reasoningTokens = Math.floor((completion * reasoningPct) / 100);
          const cost = costOf(price, {
            kind: 'text',
            inputTokens: prompt - cacheReadTokens - cacheWriteTokens,
            cacheReadTokens,
            cacheWriteTokens,
            outputTokens: completion - reasoningTokens,
            reasoningTokens,
          });
          return cost.totalNano <= maxTextCost(price, prompt, completion);
        },
      ),
      { numRuns: 500, seed: 20261206 },
    );
  });

  it('reserves answer tokens at the higher of the output and reasoning rates', () => {
    const price: TextPrice = { kind: 'text', inputPer1M: 0n, outputPer1M: 1_000_000n, reasoningPer1M: 4_000_000n };
    // 1M answer tokens at $0.004 (reasoning) + 1 nano for an answer split over two paid lines.
    expect(maxTextCost(price, 0, 1_000_000)).toBe(4_000_001n);
    expect(maxOutputTokensWithin(price, 0, 4_000_001n)).toBe(1_000_000);
    // A free model reserves nothing: lines at a zero rate add no rounding.
    expect(maxTextCost({ kind: 'text', inputPer1M: 0n, outputPer1M: 0n }, 100, 100)).toBe(0n);
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
    // 9_007_199_255 for the output at the cap, and 3 for the rounding of splits (prompt over 3 lines, answer over 2).
    const n = maxOutputTokensWithin(price, 0, 9_007_199_258n);
    expect(n).toBe(Number.MAX_SAFE_INTEGER);
    expect(maxTextCost(price, 0, n)).toBeLessThanOrEqual(9_007_199_258n);
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
