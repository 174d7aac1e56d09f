import { describe, expect, it } from 'vitest';
import type { ModelPrice } from '../../core/pricing.ts';
import { priceSheetFromJson, priceSheetJsonSchema, priceSheetToJson } from '../admin/priceSheetJson.ts';
import { parseWith } from '../validate/body.ts';
import { describePrice, priceUnits, pricingOf } from './priceUnits.ts';

const prices: Record<string, ModelPrice> = {
  chat: { kind: 'text', inputPer1M: 2_000_000_000n, outputPer1M: 8_000_000_000n, cacheReadPer1M: 500_000_000n },
  embed: { kind: 'embedding', inputPer1M: 100_000_000n },
  draw: { kind: 'image', perImage: 40_000_000n, byResolution: { '1024x1024:hd': 80_000_000n } },
  sized: { kind: 'image', byResolution: { '1024x1024': 40_000_000n } },
  speak: { kind: 'speech', per1MCharacters: 15_000_000_007n },
  think: {
    kind: 'text',
    inputPer1M: 1_000_000_000n,
    outputPer1M: 4_000_000_000n,
    cacheReadPer1M: 250_000_000n,
    cacheWritePer1M: 1_250_000_000n,
    reasoningPer1M: 6_000_000_000n,
  },
};

describe('price units', () => {
  it('describe each price in one line, as the CLI and the operator page show it', () => {
    expect(Object.fromEntries(Object.entries(prices).map(([model, price]) => [model, describePrice(price)]))).toEqual({
      chat: '$2 in / $8 out / $0.5 cache read per 1M tokens',
      embed: '$0.1 in per 1M tokens',
      draw: '$0.04 per image',
      sized: 'by resolution',
      speak: '$15.000000007 per 1M characters',
      think: '$1 in / $4 out / $0.25 cache read per 1M tokens',
    });
  });

  it("render /v1/models pricing in Venice's {usd, diem} shape, with the unit's name", () => {
    expect(pricingOf(prices.speak!)).toEqual({
      input: { usd: 15.000000007, diem: 15.000000007 },
      unit: 'per_1m_characters',
    });
    expect(pricingOf(prices.embed!)).toEqual({ input: { usd: 0.1, diem: 0.1 }, unit: 'per_1m_tokens' });
    expect(pricingOf(prices.draw!)).toMatchObject({ generation: { usd: 0.04 }, unit: 'per_image' });
    expect(pricingOf(null)).toBeNull();
    expect(pricingOf(prices.think!)).toEqual({
      input: { usd: 1, diem: 1 },
      output: { usd: 4, diem: 4 },
      cache_input: { usd: 0.25, diem: 0.25 },
      cache_write: { usd: 1.25, diem: 1.25 },
      reasoning: { usd: 6, diem: 6 },
      unit: 'per_1m_tokens',
    });
  });

  it('read back every unit from the price sheet JSON exactly', () => {
    const sheet = { effectiveFromMs: 0, models: prices };
    const json = priceSheetToJson(sheet);
    expect((json as { models: Record<string, unknown> }).models.speak).toEqual({
      kind: 'speech',
      per1MCharacters: '15.000000007',
    });
    expect(priceSheetFromJson(parseWith(priceSheetJsonSchema, json))).toEqual(sheet);
  });

  it('name the fields the operator page edits by their JSON field', () => {
    for (const unit of Object.values(priceUnits)) {
      const shape = Object.keys(unit.json.def.shape);
      for (const { field } of unit.editable) expect(shape).toContain(field);
    }
    expect(priceUnits.speech.editable.map(({ field }) => field)).toEqual(['per1MCharacters']);
  });
});
