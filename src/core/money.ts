/**
 * Money is an integer count of nano-USD (1e-9 USD), always a `bigint`. Never a float.
 *
 * Rounding rules, stated once and used everywhere:
 * - a DIEM stake converts to an allowance rounding DOWN (the holder never gets more than they staked for);
 * - a charge rounds UP (the operator is never paid less than the price sheet says).
 */
import { InvalidRequestError } from './errors.ts';

export type NanoUsd = bigint;

export const nanoPerUsd = 1_000_000_000n;
/** 1 DIEM (1e18 wei) grants $1 (1e9 nano-USD) per epoch, so 1e9 wei back one nano-USD. */
export const diemWeiPerNanoUsd = 1_000_000_000n;

const usdDecimalsMax = 9;

/** Allowance in nano-USD for a staked DIEM amount in wei. Rounds DOWN. */
export function diemWeiToNanoUsd(wei: bigint): NanoUsd {
  if (wei < 0n) throw new RangeError(`negative DIEM amount: ${wei}`);
  return wei / diemWeiPerNanoUsd;
}

/** DIEM wei worth a nano-USD amount at $1 per DIEM. Exact. */
export function nanoUsdToDiemWei(nano: NanoUsd): bigint {
  return nano * diemWeiPerNanoUsd;
}

/** ceil(a / b) for a >= 0, b > 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  if (a < 0n || b <= 0n) throw new RangeError(`ceilDiv expects a >= 0 and b > 0, got ${a} / ${b}`);
  return (a + b - 1n) / b;
}

/** ceil(a × b / d) for non-negative operands: the rounding every charge uses. */
export function mulDivUp(a: bigint, b: bigint, d: bigint): bigint {
  return ceilDiv(a * b, d);
}

/** floor(a × b / d) for non-negative operands. */
export function mulDivDown(a: bigint, b: bigint, d: bigint): bigint {
  if (a < 0n || b < 0n || d <= 0n) throw new RangeError(`mulDivDown expects non-negative operands`);
  return (a * b) / d;
}

export function minNano(a: NanoUsd, b: NanoUsd): NanoUsd {
  return a < b ? a : b;
}

export function maxNano(a: NanoUsd, b: NanoUsd): NanoUsd {
  return a > b ? a : b;
}

export function sumNano(amounts: Iterable<NanoUsd>): NanoUsd {
  let total = 0n;
  for (const amount of amounts) total += amount;
  return total;
}

/**
 * Parses a decimal USD string ("1", "0.15", "-2.000000001") exactly. More than 9 decimals is rejected rather than
 * rounded, so that a price typed by an operator is never silently changed.
 */
export function parseUsd(text: string): NanoUsd {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new InvalidRequestError(`not a USD amount: ${JSON.stringify(text)}`, { code: 'invalid_amount' });
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > usdDecimalsMax) {
    throw new InvalidRequestError(`USD amount has more than ${usdDecimalsMax} decimals: ${text}`, {
      code: 'invalid_amount',
    });
  }
  const nano = BigInt(whole!) * nanoPerUsd + BigInt(fraction.padEnd(usdDecimalsMax, '0'));
  return sign === '-' ? -nano : nano;
}

/** Exact decimal rendering without trailing zeros: 1_500_000_000n → "1.5". */
export function formatUsd(nano: NanoUsd): string {
  const sign = nano < 0n ? '-' : '';
  const abs = nano < 0n ? -nano : nano;
  const whole = abs / nanoPerUsd;
  const fraction = (abs % nanoPerUsd).toString().padStart(usdDecimalsMax, '0').replace(/0+$/, '');
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/** For display and JSON APIs only (lossy above 2^53 nano-USD, about $9M). Never feed the result back into money. */
export function nanoUsdToNumber(nano: NanoUsd): number {
  return Number(formatUsd(nano));
}
