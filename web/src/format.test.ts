import { describe, expect, it } from 'vitest';
import {
  formatCompact,
  formatCountdown,
  formatFixed,
  formatToken,
  formatUsdNano,
  parseDecimal,
  parseTokenInput,
  shortAddress,
  usdToNano,
} from './format.ts';

const WAD = 10n ** 18n;

describe('amount formatting', () => {
  it('formats token amounts with thousands separators, rounding down', () => {
    expect(formatToken(20_000n * WAD)).toBe('20,000.00');
    expect(formatToken(1_234_567n * 10n ** 15n)).toBe('1,234.56');
    expect(formatToken(999_999n * 10n ** 13n, 4)).toBe('9.9999');
    expect(formatToken(0n)).toBe('0.00');
    expect(formatToken(-15n * 10n ** 17n)).toBe('-1.50');
  });

  it('never shows a non-zero dust amount as zero', () => {
    expect(formatToken(1n)).toBe('<0.01');
    expect(formatToken(1n, 4)).toBe('<0.0001');
    expect(formatFixed(-1n, 18, 2)).toBe('>-0.01');
    expect(formatFixed(5n, 1, 0)).toBe('<1');
  });

  it('formats USD with two decimals, and more for small charges', () => {
    expect(formatUsdNano(12_500_000_000n)).toBe('$12.50');
    expect(formatUsdNano(100_000_000_000n)).toBe('$100.00');
    expect(formatUsdNano(12_000n)).toBe('$0.000012');
    expect(formatUsdNano(50_000_000n)).toBe('$0.05');
    expect(formatUsdNano(1n)).toBe('$0.000000001');
    expect(formatUsdNano(0n)).toBe('$0.00');
    expect(formatUsdNano(1_234_567_890_000_000n)).toBe('$1,234,567.89');
  });

  it('reads USD from the API exactly, from strings and numbers', () => {
    expect(usdToNano('0.000012')).toBe(12_000n);
    expect(usdToNano(99.999988)).toBe(99_999_988_000n);
    expect(usdToNano('1.0000000001')).toBeNull();
  });

  it('parses what a user types into an amount field', () => {
    expect(parseTokenInput('1.5')).toBe(15n * 10n ** 17n);
    expect(parseTokenInput('1,000')).toBe(1_000n * WAD);
    expect(parseTokenInput('.25')).toBe(25n * 10n ** 16n);
    expect(parseTokenInput('0')).toBeNull();
    expect(parseTokenInput('abc')).toBeNull();
    expect(parseTokenInput('-1')).toBeNull();
    expect(parseTokenInput('1.0000000000000000001')).toBeNull();
    expect(parseDecimal('2.500', 2)).toBe(250n);
  });

  it('formats countdowns from days down to seconds', () => {
    expect(formatCountdown(7 * 86_400_000)).toBe('7d 0h');
    expect(formatCountdown(3 * 3_600_000 + 5 * 60_000)).toBe('3h 05m');
    expect(formatCountdown(4 * 60_000 + 9_000)).toBe('4m 09s');
    expect(formatCountdown(12_000)).toBe('12s');
    expect(formatCountdown(0)).toBe('now');
  });

  it('shortens addresses and axis labels', () => {
    expect(shortAddress('0x1234567890abcdef1234567890abcdef12345678')).toBe('0x1234…5678');
    expect(formatCompact(38_000)).toBe('38k');
    expect(formatCompact(1_500)).toBe('1.5k');
    expect(formatCompact(665.02)).toBe('665');
    expect(formatCompact(2_500_000)).toBe('2.5M');
    expect(formatCompact(0)).toBe('0');
  });
});
