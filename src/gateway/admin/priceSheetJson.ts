/** Price sheets as operators write them: USD decimal strings per 1M units (or per image), converted exactly. */
import { z } from 'zod';
import { formatUsd, parseUsd } from '../../core/money.ts';
import type { ModelPrice, PriceSheet, TextRates } from '../../core/pricing.ts';

const usd = z.string().regex(/^\d+(\.\d{1,9})?$/, 'must be a USD decimal string with at most 9 places');

const rates = {
  inputPer1M: usd,
  outputPer1M: usd,
  cacheReadPer1M: usd.optional(),
  cacheWritePer1M: usd.optional(),
};

const modelPrice = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('text'),
    ...rates,
    longContext: z.strictObject({ ...rates, thresholdTokens: z.int().min(0) }).optional(),
  }),
  z.strictObject({ kind: z.literal('embedding'), inputPer1M: usd }),
  z.strictObject({
    kind: z.literal('image'),
    perImage: usd.optional(),
    byResolution: z.record(z.string(), usd).optional(),
  }),
  z.strictObject({ kind: z.literal('speech'), per1MCharacters: usd }),
]);

export const priceSheetJsonSchema = z.strictObject({
  effectiveFrom: z.iso.datetime({ offset: true }),
  models: z.record(z.string().min(1).max(256), modelPrice),
});

export type PriceSheetJson = z.infer<typeof priceSheetJsonSchema>;
type ModelPriceJson = z.infer<typeof modelPrice>;

const opt = (text: string | undefined) => (text === undefined ? undefined : parseUsd(text));

function ratesOf(json: {
  inputPer1M: string;
  outputPer1M: string;
  cacheReadPer1M?: string | undefined;
  cacheWritePer1M?: string | undefined;
}): TextRates {
  const out: TextRates = { inputPer1M: parseUsd(json.inputPer1M), outputPer1M: parseUsd(json.outputPer1M) };
  const read = opt(json.cacheReadPer1M);
  const write = opt(json.cacheWritePer1M);
  if (read !== undefined) out.cacheReadPer1M = read;
  if (write !== undefined) out.cacheWritePer1M = write;
  return out;
}

function priceOf(json: ModelPriceJson): ModelPrice {
  switch (json.kind) {
    case 'text':
      return {
        kind: 'text',
        ...ratesOf(json),
        ...(json.longContext
          ? { longContext: { ...ratesOf(json.longContext), thresholdTokens: json.longContext.thresholdTokens } }
          : {}),
      };
    case 'embedding':
      return { kind: 'embedding', inputPer1M: parseUsd(json.inputPer1M) };
    case 'image':
      return {
        kind: 'image',
        ...(json.perImage === undefined ? {} : { perImage: parseUsd(json.perImage) }),
        byResolution: Object.fromEntries(Object.entries(json.byResolution ?? {}).map(([k, v]) => [k, parseUsd(v)])),
      };
    case 'speech':
      return { kind: 'speech', per1MCharacters: parseUsd(json.per1MCharacters) };
  }
}

export function priceSheetFromJson(json: PriceSheetJson): PriceSheet {
  return {
    effectiveFromMs: Date.parse(json.effectiveFrom),
    models: Object.fromEntries(Object.entries(json.models).map(([model, price]) => [model, priceOf(price)])),
  };
}

/** Any bigint as a USD decimal string, for JSON. */
export function priceSheetToJson(sheet: PriceSheet): unknown {
  return JSON.parse(
    JSON.stringify({ effectiveFrom: new Date(sheet.effectiveFromMs).toISOString(), models: sheet.models }, (_, v) =>
      typeof v === 'bigint' ? formatUsd(v) : v,
    ),
  );
}
