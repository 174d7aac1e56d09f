import fc from 'fast-check';
import { hashTypedData } from 'viem';
import { describe, expect, it } from 'vitest';
import { type Receipt, receiptDomain, receiptTypedData } from './receipt.ts';
import { receiptDigester } from './receiptDigest.ts';

const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const receipt: fc.Arbitrary<Receipt> = fc.record({
  requestId: fc.string({ unit: 'grapheme', maxLength: 40 }),
  account: fc.string({ maxLength: 40 }),
  model: fc.string({ unit: 'grapheme', maxLength: 40 }),
  priceSheetHash: fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => `0x${Buffer.from(b).toString('hex')}` as const),
  usage: fc.record({
    inputTokens: count,
    cachedInputTokens: count,
    outputTokens: count,
    reasoningTokens: count,
    images: count,
    characters: count,
  }),
  costNanoUsd: fc.bigInt({ min: 0n, max: 2n ** 128n }).map(String),
  costDiemWei: fc.bigInt({ min: 0n, max: 2n ** 255n }).map(String),
  fundingSource: fc.constantFrom('DIEM', 'CREDITS', 'USD'),
  settledAtMs: count,
});

describe('receiptDigester', () => {
  it("equals viem's hashTypedData of the receipt's typed data", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), receipt, (chainId, r) => {
        const domain = receiptDomain(chainId);
        expect(receiptDigester(domain)(r)).toBe(hashTypedData(receiptTypedData(domain, r)));
      }),
      { numRuns: 300, seed: 712 },
    );
  });

  it('refuses an amount that is not a uint256', () => {
    const digest = receiptDigester(receiptDomain(1));
    const r: Receipt = {
      requestId: 'r',
      account: 'a',
      model: 'm',
      priceSheetHash: `0x${'00'.repeat(32)}`,
      usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0, images: 0, characters: 0 },
      costNanoUsd: (2n ** 256n).toString(),
      costDiemWei: '0',
      fundingSource: 'USD',
      settledAtMs: 0,
    };
    expect(() => digest(r)).toThrow(/not a uint256/);
  });
});
