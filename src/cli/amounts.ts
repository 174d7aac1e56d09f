/** Parsing and printing the amounts a person types: whole tokens (18 decimals), USD prices and ISO times. */
import { formatUnits, parseEther } from 'viem';
import { daySeconds, hourSeconds, minuteSeconds } from '../core/epoch.ts';
import { UsageError } from './command.ts';

export const tokenDecimals = 18;
const usdDecimalsMax = 9;

/** "1.5" → 1.5e18 wei, exactly. Negatives, zero, garbage and more than 18 decimals are usage errors. */
export function parseTokenAmount(text: string, what: string): bigint {
  const trimmed = text.trim();
  if (/^-/.test(trimmed)) throw new UsageError(`${what} must not be negative: ${text}`);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match)
    throw new UsageError(`${what} must be a decimal number of tokens, like 100 or 0.5: ${JSON.stringify(text)}`);
  const [, whole, fraction = ''] = match;
  if (fraction.length > tokenDecimals) {
    throw new UsageError(`${what} has more than ${tokenDecimals} decimals: ${text}`);
  }
  const wei = BigInt(whole!) * 10n ** BigInt(tokenDecimals) + BigInt(fraction.padEnd(tokenDecimals, '0'));
  if (wei === 0n) throw new UsageError(`${what} must be more than 0`);
  return wei;
}

/**
 * A setting in whole tokens where 0 is meaningful ("no emissions", "no cap"): "2.5" → 2.5e18 wei, exactly (viem's
 * parseEther after a strict check of the form, so "1e6", "-1" or "1,000" never reach it).
 */
export function parseTokenSetting(text: string, name: string): bigint {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match)
    throw new UsageError(`${name} must be a decimal number of tokens, like 100 or 0.5: ${JSON.stringify(text)}`);
  if ((match[2] ?? '').length > tokenDecimals)
    throw new UsageError(`${name} has more than ${tokenDecimals} decimals: ${text}`);
  return parseEther(trimmed);
}

/** A count such as seconds or basis points: a non-negative integer, exactly. */
export function parseCountSetting(text: string, name: string): bigint {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed))
    throw new UsageError(`${name} must be a whole number, like ${daySeconds}: ${JSON.stringify(text)}`);
  return BigInt(trimmed);
}

/** Unix seconds as ISO-8601 UTC without milliseconds: 1767225600n → "2026-01-01T00:00:00Z". */
export function isoSeconds(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

const durationUnits = [
  ['day', BigInt(daySeconds)],
  ['hour', BigInt(hourSeconds)],
  ['minute', BigInt(minuteSeconds)],
  ['second', 1n],
] as const;

/** A span in its two largest units: 172800n → "2 days", 171000n → "1 day 23 hours", 0n → "0 seconds". */
export function durationText(seconds: bigint): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of durationUnits) {
    const count = rest / size;
    rest %= size;
    if (count > 0n || (parts.length > 0 && parts.length < 2)) parts.push(`${count} ${unit}${count === 1n ? '' : 's'}`);
    if (parts.length === 2) break;
  }
  const shown = parts.filter((part) => !part.startsWith('0 '));
  return shown.length > 0 ? shown.join(' ') : '0 seconds';
}

/** Exact, with thousands separators: 9000123400000000000000n → "9,000.1234". */
export function formatToken(wei: bigint): string {
  const [whole = '0', fraction] = formatUnits(wei, tokenDecimals).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction ? `${grouped}.${fraction}` : grouped;
}

/** A USD price as the gateway takes it: a non-negative decimal string with at most 9 places. */
export function parseUsdOption(text: string, name: string): string {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match) throw new UsageError(`${name} must be a non-negative USD amount, like 0.2: ${JSON.stringify(text)}`);
  if ((match[2] ?? '').length > usdDecimalsMax) {
    throw new UsageError(`${name} has more than ${usdDecimalsMax} decimals: ${text}`);
  }
  return trimmed;
}

/** An ISO-8601 time with a zone ("2026-01-01T00:00:00Z"), normalised to UTC. */
export function parseIsoOption(text: string, name: string): string {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || !Number.isFinite(ms)) {
    throw new UsageError(`${name} must be an ISO-8601 time like 2026-01-01T00:00:00Z: ${JSON.stringify(text)}`);
  }
  return new Date(ms).toISOString();
}

/** The single positional amount of a chain verb. */
export function amountArgument(positionals: string[], what: string): bigint {
  if (positionals.length === 0) throw new UsageError(`missing the ${what}`);
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  return parseTokenAmount(positionals[0]!, what);
}

export function noArguments(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
}
