/**
 * The OpenAI inference routes. Each handler is the tail of the chain
 * requestId → auth → validate → rateLimit → quote → reserve → provider → meter → settle,
 * with settle/void in a `finally` (the SSE body owns that `finally` once a stream has started).
 */
import { type Context, Hono } from 'hono';
import {
  ClientClosedError,
  InvalidRequestError,
  PerdiemError,
  StreamInterruptedError,
  type TokenUsage,
} from '../../core/errors.ts';
import type { ModelPrice, Usage as PricedUsage } from '../../core/pricing.ts';
import type { Admission, GatewayDeps, GatewayEnv } from '../env.ts';
import { gatewayLimits } from '../limits.ts';
import { costObjectOf, type Meter, openMeter, type Replay, textUsage } from '../metering/meter.ts';
import { chatPromptTokensMax, textPromptTokensMax } from '../metering/promptBound.ts';
import {
  embeddingPriceOf,
  imagePriceOf,
  quoteEmbedding,
  quoteImages,
  quoteText,
  textPriceOf,
  upstreamMaxTokens,
} from '../metering/quote.ts';
import { requestDigest } from '../metering/requestDigest.ts';
import { encodeAnswer } from '../metering/storedAnswer.ts';
import { noteBalanceBeforeHold } from '../middleware/balance.ts';
import { noteKeyLimits } from '../middleware/keyLimitHeaders.ts';
import { correctTokens, rateLimitMiddleware } from '../middleware/rateLimit.ts';
import { validateInference } from '../middleware/validate.ts';
import {
  type ChatCompletionRequest,
  type CompletionRequest,
  type EmbeddingRequest,
  type ImageGenerationRequest,
  type Provider,
  type ProviderStream,
  requestedMaxTokens,
} from '../providers/index.ts';
import {
  type ChatCompletionBody,
  type CompletionBody,
  chatCompletionSchema,
  completionSchema,
  type EmbeddingBody,
  embeddingSchema,
  type ImageGenerationBody,
  imageGenerationSchema,
} from '../validate/schemas.ts';
import { withFailover } from './failover.ts';
import { replayAnswer } from './replay.ts';
import { respond, respondJson } from './respond.ts';
import { sseBody, sseHeaders } from './sse.ts';

/** The answer to keep with the charge, for an idempotent request (undefined when it is too large to keep). */
function keptAnswer(meter: Meter, body: object): string | undefined {
  return meter.keepsAnswer ? encodeAnswer({ type: 'json', body }) : undefined;
}

type C = Context<GatewayEnv>;

function priceOf(deps: GatewayDeps, model: string): ModelPrice {
  const price = deps.prices.priceAt(model, deps.clock());
  if (price === null) {
    throw new InvalidRequestError(`model ${model} has no price; it cannot be served`, {
      code: 'model_not_priced',
      param: 'model',
    });
  }
  return price;
}

/**
 * The request's idempotency key: the client's Idempotency-Key with the digest of what it asks, or else the request id
 * (never retried, so there is nothing to compare or keep).
 */
function idempotencyOf(c: C): { idempotencyKey: string; requestHash: string | null } {
  const header = c.req.header('idempotency-key');
  if (header === undefined) return { idempotencyKey: c.get('requestId'), requestHash: null };
  if (header.length === 0 || header.length > gatewayLimits.idempotencyKeyLengthMax) {
    throw new InvalidRequestError(`Idempotency-Key must be 1 to ${gatewayLimits.idempotencyKeyLengthMax} characters`, {
      code: 'invalid_idempotency_key',
    });
  }
  return { idempotencyKey: header, requestHash: requestDigest(c.req.path, c.get('body')) };
}

async function reserve(
  deps: GatewayDeps,
  c: C,
  price: ModelPrice,
  bounds: { amountNano: bigint; minAmountNano: bigint },
): Promise<Meter | Replay> {
  const opened = await openMeter(deps, {
    principal: c.get('principal'),
    requestId: c.get('requestId'),
    ...idempotencyOf(c),
    model: c.get('admission').model,
    price,
    bounds,
    startedAt: c.get('startedAt'),
    log: c.get('log'),
  });
  if (opened.replayed) return opened;
  try {
    await noteBalanceBeforeHold(deps, c, opened.reservation, opened.availableAfterHold);
    await noteKeyLimits(deps, c);
  } catch (error) {
    // Nothing has run yet: release the hold (a live gateway renews its holds, so none may be left behind).
    await opened.finish(null);
    throw error;
  }
  return opened;
}

/**
 * The client's signal (it went away) joined with the gateway's own (the SSE body was cancelled): the client's abort
 * is forwarded to the gateway's controller rather than joined with `AbortSignal.any` (a composite signal per request).
 */
function callSignal(c: C, abort: AbortController): AbortSignal {
  const client = c.req.raw.signal;
  if (client.aborted) abort.abort(client.reason);
  else client.addEventListener('abort', () => abort.abort(client.reason), { once: true });
  return abort.signal;
}

function noteFailure(deps: GatewayDeps) {
  return (provider: Provider, error: unknown) => {
    const code = error instanceof PerdiemError ? error.code : 'internal_error';
    deps.metrics.observeUpstreamError(code);
    deps.logger.warn({ provider: provider.id, code }, 'provider call failed');
  };
}

function deliveredOf(error: unknown): TokenUsage | null {
  if (error instanceof StreamInterruptedError || error instanceof ClientClosedError) return error.delivered;
  return null;
}

interface TextCalls<TReq, TRes, TChunk> {
  toUpstream(body: unknown, maxTokens: number): TReq;
  call(
    provider: Provider,
    request: TReq,
    signal: AbortSignal,
    requestId: string,
  ): Promise<{ response: TRes; usage: TokenUsage }>;
  stream(provider: Provider, request: TReq, signal: AbortSignal, requestId: string): Promise<ProviderStream<TChunk>>;
}

async function runText<TReq, TRes extends object, TChunk extends { usage?: unknown }>(
  deps: GatewayDeps,
  c: C,
  calls: TextCalls<TReq, TRes, TChunk>,
): Promise<Response> {
  const admission: Admission = c.get('admission');
  // quote
  const price = textPriceOf(admission.model, priceOf(deps, admission.model));
  const quote = quoteText(price, admission.promptTokensMax, admission.requestedMaxTokens, admission.contextLength);
  // reserve
  const meter = await reserve(deps, c, price, quote);
  if (meter.replayed) return await replayAnswer(deps, c, meter);
  const abort = new AbortController();
  let usage: TokenUsage | null = null;
  let handedOff = false;
  try {
    const request = calls.toUpstream(c.get('body'), upstreamMaxTokens(quote, meter.reservation.amountNano));
    const signal = callSignal(c, abort);
    const requestId = c.get('requestId');
    // provider
    if (admission.stream) {
      const stream = await withFailover(
        admission.providers,
        (provider) => calls.stream(provider, request, signal, requestId),
        noteFailure(deps),
      );
      handedOff = true;
      c.get('log').stream = true;
      const body = sseBody(stream, {
        meter,
        abort,
        onDone: (delivered, outcome) => streamDone(deps, c, delivered, outcome),
      });
      return respond(c, body, sseHeaders);
    }
    const result = await withFailover(
      admission.providers,
      (provider) => calls.call(provider, request, signal, requestId),
      noteFailure(deps),
    );
    usage = result.usage;
    // meter + settle
    const settled = await meter.settle(textUsage(usage), keptAnswer(meter, result.response));
    return respondJson(c, { ...result.response, cost: costObjectOf(settled) });
  } catch (error) {
    usage = deliveredOf(error) ?? usage;
    throw error;
  } finally {
    if (!handedOff) {
      await meter.finish(usage === null ? null : textUsage(usage));
      await correctTokens(deps, c, usage === null ? 0 : usage.promptTokens + usage.completionTokens);
    }
  }
}

function streamDone(deps: GatewayDeps, c: C, delivered: TokenUsage, outcome: string): void {
  const log = c.get('log');
  log.outcome = outcome;
  log.promptTokens = delivered.promptTokens;
  log.completionTokens = delivered.completionTokens;
  void correctTokens(deps, c, delivered.promptTokens + delivered.completionTokens);
  const latencyMs = performance.now() - c.get('startedAt');
  deps.metrics.observeRequest({ route: c.req.routePath, status: 200, latencyMs });
  deps.logger.info(
    { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: 200, latencyMs, ...log },
    'request',
  );
}

const chatCalls: TextCalls<ChatCompletionRequest, object, { usage?: unknown }> = {
  toUpstream: (body, maxTokens) => withMaxTokens(body as ChatCompletionRequest, maxTokens),
  call: (provider, request, signal, requestId) => provider.chat(request, { signal, requestId }),
  stream: (provider, request, signal, requestId) =>
    provider.streamChat({ ...request, stream: true, stream_options: { include_usage: true } }, { signal, requestId }),
};

const completionCalls: TextCalls<CompletionRequest, object, { usage?: unknown }> = {
  toUpstream: (body, maxTokens) => withMaxTokens(body as CompletionRequest, maxTokens),
  call: (provider, request, signal, requestId) => provider.complete(request, { signal, requestId }),
  stream: (provider, request, signal, requestId) =>
    provider.streamCompletion(
      { ...request, stream: true, stream_options: { include_usage: true } },
      { signal, requestId },
    ),
};

/** The upstream request bounded by what was reserved; the client's max_tokens when it gave one. */
function withMaxTokens<T extends ChatCompletionRequest | CompletionRequest>(body: T, maxTokens: number): T {
  const request: T = { ...body, max_tokens: maxTokens };
  if ('max_completion_tokens' in request) delete request.max_completion_tokens;
  if (!body.stream) delete request.stream_options;
  return request;
}

async function runEmbedding(deps: GatewayDeps, c: C): Promise<Response> {
  const admission = c.get('admission');
  const body = c.get('body') as EmbeddingBody;
  const price = embeddingPriceOf(admission.model, priceOf(deps, admission.model));
  const meter = await reserve(deps, c, price, quoteEmbedding(price, admission.promptTokensMax));
  if (meter.replayed) return await replayAnswer(deps, c, meter);
  let usage: PricedUsage | null = null;
  try {
    const request: EmbeddingRequest = { model: body.model, input: body.input, encoding_format: 'float' };
    const signal = c.req.raw.signal;
    const result = await withFailover(
      admission.providers,
      (provider) => provider.embed(request, { signal, requestId: c.get('requestId') }),
      noteFailure(deps),
    );
    usage = { kind: 'embedding', inputTokens: result.usage.promptTokens };
    const data =
      body.encoding_format === 'base64'
        ? result.response.data.map((item) => ({ ...item, embedding: toBase64(item.embedding) }))
        : result.response.data;
    const answer = { ...result.response, data };
    const settled = await meter.settle(usage, keptAnswer(meter, answer));
    return respondJson(c, { ...answer, cost: costObjectOf(settled) });
  } finally {
    await meter.finish(usage);
    await correctTokens(deps, c, usage?.inputTokens ?? 0);
  }
}

/** OpenAI's base64 encoding: the float32 little-endian bytes of the vector. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/**
 * Images are quoted and reserved for the `n` asked (at the size and quality asked), and charged for the images the
 * upstream returned. `size` and `quality` travel upstream as given; an unpriced size is refused before anything is
 * reserved.
 */
async function runImages(deps: GatewayDeps, c: C): Promise<Response> {
  const admission = c.get('admission');
  const body = c.get('body') as ImageGenerationBody;
  const price = imagePriceOf(admission.model, priceOf(deps, admission.model));
  const asked = body.n ?? 1;
  const size = body.size ?? undefined;
  const quality = body.quality ?? undefined;
  const meter = await reserve(deps, c, price, quoteImages(price, asked, size, quality));
  if (meter.replayed) return await replayAnswer(deps, c, meter);
  let usage: PricedUsage | null = null;
  try {
    const request = { ...body, n: asked } as ImageGenerationRequest;
    const result = await withFailover(
      admission.providers,
      (provider) => {
        if (!provider.generateImages) {
          throw new InvalidRequestError(`${provider.id} does not generate images`, {
            code: 'model_not_supported',
            param: 'model',
          });
        }
        return provider.generateImages(request, { signal: c.req.raw.signal, requestId: c.get('requestId') });
      },
      noteFailure(deps),
    );
    usage = {
      kind: 'image',
      images: result.images,
      ...(size ? { resolution: size } : {}),
      ...(quality ? { quality } : {}),
    };
    const settled = await meter.settle(usage, keptAnswer(meter, result.response));
    return respondJson(c, { ...result.response, cost: costObjectOf(settled) });
  } finally {
    await meter.finish(usage);
  }
}

export function inferenceRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const limit = rateLimitMiddleware(deps);

  const chat = validateInference(deps, {
    schema: chatCompletionSchema,
    capability: 'chat',
    promptTokensMax: (body: ChatCompletionBody) =>
      chatPromptTokensMax(body.messages as ChatCompletionRequest['messages']),
    maxTokens: (body) => requestedMaxTokens(body as ChatCompletionRequest),
  });
  const completion = validateInference(deps, {
    schema: completionSchema,
    capability: 'completion',
    promptTokensMax: (body: CompletionBody) => textPromptTokensMax(body.prompt),
    maxTokens: (body) => requestedMaxTokens(body as CompletionRequest),
  });
  const embedding = validateInference(deps, {
    schema: embeddingSchema,
    capability: 'embedding',
    promptTokensMax: (body: EmbeddingBody) => textPromptTokensMax(body.input),
    maxTokens: () => null,
  });
  const images = validateInference(deps, {
    schema: imageGenerationSchema,
    capability: 'image',
    promptTokensMax: () => 0,
    maxTokens: () => null,
  });

  app.post('/chat/completions', chat, limit, (c) => runText(deps, c, chatCalls));
  app.post('/completions', completion, limit, (c) => runText(deps, c, completionCalls));
  app.post('/embeddings', embedding, limit, (c) => runEmbedding(deps, c));
  app.post('/images/generations', images, limit, (c) => runImages(deps, c));
  return app;
}
