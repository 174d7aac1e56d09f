/** The operator's price routes in /openapi.json, with request bodies from the zod schemas that validate them. */
import type { z } from 'zod';
import { announceSchema, postedSheetSchema } from './priceRoutes.ts';

type Op = (summary: string, body?: z.ZodType) => unknown;

/** `op` is openapi.ts's operation builder, with the operator token as bearer. */
export function pricePaths(op: Op): Record<string, unknown> {
  return {
    '/admin/prices': {
      get: op('Price book'),
      post: op(
        'Add a price sheet version. A change to a priced model takes effect only at a future epoch start (400 price_sheet_mid_epoch) and moves each rate at most the step bound (400 price_change_exceeds_bound) unless `override.reason` is given; a sheet that only prices new models may take effect at once. effectiveFrom defaults to now for such a sheet, else to the next epoch start',
        postedSheetSchema,
      ),
    },
    '/admin/prices/proposal': {
      get: op(
        'The calibrated sheet proposed for the next epoch: per model, CU estimate × CU price × (1 + margin), each rate clamped to the step bound; `{data: {epoch, effectiveFrom, cuPriceUsd, marginBps, stepBpsMax, models: [{model, kind, current, proposed, changeBps, clamped, cu}]}}`',
      ),
    },
    '/admin/prices/announce': {
      post: op(
        'Announce the proposal (or `models` of it) for an epoch start in the future (default the next); `{data: {effectiveFrom, epoch, hash, sheet, override}}`',
        announceSchema,
      ),
    },
    '/admin/prices/history': {
      get: op(
        "Every version's price for `?model=`, oldest first: `{data: {model, points: [{effectiveFrom, epoch, hash, price, override}]}}`",
      ),
    },
  };
}
