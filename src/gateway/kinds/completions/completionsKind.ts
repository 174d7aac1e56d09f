/** POST completions: priced as text; streams like chat. */
import { z } from 'zod';
import type { TextPrice } from '../../../core/pricing.ts';
import { gatewayLimits } from '../../limits.ts';
import { textPromptTokensMax } from '../../metering/promptBound.ts';
import { type CompletionRequest, requestedMaxTokens } from '../../providers/index.ts';
import type { RequestKind } from '../kind.ts';
import { sampling, streamOptionsIssue, streamOptionsNeedStream, veniceSampling } from '../text/sampling.ts';
import { deliveredText, lostText, serveText, type TextCalls, textTokensOf, withMaxTokens } from '../text/serveText.ts';
import { quoteText, type TextQuote, textPriceOf } from '../text/textQuote.ts';

const promptText = z.string().max(gatewayLimits.requestBodyBytesMax);

export const completionSchema = z
  .strictObject({
    ...sampling,
    prompt: z.union([promptText, z.array(promptText).min(1, 'must hold at least one prompt').max(1)]),
    echo: z.literal(false, 'must be false: echo is not supported').nullable().optional(),
    best_of: z.literal(1, 'must be 1: only best_of = 1 is supported').nullable().optional(),
    logprobs: z.null().optional(),
    suffix: z.null().optional(),
  })
  .refine(streamOptionsNeedStream, streamOptionsIssue);

export type CompletionBody = z.infer<typeof completionSchema>;

const completionCalls: TextCalls<CompletionBody, CompletionRequest> = {
  toUpstream: (body, tokens) => withMaxTokens(body as CompletionRequest, tokens),
  call: (provider, request, options) => provider.complete(request, options),
  stream: (provider, request, options) =>
    provider.streamCompletion({ ...request, stream: true, stream_options: { include_usage: true } }, options),
};

export const completionsKind: RequestKind<CompletionBody, TextPrice, TextQuote, 'completion'> = {
  path: '/completions',
  summary: 'Text completion',
  schema: completionSchema,
  capability: 'completion',
  veniceOnlyFields: Object.keys(veniceSampling),
  promptTokensMax: (body) => textPromptTokensMax(body.prompt),
  maxTokens: (body) => requestedMaxTokens(body as CompletionRequest),
  priceOf: textPriceOf,
  quote: (price, { admission }) =>
    quoteText(price, admission.promptTokensMax, admission.requestedMaxTokens, admission.contextLength),
  serve: (run) => serveText(run, completionCalls),
  tokensOf: textTokensOf,
  deliveredOf: deliveredText,
  lostOf: lostText,
};
