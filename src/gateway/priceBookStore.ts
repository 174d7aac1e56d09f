/** The operator's price book as mutable gateway state: versions only go forward (see `core/pricing`). */
import { addPriceSheet, type ModelPrice, type PriceBook, type PriceSheet, priceSheetAt } from '../core/pricing.ts';
import type { SettingsNote } from '../ledger/settings/types.ts';

export interface PriceBookStore {
  current(): PriceBook;
  /** The price of `model` at `atMs`, or null when it has none. */
  priceAt(model: string, atMs: number): ModelPrice | null;
  /**
   * Adds a version: validated (a 400 when it does not go forward), stored first when the store is durable (see
   * `gateway/settings`), then in force here.
   */
  add(sheet: PriceSheet, note?: SettingsNote): Promise<void>;
}

/** A price book in memory only: a restart starts again from `initial`. */
export function createPriceBookStore(initial: PriceBook): PriceBookStore {
  let book = initial;
  return {
    current: () => book,
    priceAt: (model, atMs) => priceSheetAt(book, atMs)?.models[model] ?? null,
    // Not async: the sheet is in force when add returns, for callers that do not wait.
    add(sheet) {
      book = addPriceSheet(book, sheet);
      return Promise.resolve();
    },
  };
}
