/** Images are priced per image, or per resolution and quality ("1024x1024" or "1024x1024:hd"). */
import { z } from 'zod';
import { formatUsd, parseUsd } from '../../../core/money.ts';
import type { ImagePrice } from '../../../core/pricing.ts';
import { type PriceUnit, usdAndDiem, usdJson } from '../priceUnit.ts';

const imageJson = z.strictObject({
  kind: z.literal('image'),
  perImage: usdJson.optional(),
  byResolution: z.record(z.string(), usdJson).optional(),
});

export const imageUnit: PriceUnit<ImagePrice, typeof imageJson> = {
  kind: 'image',
  json: imageJson,
  fromJson: (json) => ({
    kind: 'image',
    ...(json.perImage === undefined ? {} : { perImage: parseUsd(json.perImage) }),
    byResolution: Object.fromEntries(Object.entries(json.byResolution ?? {}).map(([k, v]) => [k, parseUsd(v)])),
  }),
  pricing: (price) => ({
    ...(price.perImage === undefined ? {} : { generation: usdAndDiem(price.perImage) }),
    by_resolution: Object.fromEntries(Object.entries(price.byResolution ?? {}).map(([k, v]) => [k, usdAndDiem(v)])),
    unit: 'per_image',
  }),
  describe: (price) => (price.perImage === undefined ? 'by resolution' : `$${formatUsd(price.perImage)} per image`),
  editable: [],
};
