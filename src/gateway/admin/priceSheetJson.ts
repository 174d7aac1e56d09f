/**
 * Price sheets as operators write them: each model's price in its unit's JSON shape (kinds/priceUnits.ts), USD
 * decimal strings per 1M units (or per image), converted exactly.
 */
import { z } from 'zod';
import { formatUsd } from '../../core/money.ts';
import type { ModelPrice, PriceSheet } from '../../core/pricing.ts';
import { modelPriceJsonSchema, priceFromJson } from '../kinds/priceUnits.ts';

export const priceSheetJsonSchema = z.strictObject({
  effectiveFrom: z.iso.datetime({ offset: true }),
  models: z.record(z.string().min(1).max(256), modelPriceJsonSchema),
});

export type PriceSheetJson = z.infer<typeof priceSheetJsonSchema>;

export function priceSheetFromJson(json: PriceSheetJson): PriceSheet {
  return {
    effectiveFromMs: Date.parse(json.effectiveFrom),
    models: Object.fromEntries(Object.entries(json.models).map(([model, price]) => [model, priceFromJson(price)])),
  };
}

const usdStrings = (_: string, v: unknown) => (typeof v === 'bigint' ? formatUsd(v) : v);

/** Any bigint as a USD decimal string, for JSON. */
export function priceSheetToJson(sheet: PriceSheet): unknown {
  return JSON.parse(
    JSON.stringify({ effectiveFrom: new Date(sheet.effectiveFromMs).toISOString(), models: sheet.models }, usdStrings),
  );
}

/** One model's price as `priceSheetToJson` renders it in a sheet. */
export function modelPriceToJson(price: ModelPrice): Record<string, unknown> {
  return JSON.parse(JSON.stringify(price, usdStrings)) as Record<string, unknown>;
}
