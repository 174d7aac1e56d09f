import { describe, expect, it } from 'vitest';
import { canonicalSheetJson, priceSheetHash } from './priceSheetHash.ts';
import type { PriceSheet } from './pricing.ts';

const sheet: PriceSheet = {
  effectiveFromMs: 86_400_000,
  models: {
    'b-model': { kind: 'embedding', inputPer1M: 20_000_000n },
    'a-model': { kind: 'text', outputPer1M: 2_000_000_000n, inputPer1M: 500_000_000n },
  },
};

describe('priceSheetHash', () => {
  it('writes canonical JSON: sorted keys, amounts as decimal strings', () => {
    expect(canonicalSheetJson(sheet)).toBe(
      '{"effectiveFromMs":86400000,"models":{"a-model":{"inputPer1M":"500000000","kind":"text",' +
        '"outputPer1M":"2000000000"},"b-model":{"inputPer1M":"20000000","kind":"embedding"}}}',
    );
  });

  it('does not depend on key order, and changes with any price', () => {
    const reordered: PriceSheet = { effectiveFromMs: sheet.effectiveFromMs, models: { ...sheet.models } };
    expect(priceSheetHash(reordered)).toBe(priceSheetHash(sheet));
    const tampered: PriceSheet = {
      ...sheet,
      models: { ...sheet.models, 'b-model': { kind: 'embedding', inputPer1M: 20_000_001n } },
    };
    expect(priceSheetHash(tampered)).not.toBe(priceSheetHash(sheet));
    expect(priceSheetHash(sheet)).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
