/**
 * POST images/generations: quoted and reserved for the `n` asked (at the size and quality asked), and charged for the
 * images the upstream returned. `size` and `quality` travel upstream as given; an unpriced size is refused before
 * anything is reserved.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../../core/errors.ts';
import { costOf, type ImagePrice, type ModelPrice } from '../../../core/pricing.ts';
import type { ImageGenerationRequest } from '../../providers/index.ts';
import { modelId } from '../../validate/schemas.ts';
import type { RequestKind, ReservationBounds } from '../kind.ts';

/** Image fields only Venice defines (docs.venice.ai, images/generations): accepted, then dropped. */
const veniceImage = {
  background: z.enum(['transparent', 'opaque', 'auto']).nullable().optional(),
  moderation: z.enum(['low', 'auto']).nullable().optional(),
  output_compression: z.int().min(0).max(100).nullable().optional(),
  output_format: z.enum(['jpeg', 'png', 'webp']).nullable().optional(),
};

export const imageGenerationSchema = z.strictObject({
  model: modelId,
  prompt: z.string().min(1).max(32_000),
  n: z.int().min(1).max(10).nullable().optional(),
  size: z
    .string()
    .regex(/^\d{2,5}x\d{2,5}$|^auto$/, 'must be WIDTHxHEIGHT')
    .nullable()
    .optional(),
  quality: z.enum(['standard', 'hd', 'low', 'medium', 'high', 'auto']).nullable().optional(),
  response_format: z.enum(['url', 'b64_json']).nullable().optional(),
  style: z.enum(['vivid', 'natural']).nullable().optional(),
  user: z.string().max(256).optional(),
  ...veniceImage,
});

export type ImageGenerationBody = z.infer<typeof imageGenerationSchema>;

export function imagePriceOf(model: string, price: ModelPrice): ImagePrice {
  if (price.kind !== 'image') {
    throw new InvalidRequestError(`${model} is not priced as an image model`, {
      code: 'model_not_supported',
      param: 'model',
    });
  }
  return price;
}

/** The usage of `images` images at the size and quality the body asked. */
function imageUsage(body: ImageGenerationBody, images: number) {
  return {
    kind: 'image' as const,
    images,
    ...(body.size ? { resolution: body.size } : {}),
    ...(body.quality ? { quality: body.quality } : {}),
  };
}

export const imagesKind: RequestKind<ImageGenerationBody, ImagePrice, ReservationBounds, 'image'> = {
  path: '/images/generations',
  summary: 'Image generation (through an OpenAI-compatible upstream)',
  schema: imageGenerationSchema,
  capability: 'image',
  veniceOnlyFields: Object.keys(veniceImage),
  promptTokensMax: () => 0,
  maxTokens: () => null,
  priceOf: imagePriceOf,
  quote(price, { body }) {
    const amountNano = costOf(price, imageUsage(body, body.n ?? 1)).totalNano;
    return { amountNano, minAmountNano: amountNano };
  },
  async serve({ request: { body }, call }) {
    const upstream = { ...body, n: body.n ?? 1 } as ImageGenerationRequest;
    const result = await call((provider, options) => {
      if (!provider.generateImages) {
        throw new InvalidRequestError(`${provider.id} does not generate images`, {
          code: 'model_not_supported',
          param: 'model',
        });
      }
      return provider.generateImages(upstream, options);
    });
    return {
      type: 'answer',
      answer: { type: 'json', body: result.response },
      usage: imageUsage(body, result.images),
    };
  },
  tokensOf: () => 0,
  deliveredOf: () => null,
};
