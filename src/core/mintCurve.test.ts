import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CELL_WEI, expWad, MintCurveError, maxMintWei, mintCostWei, rateWad, WAD } from './mintCurve.ts';

const diem = (whole: number) => BigInt(whole) * WAD;
/** A WAD amount to two decimals, rounded half up, as text. */
const toCents = (wad: bigint) => ((wad * 100n + WAD / 2n) / WAD).toString();

describe('mint curve mirror', () => {
  it('matches the published points to 0.01', () => {
    expect(toCents(rateWad(0n))).toBe('9000');
    expect(toCents(rateWad(diem(10_000)))).toBe('9334');
    expect(toCents(rateWad(diem(38_000)))).toBe('66502');
  });

  it('computes e^x to within 1e-15 relative of the float exp', () => {
    for (const x of [0, 0.5, 1, 2, 10, 40]) {
      const approx = Number(expWad(BigInt(Math.round(x * 1e6)) * 10n ** 12n)) / 1e18;
      expect(Math.abs(approx / Math.exp(x) - 1)).toBeLessThan(1e-12);
    }
  });

  it('prices a mint within one cell of the exact integral, never below it', () => {
    // 1,000 DIEM from 0: the exact integral is 90 × ∫0^1000 exp(2(s/38000)^3) ds ≈ 90,000.6 sVVV.
    const cost = mintCostWei(0n, diem(1_000));
    expect(cost).toBeGreaterThan(diem(90_000));
    expect(cost).toBeLessThan(diem(90_010));
  });

  it('never makes a split mint cheaper than one mint', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: diem(98_000) }),
        fc.bigInt({ min: 1n, max: diem(1_000) }),
        fc.bigInt({ min: 1n, max: diem(1_000) }),
        (supply, first, second) => {
          const whole = mintCostWei(supply, first + second);
          const split = mintCostWei(supply, first) + mintCostWei(supply + first, second);
          return split >= whole;
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it('has a rate that never falls as supply grows', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: diem(100_000) }), fc.bigInt({ min: 0n, max: diem(1_000) }), (s, d) => {
        return rateWad(s + d) >= rateWad(s);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('refuses a zero mint, a mint past the cell limit and one past the supply cap', () => {
    expect(() => mintCostWei(0n, 0n)).toThrow(MintCurveError);
    expect(() => mintCostWei(0n, 256n * CELL_WEI + 1n)).toThrow(/cells/);
    expect(() => mintCostWei(diem(99_999), diem(2))).toThrow(/exceed/);
    expect(mintCostWei(0n, maxMintWei(0n))).toBeGreaterThan(0n);
  });
});
