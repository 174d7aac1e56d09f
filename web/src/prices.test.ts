import { describe, expect, it } from 'vitest';
import {
  changeClass,
  fieldLabel,
  fieldsOf,
  formatChangeBps,
  type HistoryPoint,
  type ProposedModel,
  priceFields,
  stepsOf,
} from './prices.ts';

describe('price proposal helpers', () => {
  it('shows basis points as a signed percent, exactly', () => {
    expect(formatChangeBps(2_000)).toBe('+20.00%');
    expect(formatChangeBps(-125)).toBe('−1.25%');
    expect(formatChangeBps(5)).toBe('+0.05%');
    expect(formatChangeBps(0)).toBe('0.00%');
    expect(formatChangeBps(-10_000)).toBe('−100.00%');
    expect([changeClass(1), changeClass(-1), changeClass(0)]).toEqual(['up', 'down', 'flat']);
  });

  it("lists a price's USD fields, and the fields of either side of a diff", () => {
    expect(priceFields({ kind: 'image', perImage: '0.04', byResolution: {} })).toEqual(['perImage']);
    expect(priceFields(null)).toEqual([]);
    const model: ProposedModel = {
      model: 'm',
      kind: 'text',
      current: { kind: 'text', inputPer1M: '1' },
      proposed: { kind: 'text', inputPer1M: '1.2', outputPer1M: '4.8' },
      changeBps: { inputPer1M: 2_000 },
      clamped: true,
      cu: null,
    };
    expect(fieldsOf(model)).toEqual(['inputPer1M', 'outputPer1M']);
    expect(fieldLabel('text', 'outputPer1M')).toBe('Output $ / 1M tokens');
    expect(fieldLabel('speech', 'somethingNew')).toBe('somethingNew');
  });

  it("turns a model's history into one field's steps, the future ones scheduled", () => {
    const point = (effectiveFrom: string, price: HistoryPoint['price'], epoch: number): HistoryPoint => ({
      effectiveFrom,
      epoch,
      hash: `0x${epoch}`,
      price,
      override: null,
    });
    const points = [
      point('1970-01-01T00:00:00.000Z', { kind: 'text', inputPer1M: '1', outputPer1M: '4' }, 0),
      point('2025-01-03T00:00:00.000Z', { kind: 'text', inputPer1M: '1.2', outputPer1M: '4.8' }, 20_091),
    ];
    const now = Date.parse('2025-01-02T12:00:00Z');
    expect(stepsOf(points, 'outputPer1M', now)).toEqual([
      { fromMs: 0, usd: '4', value: 4, scheduled: false, epoch: 0, hash: '0x0' },
      {
        fromMs: Date.parse('2025-01-03T00:00:00Z'),
        usd: '4.8',
        value: 4.8,
        scheduled: true,
        epoch: 20_091,
        hash: '0x20091',
      },
    ]);
    expect(stepsOf(points, 'perImage', now)).toEqual([]);
  });
});
