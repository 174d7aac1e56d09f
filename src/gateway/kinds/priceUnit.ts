/**
 * A price unit: how one `ModelPrice` variant is written by operators (the price sheet JSON), shown to clients
 * (`model_spec.pricing` in /v1/models) and to people (the CLI and the operator page). Each request kind's module
 * defines the units it is priced in; `priceUnits.ts` lists them. Only zod and `core/` here: the web app imports it.
 */
import { z } from 'zod';
import { nanoUsdToNumber } from '../../core/money.ts';
import type { ModelPrice } from '../../core/pricing.ts';

/** A USD amount as operators write it: a decimal string with at most 9 places, converted to nano-USD exactly. */
export const usdJson = z.string().regex(/^\d+(\.\d{1,9})?$/, 'must be a USD decimal string with at most 9 places');

/** Venice's `{usd, diem}` pair: 1 DIEM pays for $1. */
export function usdAndDiem(nano: bigint): { usd: number; diem: number } {
  return { usd: nanoUsdToNumber(nano), diem: nanoUsdToNumber(nano) };
}

/** A price field the operator page edits in place: its JSON field, its label, and its short name ("input"). */
export interface EditableField {
  field: string;
  label: string;
  name: string;
}

export interface PriceUnit<
  P extends ModelPrice,
  S extends z.core.$ZodTypeDiscriminable = z.core.$ZodTypeDiscriminable,
> {
  kind: P['kind'];
  /** The operator's JSON for one model's price: strict, with its `kind` literal, money as USD decimal strings. */
  json: S;
  fromJson(json: z.infer<S>): P;
  /** `model_spec.pricing` in /v1/models: Venice's `{usd, diem}` per unit, and the unit's name. */
  pricing(price: P): Record<string, unknown>;
  /** One line for people, e.g. "$2 in / $8 out per 1M tokens". */
  describe(price: P): string;
  /** The fields the operator page edits (the others are kept as they are). */
  editable: readonly EditableField[];
}
