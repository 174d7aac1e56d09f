/** Embeddings are priced per 1M input tokens. */
import { z } from 'zod';
import { formatUsd, parseUsd } from '../../../core/money.ts';
import type { EmbeddingPrice } from '../../../core/pricing.ts';
import { type PriceUnit, usdAndDiem, usdJson } from '../priceUnit.ts';

const embeddingJson = z.strictObject({ kind: z.literal('embedding'), inputPer1M: usdJson });

export const embeddingUnit: PriceUnit<EmbeddingPrice, typeof embeddingJson> = {
  kind: 'embedding',
  json: embeddingJson,
  fromJson: (json) => ({ kind: 'embedding', inputPer1M: parseUsd(json.inputPer1M) }),
  pricing: (price) => ({ input: usdAndDiem(price.inputPer1M), unit: 'per_1m_tokens' }),
  describe: (price) => `$${formatUsd(price.inputPer1M)} in per 1M tokens`,
  editable: [{ field: 'inputPer1M', label: 'Input $ / 1M tokens', name: 'input' }],
};
