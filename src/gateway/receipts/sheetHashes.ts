/** The hash of the price sheet in force at a time, computed once per sheet (sheets are immutable once added). */
import { priceSheetHash, type SheetHash } from '../../core/priceSheetHash.ts';
import { type PriceBook, type PriceSheet, priceSheetAt } from '../../core/pricing.ts';

const hashes = new WeakMap<PriceSheet, SheetHash>();

export function priceSheetHashAt(book: PriceBook, atMs: number): SheetHash | null {
  const sheet = priceSheetAt(book, atMs);
  if (sheet === null) return null;
  let hash = hashes.get(sheet);
  if (hash === undefined) {
    hash = priceSheetHash(sheet);
    hashes.set(sheet, hash);
  }
  return hash;
}
