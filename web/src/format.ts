/**
 * Amount formatting for the dashboard. Token amounts are wei (bigint, 18 decimals) and USD amounts nano-USD (bigint,
 * 9 decimals): both are formatted with integer arithmetic only, rounding down, so a balance is never shown larger
 * than it is.
 */
import { daySeconds, hourSeconds, minuteSeconds, secondMs } from '../../src/core/epoch.ts';

export const tokenDecimals = 18;
export const usdDecimals = 9;

function groupThousands(integer: string): string {
  return integer.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A fixed-point integer as a decimal string with thousands separators and exactly `digits` fraction digits, rounded
 * toward zero. A non-zero amount too small to show reads "<0.01" rather than "0.00".
 */
export function formatFixed(value: bigint, decimals: number, digits: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const shown = digits >= decimals ? abs * 10n ** BigInt(digits - decimals) : abs / 10n ** BigInt(decimals - digits);
  if (abs !== 0n && shown === 0n) {
    const smallest = digits > 0 ? `0.${'0'.repeat(digits - 1)}1` : '1';
    return negative ? `>-${smallest}` : `<${smallest}`;
  }
  const unit = 10n ** BigInt(digits);
  const integer = groupThousands((shown / unit).toString());
  const fraction = digits > 0 ? `.${(shown % unit).toString().padStart(digits, '0')}` : '';
  return `${negative ? '-' : ''}${integer}${fraction}`;
}

/** A token amount (wei), e.g. `formatToken(1234567n * 10n ** 15n)` → "1,234.56". */
export function formatToken(wei: bigint, digits = 2): string {
  return formatFixed(wei, tokenDecimals, digits);
}

/**
 * A USD amount (nano-USD) with at least two fraction digits and as many more (up to nine) as it takes to show a
 * small charge: $12.50, $0.000012.
 */
export function formatUsdNano(nano: bigint): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  let digits = 2;
  while (digits < usdDecimals && abs !== 0n && abs < 10n ** BigInt(usdDecimals - digits + 1)) digits++;
  let text = formatFixed(abs, usdDecimals, digits);
  if (digits > 2) text = text.replace(/0+$/, '');
  return `${negative ? '-' : ''}$${text}`;
}

/** A USD decimal string or JSON number from the API ("0.000012", 99.99) as nano-USD; null when it is not one. */
export function usdToNano(value: string | number): bigint | null {
  const text = typeof value === 'number' ? value.toFixed(usdDecimals) : value.trim();
  return parseDecimal(text, usdDecimals);
}

/** A non-negative decimal string as a fixed-point integer; null when malformed or more precise than `decimals`. */
export function parseDecimal(text: string, decimals: number): bigint | null {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text.trim().replaceAll(',', ''));
  if (!match) return null;
  const [, integer = '', fraction = ''] = match;
  if (integer === '' && fraction === '') return null;
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > decimals) return null;
  return BigInt(integer || '0') * 10n ** BigInt(decimals) + BigInt(trimmed.padEnd(decimals, '0') || '0');
}

/** What a user typed into a token amount field, in wei; null when it is not a positive amount. */
export function parseTokenInput(text: string): bigint | null {
  const wei = parseDecimal(text, tokenDecimals);
  return wei === null || wei === 0n ? null : wei;
}

/** A rate in WAD (sVVV wei per whole DIEM), e.g. "93.34". */
export function formatRateWad(rateWad: bigint): string {
  return formatFixed(rateWad, tokenDecimals, 2);
}

/** Time left until a deadline, coarse to fine: "6d 23h", "3h 05m", "4m 09s", "12s"; "now" once it has passed. */
export function formatCountdown(msLeft: number): string {
  if (msLeft <= 0) return 'now';
  const seconds = Math.ceil(msLeft / secondMs);
  const d = Math.floor(seconds / daySeconds);
  const h = Math.floor((seconds % daySeconds) / hourSeconds);
  const m = Math.floor((seconds % hourSeconds) / minuteSeconds);
  const s = seconds % minuteSeconds;
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

/** 0x1234…abcd */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** A compact axis label: 950, 1.2k, 38k, 1.5M. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${trimZeros((value / 1e6).toFixed(1))}M`;
  if (abs >= 1e3) return `${trimZeros((value / 1e3).toFixed(abs >= 1e4 ? 0 : 1))}k`;
  return trimZeros(value.toFixed(abs >= 10 || abs === 0 ? 0 : 2));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A timestamp in the viewer's locale, short: "Jan 2, 14:03". */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
