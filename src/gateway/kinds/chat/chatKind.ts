/** POST chat/completions: priced as text; streams with usage and cost in the final chunk. */
import { z } from 'zod';
import type { TextPrice } from '../../../core/pricing.ts';
import { gatewayLimits } from '../../limits.ts';
import { chatPromptTokensMax } from '../../metering/promptBound.ts';
import { type ChatCompletionRequest, requestedMaxTokens } from '../../providers/index.ts';
import type { RequestKind } from '../kind.ts';
import { maxTokens, sampling, streamOptionsIssue, streamOptionsNeedStream, veniceSampling } from '../text/sampling.ts';
import { deliveredText, lostText, serveText, type TextCalls, textTokensOf, withMaxTokens } from '../text/serveText.ts';
import { quoteText, type TextQuote, textPriceOf } from '../text/textQuote.ts';

const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const otherPart = z.looseObject({ type: z.enum(['image_url', 'input_audio', 'file', 'refusal']) });
const contentPart = z.union([textPart, otherPart]);

const message = z
  .looseObject({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(contentPart).max(256), z.null()]).optional(),
    name: z.string().min(1).max(256).optional(),
    tool_calls: z.array(z.looseObject({ id: z.string(), type: z.string() })).optional(),
    tool_call_id: z.string().optional(),
  })
  .refine((m) => m.role === 'assistant' || (m.content !== undefined && m.content !== null), {
    message: 'is required for this role',
    path: ['content'],
  });

/** Venice's own switches (web search, characters, thinking, its system prompt): none applies to perdiem's models. */
const veniceParameters = { venice_parameters: z.looseObject({}).nullable().optional() };

export const chatCompletionSchema = z
  .strictObject({
    ...sampling,
    messages: z.array(message).min(1, 'must hold at least one message').max(gatewayLimits.messagesMax),
    max_completion_tokens: maxTokens,
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.int().min(0).max(20).nullable().optional(),
    tools: z.array(z.looseObject({ type: z.string() })).optional(),
    tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]).optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    store: z.boolean().nullable().optional(),
    reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).nullable().optional(),
    service_tier: z.string().nullable().optional(),
    ...veniceParameters,
  })
  .refine(streamOptionsNeedStream, streamOptionsIssue);

export type ChatCompletionBody = z.infer<typeof chatCompletionSchema>;

const chatCalls: TextCalls<ChatCompletionBody, ChatCompletionRequest> = {
  toUpstream: (body, tokens) => withMaxTokens(body as ChatCompletionRequest, tokens),
  call: (provider, request, options) => provider.chat(request, options),
  stream: (provider, request, options) =>
    provider.streamChat({ ...request, stream: true, stream_options: { include_usage: true } }, options),
};

export const chatKind: RequestKind<ChatCompletionBody, TextPrice, TextQuote, 'chat'> = {
  path: '/chat/completions',
  summary: 'Chat completion (SSE with stream: true; usage and cost in the final chunk)',
  schema: chatCompletionSchema,
  capability: 'chat',
  veniceOnlyFields: Object.keys({ ...veniceSampling, ...veniceParameters }),
  promptTokensMax: (body) => chatPromptTokensMax(body.messages as ChatCompletionRequest['messages']),
  maxTokens: (body) => requestedMaxTokens(body as ChatCompletionRequest),
  priceOf: textPriceOf,
  quote: (price, { admission }) =>
    quoteText(price, admission.promptTokensMax, admission.requestedMaxTokens, admission.contextLength),
  serve: (run) => serveText(run, chatCalls),
  tokensOf: textTokensOf,
  deliveredOf: deliveredText,
  lostOf: lostText,
};
