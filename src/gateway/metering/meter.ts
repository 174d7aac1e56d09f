/**
 * Reserve → settle/void for one request. `openMeter` holds the quoted maximum; `settle` charges the priced usage
 * (capped at the reservation by the ledger); `finish` runs in every `finally` and settles what was delivered or
 * voids, exactly once, so no path leaves a reservation behind.
 */
import { ConflictError, InsufficientFundsError, type TokenUsage } from '../../core/errors.ts';
import { type NanoUsd, nanoUsdToNumber } from '../../core/money.ts';
import { costOf, isEmptyUsage, type ModelPrice, type Usage as PricedUsage } from '../../core/pricing.ts';
import type { ChargeRecord, SignedReceipt } from '../../core/receipt.ts';
import type { FundingSource, Reservation, ReserveResult } from '../../ledger/types.ts';
import type { GatewayDeps, Principal, RequestLog } from '../env.ts';
import { gatewayLimits } from '../limits.ts';
import { chargeRecordOf } from '../receipts/chargeReceipt.ts';
import { decodeAnswer, type StoredAnswer } from './storedAnswer.ts';

/** The cost object in every non-streaming response and the final streamed chunk. 1 DIEM pays for $1. */
export interface CostObject {
  usd: number;
  diem: number;
  /** Exact amount charged, nano-USD, as a decimal string. */
  nanoUsd: string;
  source: Reservation['source'];
}

export function costObjectOf(reservation: Reservation): CostObject {
  const charged = reservation.chargedNano ?? 0n;
  return {
    usd: nanoUsdToNumber(charged),
    diem: nanoUsdToNumber(charged),
    nanoUsd: charged.toString(),
    source: reservation.source,
  };
}

/** The most a request may cost: the ledger holds as much as one source can, between the two. */
export interface ReservationBounds {
  amountNano: NanoUsd;
  minAmountNano: NanoUsd;
}

export interface Meter {
  readonly replayed: false;
  readonly reservation: Reservation;
  /** True for an idempotent request: its answer is kept with the charge (pass it to `settle`). */
  readonly keepsAnswer: boolean;
  /** What each source had available right after the hold, when the ledger reported it with the reservation. */
  readonly availableAfterHold: Record<FundingSource, NanoUsd> | undefined;
  /** The tightest remaining budget after the hold (key, project, organization or source), when the ledger said. */
  readonly headroom: ReserveResult['headroom'];
  /**
   * Prices `usage` and charges it; returns the settled reservation. `answer` (an encoded StoredAnswer, only when
   * `keepsAnswer`) is stored in the same transaction, for replays.
   */
  settle(usage: PricedUsage, answer?: string): Promise<Reservation>;
  /** Settles `usage` when something was delivered and nothing was settled yet, else voids. Never throws. */
  finish(usage: PricedUsage | null): Promise<void>;
  /** The signed receipt of the settle, once settled; undefined before, or when the gateway signs none. */
  receipt(): Promise<SignedReceipt | undefined>;
  /**
   * Voids the reservation, recording `usage` (at list price, charged 0) as the operator's loss, when nothing was
   * settled yet; a plain void when `usage` is null or empty. Never throws.
   */
  lose(usage: PricedUsage | null): Promise<void>;
}

/** A retry of an idempotent request that already finished: its kept answer, charged once. */
export interface Replay {
  readonly replayed: true;
  readonly reservation: Reservation;
  readonly answer: StoredAnswer;
}

export interface MeterRequest {
  principal: Principal;
  requestId: string;
  /** The client's Idempotency-Key, or the request id. */
  idempotencyKey: string;
  /** With an Idempotency-Key: the request's digest (a retry with another body is refused), and the answer is kept. */
  requestHash: string | null;
  model: string;
  price: ModelPrice;
  bounds: ReservationBounds;
  startedAt: number;
  log: RequestLog;
  /** The keccak256 of the price sheet `price` comes from, kept with the charge for its receipt. */
  priceSheetHash?: string | null;
}

/**
 * The priced text usage of a token count: each token on one line. The upstream's prompt_tokens include the cache
 * reads and writes and its completion_tokens the reasoning (extractUsage clamps the parts to their wholes), so the
 * parts are taken out of the input and output lines rather than added to them.
 */
export function textUsage(usage: TokenUsage): PricedUsage {
  const cacheRead = usage.cachedPromptTokens ?? 0;
  const cacheWrite = usage.cacheWritePromptTokens ?? 0;
  const reasoning = usage.reasoningTokens ?? 0;
  return {
    kind: 'text',
    inputTokens: usage.promptTokens - cacheRead - cacheWrite,
    outputTokens: usage.completionTokens - reasoning,
    ...(cacheRead > 0 ? { cacheReadTokens: cacheRead } : {}),
    ...(cacheWrite > 0 ? { cacheWriteTokens: cacheWrite } : {}),
    ...(reasoning > 0 ? { reasoningTokens: reasoning } : {}),
  };
}

/**
 * Who pays for a text request that ended before its answer was whole (a client that went away, an upstream that
 * failed). The client pays for what reached it: by the upstream's own count when it reported one (`billed`: its
 * usage comes with or after the chunks it counts, which were delivered), else by the gateway's count; and nothing
 * before its first output token, when the reservation is voided. The work nobody paid for is then the operator's
 * loss: the upstream's billed usage, else the prompt once a stream had started (the engine or upstream had read it),
 * else nothing.
 */
export function earlyEndOf(
  delivered: TokenUsage,
  billed: TokenUsage | null,
): { charge: PricedUsage } | { lose: PricedUsage | null } {
  if (delivered.completionTokens > 0) return { charge: textUsage(billed ?? delivered) };
  if (billed !== null) return { lose: textUsage(billed) };
  if (delivered.promptTokens === 0) return { lose: null };
  return {
    lose: textUsage({ promptTokens: delivered.promptTokens, completionTokens: 0, estimated: delivered.estimated }),
  };
}

/** Finishes a text meter by `earlyEndOf`. Never throws. */
export async function finishEarly(meter: Meter, delivered: TokenUsage, billed: TokenUsage | null): Promise<void> {
  const end = earlyEndOf(delivered, billed);
  await ('charge' in end ? meter.finish(end.charge) : meter.lose(end.lose));
}

/** Prompt and completion tokens of a priced text usage, parts included (as the upstream counted them). */
function textCounts(usage: Extract<PricedUsage, { kind: 'text' }>): [number, number] {
  const prompt = usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
  return [prompt, usage.outputTokens + (usage.reasoningTokens ?? 0)];
}

/**
 * Reserves the request's maximum. A reservation refused for lack of funds is tried once more after the account's
 * on-chain allowance is re-read (a stake the allowance feed has not seen yet must not cost the caller a 402).
 */
async function reserve(deps: GatewayDeps, request: MeterRequest) {
  const input = {
    accountId: request.principal.accountId,
    keyId: request.principal.key.id,
    idempotencyKey: request.idempotencyKey,
    requestId: request.requestId,
    requestHash: request.requestHash,
    model: request.model,
    amountNano: request.bounds.amountNano,
    minAmountNano: request.bounds.minAmountNano,
    ttlMs: gatewayLimits.reservationTtlMs,
  };
  try {
    return await deps.ledger.reserve(input);
  } catch (error) {
    const lacksFunds = error instanceof InsufficientFundsError && error.code === 'insufficient_balance';
    if (!lacksFunds || !deps.refreshAllowance || !(await deps.refreshAllowance(input.accountId))) throw error;
    return await deps.ledger.reserve(input);
  }
}

/**
 * Stripe's rules for a key that was seen before (the ledger has already refused another body under it, with a 422):
 * still running → 409; finished with its answer kept → that answer; finished without one → 409, charged once.
 * An attempt that died without an answer left no live reservation (its hold was voided or expired), so its retry
 * reserves and runs again.
 */
function replayOf(reservation: Reservation, response: string | null | undefined): Replay {
  if (reservation.status === 'RESERVED') {
    throw new ConflictError('a request with this Idempotency-Key is still in progress; retry when it has finished', {
      code: 'idempotency_request_in_progress',
      // OpenAI's SDKs retry a 409 by themselves; `x-should-retry` tells them so explicitly, and when not to.
      headers: { 'retry-after': '1', 'x-should-retry': 'true' },
    });
  }
  if (response == null) {
    throw new ConflictError(
      'the request with this Idempotency-Key has finished and was charged once, but its answer was not kept (it was ' +
        'cut off or too large to keep); use a new Idempotency-Key to ask again',
      { code: 'idempotency_answer_not_kept', headers: { 'x-should-retry': 'false' } },
    );
  }
  return { replayed: true, reservation, answer: decodeAnswer(response) };
}

export async function openMeter(deps: GatewayDeps, request: MeterRequest): Promise<Meter | Replay> {
  const { reservation, replayed, available, response, headroom } = await reserve(deps, request);
  if (replayed) return replayOf(reservation, response);
  let done = false;
  let settled: Reservation | null = null;
  let charge: ChargeRecord | null = null;

  const settle = async (usage: PricedUsage, answer?: string): Promise<Reservation> => {
    const cost = costOf(request.price, usage);
    const result = await deps.ledger.settle({
      reservationId: reservation.id,
      lines: cost.lines,
      latencyMs: Math.round(performance.now() - request.startedAt),
      ...(answer !== undefined && request.requestHash !== null ? { response: answer } : {}),
      ...(request.priceSheetHash ? { priceSheetHash: request.priceSheetHash } : {}),
    });
    settled = result.reservation;
    charge = chargeRecordOf(settled, cost.lines, request.priceSheetHash ?? null);
    done = true;
    const charged = settled.chargedNano ?? 0n;
    request.log.costNano = charged.toString();
    request.log.source = settled.source;
    const [prompt, completion] = usage.kind === 'text' ? textCounts(usage) : [0, 0];
    if (usage.kind === 'text') {
      request.log.promptTokens = prompt;
      request.log.completionTokens = completion;
    }
    deps.metrics.observeCharge(request.model, settled.source, charged, prompt, completion);
    return settled;
  };

  const finish = async (usage: PricedUsage | null): Promise<void> => {
    if (done) return;
    try {
      if (usage !== null && !isEmptyUsage(usage)) await settle(usage);
      else await deps.ledger.void(reservation.id);
      done = true;
    } catch (error) {
      // The reservation's TTL still releases it; say so loudly.
      deps.logger.error(
        { requestId: request.requestId, reservationId: reservation.id, err: error },
        'settle failed; reservation left to expire',
      );
    }
  };

  const lose = async (usage: PricedUsage | null): Promise<void> => {
    if (done) return;
    if (usage === null || isEmptyUsage(usage)) return await finish(null);
    try {
      const cost = costOf(request.price, usage);
      const latencyMs = Math.round(performance.now() - request.startedAt);
      await deps.ledger.void(reservation.id, { lines: cost.lines, latencyMs });
      done = true;
      request.log.costNano = '0';
      request.log.lossNano = cost.totalNano.toString();
    } catch (error) {
      deps.logger.error(
        { requestId: request.requestId, reservationId: reservation.id, err: error },
        'void with operator loss failed; reservation left to expire',
      );
    }
  };

  return {
    replayed: false,
    reservation,
    keepsAnswer: request.requestHash !== null,
    availableAfterHold: available,
    headroom,
    settle,
    finish,
    lose,
    receipt: async () => (charge && deps.receipts ? await deps.receipts.sign(charge) : undefined),
  };
}
