/** Speech is priced per 1M characters of input text. */
import { z } from 'zod';
import { formatUsd, parseUsd } from '../../../core/money.ts';
import type { SpeechPrice } from '../../../core/pricing.ts';
import { type PriceUnit, usdAndDiem, usdJson } from '../priceUnit.ts';

const speechJson = z.strictObject({ kind: z.literal('speech'), per1MCharacters: usdJson });

export const speechUnit: PriceUnit<SpeechPrice, typeof speechJson> = {
  kind: 'speech',
  json: speechJson,
  fromJson: (json) => ({ kind: 'speech', per1MCharacters: parseUsd(json.per1MCharacters) }),
  pricing: (price) => ({ input: usdAndDiem(price.per1MCharacters), unit: 'per_1m_characters' }),
  describe: (price) => `$${formatUsd(price.per1MCharacters)} per 1M characters`,
  editable: [{ field: 'per1MCharacters', label: 'Input $ / 1M characters', name: 'input' }],
};
