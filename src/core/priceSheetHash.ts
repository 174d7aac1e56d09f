/**
 * A price sheet's identity: its canonical JSON (keys sorted, every amount an integer nano-USD decimal string, no
 * whitespace) and the keccak256 of those UTF-8 bytes. The gateway serves the canonical bytes, the PriceRegistry
 * contract anchors the hash, receipts name it, and `perdiem prices verify` recomputes it: one function for all four.
 */
import { keccak256, stringToHex } from 'viem';
import type { PriceSheet } from './pricing.ts';

export type SheetHash = `0x${string}`;

function canonical(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The sheet's canonical JSON: what is hashed, served and fetched. */
export function canonicalSheetJson(sheet: PriceSheet): string {
  return canonical({ effectiveFromMs: sheet.effectiveFromMs, models: sheet.models });
}

export function priceSheetHash(sheet: PriceSheet): SheetHash {
  return keccak256(stringToHex(canonicalSheetJson(sheet)));
}
