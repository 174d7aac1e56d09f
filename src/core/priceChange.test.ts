import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from './errors.ts';
import { checkSheetChange, nextBoundaryMs, rateFieldsOf, samePrice, sheetChangeOf } from './priceChange.ts';
import type { PriceBook, PriceSheet } from './pricing.ts';

const dayMs = 86_400_000;
const rules = { epochSeconds: 86_400, stepBpsMax: 2_000 };
const nowMs = 10 * dayMs + 5_000;
const book: PriceBook = {
  versions: [{ effectiveFromMs: 0, models: { a: { kind: 'text', inputPer1M: 1_000n, outputPer1M: 2_000n } } }],
};

function sheet(effectiveFromMs: number, models: PriceSheet['models']): PriceSheet {
  return { effectiveFromMs, models };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('checkSheetChange', () => {
  const raised = { kind: 'text' as const, inputPer1M: 1_200n, outputPer1M: 2_000n };

  it('takes a change within the bound at a future epoch boundary', () => {
    const change = checkSheetChange(book, sheet(11 * dayMs, { a: raised }), rules, nowMs, null);
    expect(change).toEqual({ changed: ['a'], added: [], exceeded: [] });
  });

  it('refuses a change mid-epoch, at the current epoch start, or at a past boundary', () => {
    for (const at of [nowMs + 1, 10 * dayMs, 11 * dayMs + 1, 9 * dayMs]) {
      expect(refusal(() => checkSheetChange(book, sheet(at, { a: raised }), rules, nowMs, null))).toBe(
        'price_sheet_mid_epoch',
      );
    }
  });

  it('refuses a move past the bound unless overridden with a reason, and still only at a boundary', () => {
    const doubled = { kind: 'text' as const, inputPer1M: 2_000n, outputPer1M: 2_000n };
    expect(refusal(() => checkSheetChange(book, sheet(11 * dayMs, { a: doubled }), rules, nowMs, null))).toBe(
      'price_change_exceeds_bound',
    );
    const override = { reason: 'new hardware' };
    const change = checkSheetChange(book, sheet(11 * dayMs, { a: doubled }), rules, nowMs, override);
    expect(change.exceeded).toEqual([{ model: 'a', field: 'inputPer1M', changeBps: 10_000 }]);
    expect(refusal(() => checkSheetChange(book, sheet(nowMs + 1, { a: doubled }), rules, nowMs, override))).toBe(
      'price_sheet_mid_epoch',
    );
  });

  it('prices a new model at once, mid-epoch, as long as the priced ones keep their price', () => {
    const models = { ...book.versions[0]!.models, b: { kind: 'embedding' as const, inputPer1M: 7n } };
    expect(checkSheetChange(book, sheet(nowMs, models), rules, nowMs, null)).toEqual({
      changed: [],
      added: ['b'],
      exceeded: [],
    });
  });

  it('treats dropping a price as a change, and a new rate or kind as past the bound', () => {
    expect(refusal(() => checkSheetChange(book, sheet(nowMs, {}), rules, nowMs, null))).toBe('price_sheet_mid_epoch');
    expect(checkSheetChange(book, sheet(11 * dayMs, {}), rules, nowMs, null).changed).toEqual(['a']);
    const cached = { kind: 'text' as const, inputPer1M: 1_000n, outputPer1M: 2_000n, cacheReadPer1M: 100n };
    expect(sheetChangeOf(book, sheet(11 * dayMs, { a: cached }), 2_000).exceeded).toEqual([
      { model: 'a', field: 'kind', changeBps: null },
    ]);
  });

  it('measures the bound against the newest version, even one not in force yet', () => {
    const scheduled: PriceBook = { versions: [...book.versions, sheet(11 * dayMs, { a: raised })] };
    const again = { kind: 'text' as const, inputPer1M: 1_440n, outputPer1M: 2_000n };
    expect(checkSheetChange(scheduled, sheet(12 * dayMs, { a: again }), rules, nowMs, null).exceeded).toEqual([]);
  });
});

describe('price fields', () => {
  it('names every amount by its JSON field, and compares prices by them', () => {
    const image = { kind: 'image' as const, perImage: 5n, byResolution: { '1024x1024': 9n } };
    expect([...rateFieldsOf(image)]).toEqual([
      ['perImage', 5n],
      ['byResolution.1024x1024', 9n],
    ]);
    expect(samePrice(image, { ...image, byResolution: { '1024x1024': 9n } })).toBe(true);
    expect(samePrice(image, { ...image, perImage: 6n })).toBe(false);
    expect(nextBoundaryMs(nowMs, rules.epochSeconds)).toBe(11 * dayMs);
  });
});
