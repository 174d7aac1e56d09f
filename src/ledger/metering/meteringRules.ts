/**
 * Pure metering rules both adapters share: reserve and settle input, source choice, the charge cap and its spread
 * over usage lines, replays, journal account names and limit period keys. The PostgreSQL adapter runs the same rules
 * inside its PL/pgSQL functions; the conformance suite holds the two to the same behaviour.
 */
import { ConflictError, IdempotencyMismatchError } from '../../core/errors.ts';
import { minNano, type NanoUsd } from '../../core/money.ts';
import { checkText, invalidInput } from '../inputChecks.ts';
import { ledgerLimits } from '../limits.ts';
import type { FundingSource, LimitPeriod } from '../vocabulary.ts';
import type {
  OperatorLoss,
  Reservation,
  ReserveInput,
  SettleInput,
  SourceHeadroom,
  UsageLineInput,
} from './meteringLedger.ts';
import { replayRefusalCodes, replayVerdictOf } from './replayRule.ts';

/** The counter a limit of `period` reads: "EPOCH:20090", "MONTH:2025-01" or "LIFETIME". */
export function periodKeyOf(period: LimitPeriod, epoch: number, month: string): string {
  if (period === 'EPOCH') return `EPOCH:${epoch}`;
  if (period === 'MONTH') return `MONTH:${month}`;
  return 'LIFETIME';
}

let lastPeriodKeys: { epoch: number; month: string; keys: readonly [string, string, string] } | null = null;

/**
 * Every period counter a reservation moves: a key's spend is always counted, so a limit added later sees it. The
 * same strings while the epoch and month stay, so that the hot path's lookups by period key compare them at once.
 */
export function periodKeysOf(epoch: number, month: string): readonly [string, string, string] {
  if (lastPeriodKeys?.epoch === epoch && lastPeriodKeys.month === month) return lastPeriodKeys.keys;
  const keys = [
    periodKeyOf('EPOCH', epoch, month),
    periodKeyOf('MONTH', epoch, month),
    periodKeyOf('LIFETIME', epoch, month),
  ] as const;
  lastPeriodKeys = { epoch, month, keys };
  return keys;
}

const periodIndex: Record<LimitPeriod, 0 | 1 | 2> = { EPOCH: 0, MONTH: 1, LIFETIME: 2 };

/** `periodKeyOf`, as one of the strings `periodKeysOf` returns. */
export function sharedPeriodKeyOf(period: LimitPeriod, epoch: number, month: string): string {
  return periodKeysOf(epoch, month)[periodIndex[period]];
}

export interface ResolvedReserve {
  amountNano: NanoUsd;
  minAmountNano: NanoUsd;
  ttlMs: number;
  /** `input.requestId`, else the idempotency key. */
  requestId: string;
  requestHash: string | null;
}

export function validateReserveInput(input: ReserveInput): ResolvedReserve {
  const minAmountNano = input.minAmountNano ?? input.amountNano;
  const ttlMs = input.ttlMs ?? ledgerLimits.reservationTtlMsDefault;
  if (typeof input.amountNano !== 'bigint' || input.amountNano < 0n) {
    throw invalidInput('amountNano must be a non-negative bigint', 'amountNano');
  }
  if (typeof minAmountNano !== 'bigint' || minAmountNano < 0n || minAmountNano > input.amountNano) {
    throw invalidInput('minAmountNano must be between 0 and amountNano', 'minAmountNano');
  }
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > ledgerLimits.reservationTtlMsMax) {
    throw invalidInput(`ttlMs must be between 1 and ${ledgerLimits.reservationTtlMsMax}`, 'ttlMs');
  }
  checkText(input.idempotencyKey, ledgerLimits.idempotencyKeyLengthMax, 'idempotencyKey');
  checkText(input.model, ledgerLimits.modelNameLengthMax, 'model');
  const requestId = input.requestId ?? input.idempotencyKey;
  checkText(requestId, ledgerLimits.idempotencyKeyLengthMax, 'requestId');
  const requestHash = input.requestHash ?? null;
  if (requestHash !== null) checkText(requestHash, ledgerLimits.requestHashLengthMax, 'requestHash');
  return { amountNano: input.amountNano, minAmountNano, ttlMs, requestId, requestHash };
}

/** The TTL a renewal pushes holds to: the same bounds as a reservation's. */
export function validateHoldTtl(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > ledgerLimits.reservationTtlMsMax) {
    throw invalidInput(`ttlMs must be between 1 and ${ledgerLimits.reservationTtlMsMax}`, 'ttlMs');
  }
  return ttlMs;
}

/** A void's operator loss: the same checks as a settle's lines; returns their list total. */
export function validateLoss(loss: OperatorLoss): NanoUsd {
  return validateSettleInput({ reservationId: '', lines: loss.lines, latencyMs: loss.latencyMs });
}

export function validateSettleInput(input: SettleInput): NanoUsd {
  if (input.lines.length > ledgerLimits.usageLinesPerSettleMax) {
    throw invalidInput(`at most ${ledgerLimits.usageLinesPerSettleMax} usage lines`, 'lines');
  }
  let total = 0n;
  for (const line of input.lines) {
    if (typeof line.amountNano !== 'bigint' || line.amountNano < 0n)
      throw invalidInput('line amounts must be >= 0', 'lines');
    if (typeof line.unitPriceNano !== 'bigint' || line.unitPriceNano < 0n)
      throw invalidInput('unit prices must be >= 0', 'lines');
    if (!Number.isSafeInteger(line.units) || line.units < 0) throw invalidInput('units must be integers >= 0', 'lines');
    if (!Number.isSafeInteger(line.priceUnit) || line.priceUnit <= 0)
      throw invalidInput('priceUnit must be > 0', 'lines');
    checkText(line.sku, ledgerLimits.modelNameLengthMax, 'sku');
    total += line.amountNano;
  }
  if (input.latencyMs !== null && (!Number.isSafeInteger(input.latencyMs) || input.latencyMs < 0)) {
    throw invalidInput('latencyMs must be a non-negative integer or null', 'latencyMs');
  }
  if (input.response !== undefined) {
    // Refused rather than truncated: a cut answer replayed as if whole would be worse than none.
    if (typeof input.response !== 'string') throw invalidInput('response must be a string', 'response');
    if (Buffer.byteLength(input.response, 'utf8') > ledgerLimits.storedResponseBytesMax) {
      throw invalidInput(`a stored response is at most ${ledgerLimits.storedResponseBytesMax} bytes`, 'response');
    }
  }
  if (input.priceSheetHash !== undefined && !/^0x[0-9a-f]{64}$/.test(input.priceSheetHash)) {
    throw invalidInput('priceSheetHash must be 0x and 64 lower-case hex digits', 'priceSheetHash');
  }
  return total;
}

/**
 * The spend order: the first source that covers `amountNano` pays it all. Failing that (flexible reservations only),
 * the source with the most headroom pays all its headroom if that covers `minAmountNano`; ties go to the earlier
 * source. Null: no single source can pay.
 */
export function chooseSource(
  headrooms: SourceHeadroom[],
  amountNano: NanoUsd,
  minAmountNano: NanoUsd,
): { source: FundingSource; amountNano: NanoUsd } | null {
  for (const h of headrooms) if (h.headroomNano >= amountNano) return { source: h.source, amountNano };
  let best: SourceHeadroom | null = null;
  for (const h of headrooms) if (!best || h.headroomNano > best.headroomNano) best = h;
  if (best && best.headroomNano >= minAmountNano) return { source: best.source, amountNano: best.headroomNano };
  return null;
}

/** Caps the charge at the reservation; the excess is the operator's loss. */
export function capCharge(reservedNano: NanoUsd, actualNano: NanoUsd): { chargedNano: NanoUsd; lossNano: NanoUsd } {
  const chargedNano = minNano(reservedNano, actualNano);
  return { chargedNano, lossNano: actualNano - chargedNano };
}

/** Spreads a capped charge over the lines in order, so that usage rows sum to exactly what was charged. */
export function allocateCharge(lines: UsageLineInput[], chargedNano: NanoUsd): NanoUsd[] {
  let left = chargedNano;
  return lines.map((line) => {
    const amount = minNano(line.amountNano, left);
    left -= amount;
    return amount;
  });
}

/**
 * A retry must be the same request (Stripe's rule). Another key, or another request digest when both attempts carry
 * one, is a different request: 422, nothing changes. The same digest replays, whatever the new bounds. Without
 * digests: the same model, and a reservation the new bounds would accept, else 409 (the rule: replayRule.ts).
 */
export function replayOf(existing: Reservation, input: ReserveInput): Reservation {
  const verdict = replayVerdictOf(existing, {
    keyId: input.keyId,
    requestHash: input.requestHash ?? null,
    model: input.model,
    amountNano: input.amountNano,
    minAmountNano: input.minAmountNano ?? input.amountNano,
  });
  if (verdict === 'mismatch') {
    throw new IdempotencyMismatchError('this idempotency key was already used for a different request', {
      code: replayRefusalCodes.mismatch,
      param: null,
    });
  }
  if (verdict === 'reused') {
    throw new ConflictError('idempotency key reused for a different request', {
      code: replayRefusalCodes.reused,
      param: 'Idempotency-Key',
    });
  }
  return existing;
}

export const operatorRevenue = 'operator:revenue';

export const operatorLoss = 'operator:loss';

/** The journal account holding one funding source of one account (DIEM allowances are per epoch). */
export function ledgerAccountOf(accountId: string, source: FundingSource, epoch: number): string {
  if (source === 'DIEM') return `account:${accountId}:diem:${epoch}`;
  return `account:${accountId}:${source === 'CREDITS' ? 'credits' : 'usd'}`;
}

/** Where funding comes from: the counter-account of a top-up, grant or allowance. */
export function fundingAccountOf(source: FundingSource): string {
  if (source === 'DIEM') return 'external:diem_staking';
  return source === 'CREDITS' ? 'external:credit_grants' : 'external:usd_deposits';
}
