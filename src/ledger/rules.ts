/**
 * Pure rules both adapters share: input validation, source choice, limit periods, charge allocation, journal
 * account names and cursors. The PostgreSQL adapter runs the same rules inside its PL/pgSQL functions; the
 * conformance suite holds the two to the same behaviour.
 */
import {
  AuthenticationError,
  ConflictError,
  IdempotencyMismatchError,
  InsufficientFundsError,
  InvalidRequestError,
  NotFoundError,
  PermissionError,
} from '../core/errors.ts';
import { formatUsd, minNano, type NanoUsd } from '../core/money.ts';
import { ledgerLimits } from './limits.ts';
import type {
  ApiKey,
  CreateKeyInput,
  FundingSource,
  KeyLimit,
  KeyLimitUsage,
  KeyRateLimits,
  LimitCurrency,
  LimitPeriod,
  Reservation,
  ReserveInput,
  SettleInput,
  SourceHeadroom,
  UpdateKeyInput,
  UsageLineInput,
} from './types.ts';
import { fundingSourceOrder, limitCovers } from './types.ts';

const limitCurrencies: readonly LimitCurrency[] = ['DIEM', 'USD', 'TOTAL'];
const limitPeriods: readonly LimitPeriod[] = ['EPOCH', 'MONTH', 'LIFETIME'];

/** The counter a limit of `period` reads: "EPOCH:20090", "MONTH:2025-01" or "LIFETIME". */
export function periodKeyOf(period: LimitPeriod, epoch: number, month: string): string {
  if (period === 'EPOCH') return `EPOCH:${epoch}`;
  if (period === 'MONTH') return `MONTH:${month}`;
  return 'LIFETIME';
}

/** Every period counter a reservation moves: a key's spend is always counted, so a limit added later sees it. */
export function periodKeysOf(epoch: number, month: string): [string, string, string] {
  return [`EPOCH:${epoch}`, `MONTH:${month}`, 'LIFETIME'];
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
    throw invalid('amountNano must be a non-negative bigint', 'amountNano');
  }
  if (typeof minAmountNano !== 'bigint' || minAmountNano < 0n || minAmountNano > input.amountNano) {
    throw invalid('minAmountNano must be between 0 and amountNano', 'minAmountNano');
  }
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > ledgerLimits.reservationTtlMsMax) {
    throw invalid(`ttlMs must be between 1 and ${ledgerLimits.reservationTtlMsMax}`, 'ttlMs');
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
    throw invalid(`ttlMs must be between 1 and ${ledgerLimits.reservationTtlMsMax}`, 'ttlMs');
  }
  return ttlMs;
}

export function validateSettleInput(input: SettleInput): NanoUsd {
  if (input.lines.length > ledgerLimits.usageLinesPerSettleMax) {
    throw invalid(`at most ${ledgerLimits.usageLinesPerSettleMax} usage lines`, 'lines');
  }
  let total = 0n;
  for (const line of input.lines) {
    if (typeof line.amountNano !== 'bigint' || line.amountNano < 0n)
      throw invalid('line amounts must be >= 0', 'lines');
    if (typeof line.unitPriceNano !== 'bigint' || line.unitPriceNano < 0n)
      throw invalid('unit prices must be >= 0', 'lines');
    if (!Number.isSafeInteger(line.units) || line.units < 0) throw invalid('units must be integers >= 0', 'lines');
    if (!Number.isSafeInteger(line.priceUnit) || line.priceUnit <= 0) throw invalid('priceUnit must be > 0', 'lines');
    checkText(line.sku, ledgerLimits.modelNameLengthMax, 'sku');
    total += line.amountNano;
  }
  if (input.latencyMs !== null && (!Number.isSafeInteger(input.latencyMs) || input.latencyMs < 0)) {
    throw invalid('latencyMs must be a non-negative integer or null', 'latencyMs');
  }
  if (input.response !== undefined) {
    // Refused rather than truncated: a cut answer replayed as if whole would be worse than none.
    if (typeof input.response !== 'string') throw invalid('response must be a string', 'response');
    if (Buffer.byteLength(input.response, 'utf8') > ledgerLimits.storedResponseBytesMax) {
      throw invalid(`a stored response is at most ${ledgerLimits.storedResponseBytesMax} bytes`, 'response');
    }
  }
  return total;
}

export function validateKeyInput(input: CreateKeyInput | UpdateKeyInput): void {
  if ('kind' in input && input.kind !== 'INFERENCE' && input.kind !== 'ADMIN') throw invalid('kind', 'kind');
  if (input.name !== undefined) checkText(input.name, 255, 'name');
  if (input.expiresAtMs != null && (!Number.isSafeInteger(input.expiresAtMs) || input.expiresAtMs < 0)) {
    throw invalid('expiresAtMs must be a unix time in ms', 'expiresAtMs');
  }
  if (input.allowedModels != null) {
    if (input.allowedModels.length > ledgerLimits.allowedModelsPerKeyMax)
      throw invalid('too many models', 'allowedModels');
    for (const model of input.allowedModels) checkText(model, ledgerLimits.modelNameLengthMax, 'allowedModels');
  }
  if (input.limits !== undefined) validateLimits(input.limits);
  if (input.rateLimits != null) validateRateLimits(input.rateLimits);
}

function validateRateLimits(rateLimits: KeyRateLimits): void {
  for (const field of ['requestsPerMinute', 'tokensPerMinute'] as const) {
    const value = rateLimits[field];
    if (value === null) continue;
    if (!Number.isSafeInteger(value) || value < 1 || value > ledgerLimits.keyRateLimitPerMinuteMax) {
      throw invalid(
        `rateLimits.${field} must be null or an integer from 1 to ${ledgerLimits.keyRateLimitPerMinuteMax}`,
        `rateLimits.${field}`,
      );
    }
  }
}

function validateLimits(limits: KeyLimit[]): void {
  if (limits.length > ledgerLimits.keyLimitsPerKeyMax) throw invalid('too many limits', 'limits');
  const seen = new Set<string>();
  for (const limit of limits) {
    if (!limitCurrencies.includes(limit.currency)) {
      throw invalid('limit currency must be DIEM, USD or TOTAL', 'limits');
    }
    if (!limitPeriods.includes(limit.period)) throw invalid('limit period must be EPOCH, MONTH or LIFETIME', 'limits');
    if (typeof limit.amountNano !== 'bigint' || limit.amountNano < 0n) throw invalid('limit must be >= 0', 'limits');
    const id = `${limit.currency}:${limit.period}`;
    if (seen.has(id)) throw invalid(`two ${id} limits`, 'limits');
    seen.add(id);
  }
}

/** The key may be used for `model` now, or a typed error says why not. */
export function checkKeyUsable(key: ApiKey | null, accountId: string, model: string | null, nowMs: number): ApiKey {
  if (!key || key.accountId !== accountId)
    throw new AuthenticationError('unknown API key', { code: 'invalid_api_key' });
  if (key.revokedAtMs !== null) throw new AuthenticationError('API key revoked', { code: 'api_key_revoked' });
  if (key.expiresAtMs !== null && key.expiresAtMs <= nowMs) {
    throw new AuthenticationError('API key expired', { code: 'api_key_expired' });
  }
  if (model !== null && key.allowedModels !== null && !key.allowedModels.includes(model)) {
    throw new PermissionError(`this key may not use ${model}`, { code: 'model_not_allowed', param: 'model' });
  }
  return key;
}

/** How much more a key may reserve per limit currency now; null: no limit in that currency. */
export type KeyHeadroom = Record<LimitCurrency, NanoUsd | null>;

/** No key, or a key without limits. */
export const noKeyHeadroom: Readonly<KeyHeadroom> = { DIEM: null, USD: null, TOTAL: null };

export function keyHeadroomOf(limits: { limit: KeyLimit; usedNano: NanoUsd }[]): KeyHeadroom {
  const headroom: KeyHeadroom = { ...noKeyHeadroom };
  for (const { limit, usedNano } of limits) {
    const left = limit.amountNano > usedNano ? limit.amountNano - usedNano : 0n;
    const current = headroom[limit.currency];
    headroom[limit.currency] = current === null ? left : minNano(current, left);
  }
  return headroom;
}

/** Each source's headroom: its balance, capped by every key limit that covers the source. */
export function headroomsOf(available: Record<FundingSource, NanoUsd>, keyHeadroom: KeyHeadroom): SourceHeadroom[] {
  return fundingSourceOrder.map((source) => {
    let headroomNano = available[source] > 0n ? available[source] : 0n;
    for (const currency of limitCurrencies) {
      const cap = keyHeadroom[currency];
      if (cap !== null && limitCovers(currency, source)) headroomNano = minNano(headroomNano, cap);
    }
    return { source, headroomNano };
  });
}

export function keyLimitUsageOf(
  limit: KeyLimit,
  periodKey: string,
  spentNano: NanoUsd,
  reservedNano: NanoUsd,
): KeyLimitUsage {
  const used = spentNano + reservedNano;
  return {
    ...limit,
    periodKey,
    spentNano,
    reservedNano,
    remainingNano: limit.amountNano > used ? limit.amountNano - used : 0n,
  };
}

/** What a limit in `currency` covers, for messages and help texts. */
export function limitCoverageOf(currency: LimitCurrency): string {
  if (currency === 'DIEM') return 'the DIEM allowance';
  if (currency === 'USD') return 'credits and the USD balance';
  return 'every source';
}

export function limitPeriodPhrase(period: LimitPeriod): string {
  if (period === 'EPOCH') return 'for the epoch';
  if (period === 'MONTH') return 'for the month';
  return "over the key's lifetime";
}

/**
 * The 402 for a request the balance would cover but the key's limits do not. It names, for each source whose balance
 * covers the request, the limit that stops it there (the covering limit with the least left).
 */
export function keyLimitExceededError(
  usage: KeyLimitUsage[],
  available: Record<FundingSource, NanoUsd>,
  amountNano: NanoUsd,
  minAmountNano: NanoUsd,
): InsufficientFundsError {
  const blocking: KeyLimitUsage[] = [];
  for (const source of fundingSourceOrder) {
    if (available[source] < minAmountNano) continue;
    let tightest: KeyLimitUsage | null = null;
    for (const limit of usage) {
      if (!limitCovers(limit.currency, source) || limit.remainingNano >= minAmountNano) continue;
      if (!tightest || limit.remainingNano < tightest.remainingNano) tightest = limit;
    }
    if (tightest && !blocking.includes(tightest)) blocking.push(tightest);
  }
  const described = blocking.map(
    (l) =>
      `${l.currency} limit ${limitPeriodPhrase(l.period)} ($${formatUsd(l.amountNano)}, covering ` +
      `${limitCoverageOf(l.currency)}) has $${formatUsd(l.remainingNano)} left`,
  );
  const needs =
    minAmountNano < amountNano ? `at least $${formatUsd(minAmountNano)}` : `up to $${formatUsd(amountNano)}`;
  const message =
    described.length === 0
      ? `this key's spend limits do not cover the request, which needs ${needs}`
      : `this key's ${described.join(', and its ')}; the request needs ${needs}`;
  return new InsufficientFundsError(message, { code: 'key_limit_exceeded', param: null });
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

/** The error for a reservation no source could pay: a key limit when the balance alone would have covered it. */
export function reserveRefusal(
  available: Record<FundingSource, NanoUsd>,
  amountNano: NanoUsd,
  minAmountNano: NanoUsd,
  usage: KeyLimitUsage[],
): InsufficientFundsError {
  const balanceCovers = fundingSourceOrder.some((source) => available[source] >= minAmountNano);
  return balanceCovers
    ? keyLimitExceededError(usage, available, amountNano, minAmountNano)
    : new InsufficientFundsError('insufficient balance', { code: 'insufficient_balance' });
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
 * digests: the same model, and a reservation the new bounds would accept, else 409.
 */
export function replayOf(existing: Reservation, input: ReserveInput): Reservation {
  const hash = input.requestHash ?? null;
  const hashesDiffer = hash !== null && existing.requestHash !== null && hash !== existing.requestHash;
  if (existing.keyId !== input.keyId || hashesDiffer) {
    throw new IdempotencyMismatchError('this idempotency key was already used for a different request', {
      code: 'idempotency_key_mismatch',
      param: null,
    });
  }
  if (hash !== null && hash === existing.requestHash) return existing;
  const min = input.minAmountNano ?? input.amountNano;
  const sameBounds = existing.amountNano <= input.amountNano && existing.amountNano >= min;
  if (existing.model !== input.model || !sameBounds) {
    throw new ConflictError('idempotency key reused for a different request', {
      code: 'idempotency_key_reused',
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

export function encodeCursor(createdAtMs: number, id: string): string {
  return Buffer.from(`${createdAtMs}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAtMs: number; id: bigint } {
  const match = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw invalid('invalid cursor', 'cursor');
  return { createdAtMs: Number(match[1]), id: BigInt(match[2]!) };
}

export function pageSizeOf(limit: number | undefined): number {
  const size = limit ?? ledgerLimits.usageHistoryPageSizeDefault;
  if (!Number.isSafeInteger(size) || size < 1 || size > ledgerLimits.usageHistoryPageSizeMax) {
    throw invalid(`limit must be between 1 and ${ledgerLimits.usageHistoryPageSizeMax}`, 'limit');
  }
  return size;
}

/** An allowance is set for a whole epoch, never below zero; a caller passing less is a programmer error. */
export function validateAllowance(epoch: number, allowanceNano: NanoUsd): void {
  if (allowanceNano < 0n || !Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError('invalid allowance');
}

/** A legacy snapshot block is claimed for an epoch; a negative one is a programmer error. */
export function validateSnapshotBlock(epoch: number, blockNumber: bigint): void {
  if (blockNumber < 0n || !Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError('invalid snapshot block');
}

/** A wallet's allowance counts only for the account it is linked to: an unlinked wallet has none. */
export function walletNotLinked(): NotFoundError {
  return new NotFoundError('wallet is not linked to an account', { code: 'wallet_not_found', param: 'address' });
}

export function normaliseWallet(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw invalid('not an EVM address', 'address');
  return address.toLowerCase();
}

function checkText(value: string, lengthMax: number, param: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > lengthMax) {
    throw invalid(`${param} must be 1 to ${lengthMax} characters`, param);
  }
}

function invalid(message: string, param: string): InvalidRequestError {
  return new InvalidRequestError(message, { code: 'invalid_request', param });
}
