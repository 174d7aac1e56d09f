/**
 * Request schemas shared by the routes (zod): a model id, and the API key routes. Each inference request kind's schema
 * lives in its module (kinds/*). Top-level objects are strict: an unknown or misspelt parameter is a 400 naming it,
 * rather than being silently ignored.
 */
import { z } from 'zod';

export const modelId = z.string().min(1, 'must name a model').max(256);
/** A USD or DIEM amount as a decimal string or a JSON number (converted exactly through its decimal text). */
export const amount = z.union([
  z.string().regex(/^\d+(\.\d{1,9})?$/, 'must be a decimal with at most 9 places'),
  z.number(),
]);

const limitPeriod = z.enum(['EPOCH', 'MONTH', 'LIFETIME']);

/** USD covers credits and the USD balance, DIEM the allowance (Venice's rule); TOTAL (perdiem's) covers every source. */
const keyLimit = z.strictObject({
  currency: z.enum(['USD', 'DIEM', 'TOTAL']),
  period: limitPeriod,
  amount,
});

const perMinute = z.int().min(1).max(1_000_000_000).nullable().optional();

const keyFields = {
  description: z.string().min(1).max(256),
  expiresAt: z.union([z.iso.datetime({ offset: true }), z.literal(''), z.null()]).optional(),
  /** Venice's shape: USD and DIEM limits over the window `limitPeriod` names. */
  /** Venice's limits: `usd` covers credits and USD, `diem` the DIEM allowance; `vcu` is Venice's legacy name for diem. */
  consumptionLimit: z
    .strictObject({
      usd: amount.nullable().optional(),
      diem: amount.nullable().optional(),
      vcu: amount.nullable().optional(),
    })
    .optional(),
  /** Venice's: the window `consumptionLimit` applies to (default EPOCH). */
  limitPeriod: limitPeriod.optional(),
  /** perdiem's limits: currency DIEM, USD or TOTAL (every source), each over its own period. */
  limits: z.array(keyLimit).max(9).optional(),
  /** Per-key overrides of the operator's rate limits; null (or an absent field) keeps the default. */
  rateLimits: z.strictObject({ requestsPerMinute: perMinute, tokensPerMinute: perMinute }).nullable().optional(),
  allowedModels: z.array(modelId).max(256).nullable().optional(),
};

export const createKeySchema = z.strictObject({
  apiKeyType: z.enum(['INFERENCE', 'ADMIN']),
  ...keyFields,
});

export const updateKeySchema = z.strictObject({
  id: z.string().min(1),
  ...keyFields,
  description: keyFields.description.optional(),
});

export type CreateKeyBody = z.infer<typeof createKeySchema>;
export type UpdateKeyBody = z.infer<typeof updateKeySchema>;
