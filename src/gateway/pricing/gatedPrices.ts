/**
 * A PriceBookStore whose lookups pass through a SheetGate: `priceAt` answers from the latest admitted sheet in force,
 * so a sheet the gate refuses never prices a request and the one before it stays in force. `current()` leaves out
 * the sheets that have started but are refused; sheets still scheduled stay listed (they can be anchored until their
 * epoch begins). `add` goes to the store underneath unchanged.
 */
import type { Clock } from '../../core/epoch.ts';
import type { PriceBook, PriceSheet } from '../../core/pricing.ts';
import type { PriceBookStore } from '../priceBookStore.ts';
import type { SheetGate } from './sheetGate.ts';

/** The admitted sheet in force at `atMs`, or null before the first. */
export function admittedSheetAt(book: PriceBook, gate: SheetGate, atMs: number): PriceSheet | null {
  for (let i = book.versions.length - 1; i >= 0; i--) {
    const sheet = book.versions[i]!;
    if (sheet.effectiveFromMs <= atMs && gate.admits(sheet)) return sheet;
  }
  return null;
}

export function gatedPriceBookStore(store: PriceBookStore, gate: SheetGate, clock: Clock): PriceBookStore {
  return {
    current() {
      const nowMs = clock();
      const book = store.current();
      const versions = book.versions.filter((sheet) => sheet.effectiveFromMs > nowMs || gate.admits(sheet));
      return versions.length === book.versions.length ? book : { versions };
    },
    priceAt: (model, atMs) => admittedSheetAt(store.current(), gate, atMs)?.models[model] ?? null,
    add: (sheet, note, check) => store.add(sheet, note, check),
    noteOf: (effectiveFromMs) => store.noteOf(effectiveFromMs),
  };
}
