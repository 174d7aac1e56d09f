/**
 * Whether a price sheet may be in force. With a chain configured, a sheet takes effect only when its hash is anchored
 * in the PriceRegistry for the epoch it starts (see `chain/priceRegistry.ts`); until then the sheet before it stays
 * in force. `priceSheetAt` is synchronous on the hot path, so a gate answers from what it last read from the chain
 * and reads again in `refresh`.
 */
import type { PriceBook, PriceSheet } from '../../core/pricing.ts';

export interface SheetGate {
  /** True when `sheet` may be in force (anchored, or the gate only warns). */
  admits(sheet: PriceSheet): boolean;
  /** Reads the anchors of the book's sheets that are not admitted yet. */
  refresh(book: PriceBook): Promise<void>;
}

/** No chain: every sheet is admitted. */
export const openSheetGate: SheetGate = { admits: () => true, refresh: () => Promise.resolve() };
