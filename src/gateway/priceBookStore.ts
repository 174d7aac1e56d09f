/** The operator's price book as mutable gateway state: versions only go forward (see `core/pricing`). */
import { addPriceSheet, type ModelPrice, type PriceBook, type PriceSheet, priceSheetAt } from '../core/pricing.ts';
import type { SettingsNote } from '../ledger/settings/types.ts';

/**
 * Run against the freshest book just before a sheet is stored (again if a replica raced it); throws to refuse the
 * sheet, which then is neither stored nor in force. The gateway's change rules (`pricing/scheduleSheet.ts`).
 */
export type SheetCheck = (book: PriceBook) => void;

export interface PriceBookStore {
  current(): PriceBook;
  /** The price of `model` at `atMs`, or null when it has none. */
  priceAt(model: string, atMs: number): ModelPrice | null;
  /**
   * Adds a version: checked (`check`, then a 400 when it does not go forward), stored first when the store is durable
   * (see `gateway/settings`), then in force here.
   */
  add(sheet: PriceSheet, note?: SettingsNote, check?: SheetCheck): Promise<void>;
  /** The note the version effective from `effectiveFromMs` was added with, or null. */
  noteOf(effectiveFromMs: number): string | null;
}

/** A price book in memory only: a restart starts again from `initial`. */
export function createPriceBookStore(initial: PriceBook): PriceBookStore {
  let book = initial;
  const notes = new Map<number, string>();
  return {
    current: () => book,
    priceAt: (model, atMs) => priceSheetAt(book, atMs)?.models[model] ?? null,
    // Not async: the sheet is in force when add returns, for callers that do not wait.
    add(sheet, note, check) {
      try {
        check?.(book);
        book = addPriceSheet(book, sheet);
      } catch (error) {
        return Promise.reject(error);
      }
      if (note?.note) notes.set(sheet.effectiveFromMs, note.note);
      return Promise.resolve();
    },
    noteOf: (effectiveFromMs) => notes.get(effectiveFromMs) ?? null,
  };
}
