/**
 * Serving a chat or a completion: the upstream request bounded by what was reserved, then either the whole answer
 * (charged its usage) or a stream handed to the SSE body, which settles what it delivered when it ends.
 */
import type { Context } from 'hono';
import { billedOf, ClientClosedError, StreamInterruptedError, type TokenUsage } from '../../../core/errors.ts';
import { textTokensOf as tokensOfText, type Usage } from '../../../core/pricing.ts';
import type { GatewayDeps, GatewayEnv } from '../../env.ts';
import { textUsage } from '../../metering/meter.ts';
import { correctTokens } from '../../middleware/rateLimit.ts';
import type {
  CallOptions,
  ChatCompletionRequest,
  CompletionRequest,
  Provider,
  ProviderStream,
} from '../../providers/index.ts';
import { respond } from '../../routes/respond.ts';
import { sseBody, sseHeaders } from '../../routes/sse.ts';
import type { Run, Served } from '../kind.ts';
import { type TextQuote, upstreamMaxTokens } from './textQuote.ts';

/** How one text kind talks to a provider. */
export interface TextCalls<B, TReq> {
  toUpstream(body: B, maxTokens: number): TReq;
  call(provider: Provider, request: TReq, options: CallOptions): Promise<{ response: object; usage: TokenUsage }>;
  stream(provider: Provider, request: TReq, options: CallOptions): Promise<ProviderStream<{ usage?: unknown }>>;
}

export async function serveText<B, TReq>(run: Run<B, TextQuote>, calls: TextCalls<B, TReq>): Promise<Served> {
  const { c, request, meter } = run;
  const upstream = calls.toUpstream(request.body, upstreamMaxTokens(run.quote, meter.reservation.amountNano));
  if (request.admission.stream) {
    const stream = await run.call((provider, options) => calls.stream(provider, upstream, options));
    c.get('log').stream = true;
    const body = sseBody(stream, {
      meter,
      abort: run.abort,
      onDone: (delivered, outcome) => streamDone(run.deps, c, delivered, outcome),
    });
    return { type: 'handedOff', response: respond(c, body, sseHeaders) };
  }
  const result = await run.call((provider, options) => calls.call(provider, upstream, options));
  return { type: 'answer', answer: { type: 'json', body: result.response }, usage: textUsage(result.usage) };
}

function streamDone(deps: GatewayDeps, c: Context<GatewayEnv>, delivered: TokenUsage, outcome: string): void {
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

/** What an upstream billed with a failure that delivered nothing: the operator's loss (`earlyEndOf`). */
export function lostText(error: unknown): Usage | null {
  const billed = billedOf(error);
  return billed === null ? null : textUsage(billed);
}

/** A text call cut off after its first byte is charged for what it delivered. */
export function deliveredText(error: unknown): Usage | null {
  if (error instanceof StreamInterruptedError || error instanceof ClientClosedError) return textUsage(error.delivered);
  return null;
}

export function textTokensOf(usage: Usage): number {
  return usage.kind === 'text' ? tokensOfText(usage) : 0;
}

/** The upstream request bounded by what was reserved; the client's max_tokens when it gave one. */
export function withMaxTokens<T extends ChatCompletionRequest | CompletionRequest>(body: T, maxTokens: number): T {
  const request: T = { ...body, max_tokens: maxTokens };
  if ('max_completion_tokens' in request) delete request.max_completion_tokens;
  if (!body.stream) delete request.stream_options;
  return request;
}
