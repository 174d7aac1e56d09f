/** The operator's price book as mutable gateway state: versions only go forward (see `core/pricing`). */
import { addPriceSheet, type ModelPrice, type PriceBook, type PriceSheet, priceSheetAt } from '../core/pricing.ts';

export interface PriceBookStore {
  current(): PriceBook;
  /** The price of `model` at `atMs`, or null when it has none. */
  priceAt(model: string, atMs: number): ModelPrice | null;
  add(sheet: PriceSheet): void;
}

export function createPriceBookStore(initial: PriceBook): PriceBookStore {
  let book = initial;
  return {
    current: () => book,
    priceAt: (model, atMs) => priceSheetAt(book, atMs)?.models[model] ?? null,
    add(sheet) {
      book = addPriceSheet(book, sheet);
    },
  };
}
