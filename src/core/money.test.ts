import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilDiv, diemWeiToNanoUsd, formatUsd, mulDivUp, nanoPerUsd, parseUsd } from './money.ts';

describe('money', () => {
  it('converts a DIEM stake to an allowance rounding down', () => {
    expect(diemWeiToNanoUsd(10n ** 18n)).toBe(nanoPerUsd);
    expect(diemWeiToNanoUsd(1_999_999_999n)).toBe(1n);
    expect(diemWeiToNanoUsd(999_999_999n)).toBe(0n);
    expect(() => diemWeiToNanoUsd(-1n)).toThrow(RangeError);
  });

  it('rounds charges up', () => {
    expect(ceilDiv(1n, 1_000_000n)).toBe(1n);
    expect(ceilDiv(0n, 7n)).toBe(0n);
    expect(mulDivUp(3n, 150_000_000n, 1_000_000n)).toBe(450n);
    expect(mulDivUp(1n, 150n, 1_000_000n)).toBe(1n);
  });

  it('parses and formats USD exactly, rejecting more than 9 decimals', () => {
    expect(parseUsd('0.15')).toBe(150_000_000n);
    expect(parseUsd('-2.000000001')).toBe(-2_000_000_001n);
    expect(() => parseUsd('0.0000000001')).toThrow(/more than 9 decimals/);
    expect(() => parseUsd('1e3')).toThrow(/not a USD amount/);
    expect(formatUsd(1_500_000_000n)).toBe('1.5');
    expect(formatUsd(-1n)).toBe('-0.000000001');
  });

  it('round-trips any amount through formatUsd and parseUsd', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), (n) => parseUsd(formatUsd(n)) === n),
      { seed: 1123 },
    );
  });
});
