/** POST embeddings: priced per 1M input tokens, by an embedding price or a text model's input rate. */
import { z } from 'zod';
import { InvalidRequestError } from '../../../core/errors.ts';
import { costOf, type EmbeddingPrice, type ModelPrice } from '../../../core/pricing.ts';
import { gatewayLimits } from '../../limits.ts';
import { textPromptTokensMax } from '../../metering/promptBound.ts';
import type { EmbeddingRequest } from '../../providers/index.ts';
import { modelId } from '../../validate/schemas.ts';
import type { RequestKind, ReservationBounds } from '../kind.ts';

const embeddingText = z.string().min(1, 'must not be empty').max(gatewayLimits.requestBodyBytesMax);

export const embeddingSchema = z.strictObject({
  model: modelId,
  input: z.union([embeddingText, z.array(embeddingText).min(1).max(gatewayLimits.inputsMax)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.int().min(1).optional(),
  user: z.string().max(256).optional(),
});

export type EmbeddingBody = z.infer<typeof embeddingSchema>;

/** Embeddings are priced by an embedding price, or by a text model's input rate. */
export function embeddingPriceOf(model: string, price: ModelPrice): EmbeddingPrice {
  if (price.kind === 'text') return { kind: 'embedding', inputPer1M: price.inputPer1M };
  if (price.kind !== 'embedding') {
    throw new InvalidRequestError(`${model} is not an embedding model`, {
      code: 'model_not_supported',
      param: 'model',
    });
  }
  return price;
}

function quoteEmbedding(price: EmbeddingPrice, promptTokensMax: number): ReservationBounds {
  const amountNano = costOf(price, { kind: 'embedding', inputTokens: promptTokensMax }).totalNano;
  return { amountNano, minAmountNano: amountNano };
}

/** OpenAI's base64 encoding: the float32 little-endian bytes of the vector. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

export const embeddingsKind: RequestKind<EmbeddingBody, EmbeddingPrice, ReservationBounds, 'embedding'> = {
  path: '/embeddings',
  summary: 'Embeddings',
  schema: embeddingSchema,
  capability: 'embedding',
  veniceOnlyFields: [],
  promptTokensMax: (body) => textPromptTokensMax(body.input),
  maxTokens: () => null,
  priceOf: embeddingPriceOf,
  quote: (price, { admission }) => quoteEmbedding(price, admission.promptTokensMax),
  async serve({ request: { body }, call }) {
    const upstream: EmbeddingRequest = { model: body.model, input: body.input, encoding_format: 'float' };
    const result = await call((provider, options) => provider.embed(upstream, options));
    const data =
      body.encoding_format === 'base64'
        ? result.response.data.map((item) => ({ ...item, embedding: toBase64(item.embedding) }))
        : result.response.data;
    return {
      type: 'answer',
      answer: { type: 'json', body: { ...result.response, data } },
      usage: { kind: 'embedding', inputTokens: result.usage.promptTokens },
    };
  },
  tokensOf: (usage) => (usage.kind === 'embedding' ? usage.inputTokens : 0),
  deliveredOf: () => null,
};
