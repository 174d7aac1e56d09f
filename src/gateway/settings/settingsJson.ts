/**
 * The shape of each settings kind as stored (JSON) and as the admin routes take it. Price sheets reuse the admin
 * price sheet JSON (USD decimal strings, converted to nano-USD exactly).
 */
import { z } from 'zod';
import type { PriceSheet } from '../../core/pricing.ts';
import type { JsonValue } from '../../ledger/settings/types.ts';
import { priceSheetFromJson, priceSheetJsonSchema, priceSheetToJson } from '../admin/priceSheetJson.ts';
import type { RateLimitConfig } from '../limits.ts';
import { parseWith } from '../validate/body.ts';
import { operatorSettingsLimits as limits } from './limits.ts';

const perMinute = z.int().min(1).max(limits.perMinuteMax);
const buckets = z.strictObject({ requestsPerMinute: perMinute, tokensPerMinute: perMinute });

export const rateLimitsSchema = z.strictObject({ key: buckets, account: buckets });

export const providerSettingSchema = z.strictObject({
  enabled: z.boolean(),
  priority: z.int().min(-limits.priorityAbsMax).max(limits.priorityAbsMax),
});

const id = z.string().min(1).max(limits.idLengthMax);

export const modelSettingSchema = z.strictObject({
  enabled: z.boolean(),
  contextLength: z.int().min(1).max(limits.contextLengthMax).optional(),
  /** The model this one is a new version of: its measured compute stands in until this one has enough samples. */
  predecessor: id.optional(),
});

export const providerSettingsSchema = z.record(id, providerSettingSchema);
export const modelSettingsSchema = z.record(id, modelSettingSchema);

/** What the operator set for a provider: a disabled one serves nothing; lower priority runs first. */
export type ProviderSetting = z.infer<typeof providerSettingSchema>;
/**
 * What the operator set for a model: a disabled one is not served; contextLength bounds its requests; predecessor
 * names the model whose compute measurements it inherits (gateway/compute/modelCu.ts).
 */
export type ModelSetting = z.infer<typeof modelSettingSchema>;

export function rateLimitsFromJson(value: unknown): RateLimitConfig {
  return parseWith(rateLimitsSchema, value);
}

export function providerSettingsFromJson(value: unknown): Record<string, ProviderSetting> {
  return parseWith(providerSettingsSchema, value);
}

export function modelSettingsFromJson(value: unknown): Record<string, ModelSetting> {
  return parseWith(modelSettingsSchema, value);
}

export function priceSheetFromStored(value: unknown): PriceSheet {
  return priceSheetFromJson(parseWith(priceSheetJsonSchema, value));
}

/** The sheet as stored; it must read back as itself (money in exact decimal strings), or nothing is stored. */
export function priceSheetToStored(sheet: PriceSheet): JsonValue {
  const json = priceSheetToJson(sheet) as JsonValue;
  priceSheetFromStored(json);
  return json;
}
