/**
 * Text is priced per 1M input, output, cache-read, cache-write and reasoning tokens, with an optional long-context
 * tier.
 */
import { z } from 'zod';
import { formatUsd, parseUsd } from '../../../core/money.ts';
import type { TextPrice, TextRates } from '../../../core/pricing.ts';
import { type PriceUnit, usdAndDiem, usdJson } from '../priceUnit.ts';

const rates = {
  inputPer1M: usdJson,
  outputPer1M: usdJson,
  cacheReadPer1M: usdJson.optional(),
  cacheWritePer1M: usdJson.optional(),
  reasoningPer1M: usdJson.optional(),
};

const textJson = z.strictObject({
  kind: z.literal('text'),
  ...rates,
  longContext: z.strictObject({ ...rates, thresholdTokens: z.int().min(0) }).optional(),
});

type RatesJson = {
  inputPer1M: string;
  outputPer1M: string;
  cacheReadPer1M?: string;
  cacheWritePer1M?: string;
  reasoningPer1M?: string;
};

function ratesOf(json: RatesJson): TextRates {
  const out: TextRates = { inputPer1M: parseUsd(json.inputPer1M), outputPer1M: parseUsd(json.outputPer1M) };
  if (json.cacheReadPer1M !== undefined) out.cacheReadPer1M = parseUsd(json.cacheReadPer1M);
  if (json.cacheWritePer1M !== undefined) out.cacheWritePer1M = parseUsd(json.cacheWritePer1M);
  if (json.reasoningPer1M !== undefined) out.reasoningPer1M = parseUsd(json.reasoningPer1M);
  return out;
}

export const textUnit: PriceUnit<TextPrice, typeof textJson> = {
  kind: 'text',
  json: textJson,
  fromJson: (json) => ({
    kind: 'text',
    ...ratesOf(json),
    ...(json.longContext
      ? { longContext: { ...ratesOf(json.longContext), thresholdTokens: json.longContext.thresholdTokens } }
      : {}),
  }),
  pricing: (price) => ({
    input: usdAndDiem(price.inputPer1M),
    output: usdAndDiem(price.outputPer1M),
    ...(price.cacheReadPer1M === undefined ? {} : { cache_input: usdAndDiem(price.cacheReadPer1M) }),
    ...(price.cacheWritePer1M === undefined ? {} : { cache_write: usdAndDiem(price.cacheWritePer1M) }),
    ...(price.reasoningPer1M === undefined ? {} : { reasoning: usdAndDiem(price.reasoningPer1M) }),
    ...(price.longContext
      ? {
          long_context: {
            threshold_tokens: price.longContext.thresholdTokens,
            input: usdAndDiem(price.longContext.inputPer1M),
            output: usdAndDiem(price.longContext.outputPer1M),
          },
        }
      : {}),
    unit: 'per_1m_tokens',
  }),
  describe: (price) =>
    [
      `$${formatUsd(price.inputPer1M)} in / $${formatUsd(price.outputPer1M)} out`,
      price.cacheReadPer1M === undefined ? '' : ` / $${formatUsd(price.cacheReadPer1M)} cache read`,
      ' per 1M tokens',
    ].join(''),
  editable: [
    { field: 'inputPer1M', label: 'Input $ / 1M tokens', name: 'input' },
    { field: 'outputPer1M', label: 'Output $ / 1M tokens', name: 'output' },
  ],
};
