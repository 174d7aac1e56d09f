/**
 * One flow for every request kind, after validate and rateLimit:
 * quote → reserve → provider → meter → settle, with settle/void in a `finally` (a stream's body owns that `finally`
 * once it has started).
 */
import type { Context } from 'hono';
import { InvalidRequestError, PerdiemError } from '../../core/errors.ts';
import { isEmptyUsage, type ModelPrice, type Usage } from '../../core/pricing.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { gatewayLimits } from '../limits.ts';
import { costObjectOf, type Meter, openMeter, type Replay } from '../metering/meter.ts';
import { requestDigest } from '../metering/requestDigest.ts';
import { encodeAnswer } from '../metering/storedAnswer.ts';
import { noteBalanceBeforeHold, noteHeadroom } from '../middleware/balance.ts';
import { noteKeyLimits } from '../middleware/keyLimitHeaders.ts';
import { correctTokens } from '../middleware/rateLimit.ts';
import type { Provider } from '../providers/index.ts';
import { noteReceipt } from '../receipts/receiptHeader.ts';
import { priceSheetHashAt } from '../receipts/sheetHashes.ts';
import { withFailover } from '../routes/failover.ts';
import { replayAnswer } from '../routes/replay.ts';
import { respondAnswer } from '../routes/respond.ts';
import type { Admitted, Answer, RequestKind, ReservationBounds, Run } from './kind.ts';

type C = Context<GatewayEnv>;

function modelPriceOf(deps: GatewayDeps, model: string, atMs: number): ModelPrice {
  const price = deps.prices.priceAt(model, atMs);
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
function idempotencyOf(c: C, body: unknown): { idempotencyKey: string; requestHash: string | null } {
  const header = c.req.header('idempotency-key');
  if (header === undefined) return { idempotencyKey: c.get('requestId'), requestHash: null };
  if (header.length === 0 || header.length > gatewayLimits.idempotencyKeyLengthMax) {
    throw new InvalidRequestError(`Idempotency-Key must be 1 to ${gatewayLimits.idempotencyKeyLengthMax} characters`, {
      code: 'invalid_idempotency_key',
    });
  }
  return { idempotencyKey: header, requestHash: requestDigest(c.req.path, body) };
}

async function reserve(
  deps: GatewayDeps,
  c: C,
  request: Admitted<unknown>,
  price: ModelPrice,
  bounds: ReservationBounds,
  priceSheetHash: string | null,
): Promise<Meter | Replay> {
  const opened = await openMeter(deps, {
    principal: c.get('principal'),
    requestId: c.get('requestId'),
    ...idempotencyOf(c, request.body),
    model: request.admission.model,
    price,
    bounds,
    startedAt: c.get('startedAt'),
    log: c.get('log'),
    priceSheetHash,
  });
  if (opened.replayed) return opened;
  try {
    await noteBalanceBeforeHold(deps, c, opened.reservation, opened.availableAfterHold);
    noteHeadroom(c, opened.headroom);
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

/** The answer to keep with the charge, for an idempotent request (undefined when it is too large to keep). */
function keptAnswer(meter: Meter, answer: Answer): string | undefined {
  return meter.keepsAnswer ? encodeAnswer(answer) : undefined;
}

export async function runKind<B extends { model: string }, P extends ModelPrice, Q extends ReservationBounds>(
  deps: GatewayDeps,
  c: C,
  kind: RequestKind<B, P, Q>,
  request: Admitted<B>,
): Promise<Response> {
  const { model, providers } = request.admission;
  // The price and its sheet's hash are read from one book at one time, before anything awaits.
  const pricedAtMs = deps.clock();
  const price = kind.priceOf(model, modelPriceOf(deps, model, pricedAtMs));
  const priceSheetHash = priceSheetHashAt(deps.prices.current(), pricedAtMs);
  const quote = kind.quote(price, request);
  const meter = await reserve(deps, c, request, price, quote, priceSheetHash);
  if (meter.replayed) return await replayAnswer(deps, c, meter);
  const abort = new AbortController();
  const options = { signal: callSignal(c, abort), requestId: c.get('requestId') };
  const run: Run<B, Q> = {
    deps,
    c,
    request,
    quote,
    meter,
    abort,
    call: (fn) => withFailover(providers, (provider) => fn(provider, options), noteFailure(deps)),
  };
  let usage: Usage | null = null;
  // What an upstream billed with a failure that delivered nothing: voided with it as the operator's loss.
  let lost: Usage | null = null;
  let handedOff = false;
  try {
    const served = await kind.serve(run);
    if (served.type === 'handedOff') {
      handedOff = true;
      return served.response;
    }
    usage = served.usage;
    const settled = await meter.settle(usage, keptAnswer(meter, served.answer));
    noteReceipt(c, await meter.receipt());
    return respondAnswer(c, served.answer, costObjectOf(settled));
  } catch (error) {
    usage = kind.deliveredOf(error) ?? usage;
    lost = kind.lostOf?.(error) ?? null;
    throw error;
  } finally {
    if (!handedOff) {
      if (lost !== null && (usage === null || isEmptyUsage(usage))) await meter.lose(lost);
      else await meter.finish(usage);
      await correctTokens(deps, c, usage === null ? 0 : kind.tokensOf(usage));
    }
  }
}
