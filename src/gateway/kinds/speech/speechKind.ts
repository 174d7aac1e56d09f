/**
 * POST audio/speech (OpenAI's text to speech): priced per 1M characters of `input`. The quote is exact (the input is
 * known before anything runs), and a request that got its audio is charged the same count; the answer is the
 * upstream's audio bytes with the upstream's content type. Characters are Unicode code points.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../../core/errors.ts';
import { costOf, type ModelPrice, type SpeechPrice, type Usage } from '../../../core/pricing.ts';
import type { SpeechRequest } from '../../providers/index.ts';
import { modelId } from '../../validate/schemas.ts';
import type { RequestKind, ReservationBounds } from '../kind.ts';

/** OpenAI's limit on `input`. */
export const speechInputCharactersMax = 4096;

export const speechSchema = z.strictObject({
  model: modelId,
  input: z.string().min(1, 'must not be empty').max(speechInputCharactersMax),
  voice: z.string().min(1, 'must name a voice').max(64),
  instructions: z.string().max(speechInputCharactersMax).optional(),
  response_format: z.enum(['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']).optional(),
  speed: z.number().min(0.25).max(4).optional(),
});

export type SpeechBody = z.infer<typeof speechSchema>;

export function speechPriceOf(model: string, price: ModelPrice): SpeechPrice {
  if (price.kind !== 'speech') {
    throw new InvalidRequestError(`${model} is not priced as a speech model`, {
      code: 'model_not_supported',
      param: 'model',
    });
  }
  return price;
}

function speechUsage(body: SpeechBody): Usage {
  return { kind: 'speech', characters: [...body.input].length };
}

export const speechKind: RequestKind<SpeechBody, SpeechPrice, ReservationBounds, 'speech'> = {
  path: '/audio/speech',
  summary: 'Text to speech (through an OpenAI-compatible upstream; answers audio bytes)',
  schema: speechSchema,
  capability: 'speech',
  veniceOnlyFields: [],
  promptTokensMax: () => 0,
  maxTokens: () => null,
  priceOf: speechPriceOf,
  quote(price, { body }) {
    const amountNano = costOf(price, speechUsage(body)).totalNano;
    return { amountNano, minAmountNano: amountNano };
  },
  async serve({ request: { body }, call }) {
    const upstream: SpeechRequest = body;
    const result = await call((provider, options) => {
      if (!provider.speech) {
        throw new InvalidRequestError(`${provider.id} does not serve speech`, {
          code: 'model_not_supported',
          param: 'model',
        });
      }
      return provider.speech(upstream, options);
    });
    const base64 = Buffer.from(result.audio).toString('base64');
    return {
      type: 'answer',
      answer: { type: 'bytes', contentType: result.contentType, base64 },
      usage: speechUsage(body),
    };
  },
  tokensOf: () => 0,
  deliveredOf: () => null,
};
