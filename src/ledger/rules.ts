/**
 * Pure rules both adapters share: input validation, source choice, limit periods, charge allocation, journal
 * account names and cursors. The PostgreSQL adapter runs the same rules inside its PL/pgSQL functions; the
 * conformance suite holds the two to the same behaviour.
 */
import {
  AuthenticationError,
  ConflictError,
  InsufficientFundsError,
  InvalidRequestError,
  PermissionError,
} from '../core/errors.ts';
import { minNano, type NanoUsd } from '../core/money.ts';
import { ledgerLimits } from './limits.ts';
import type {
  ApiKey,
  CreateKeyInput,
  FundingSource,
  KeyLimit,
  LimitCurrency,
  LimitPeriod,
  Reservation,
  ReserveInput,
  SettleInput,
  SourceHeadroom,
  UpdateKeyInput,
  UsageLineInput,
} from './types.ts';
import { fundingSourceOrder, limitCurrencyOf } from './types.ts';

const limitCurrencies: readonly LimitCurrency[] = ['DIEM', 'USD'];
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
  return { amountNano: input.amountNano, minAmountNano, ttlMs };
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
}

function validateLimits(limits: KeyLimit[]): void {
  if (limits.length > ledgerLimits.keyLimitsPerKeyMax) throw invalid('too many limits', 'limits');
  const seen = new Set<string>();
  for (const limit of limits) {
    if (!limitCurrencies.includes(limit.currency)) throw invalid('limit currency must be USD or DIEM', 'limits');
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

export function keyHeadroomOf(limits: { limit: KeyLimit; usedNano: NanoUsd }[]): KeyHeadroom {
  const headroom: KeyHeadroom = { DIEM: null, USD: null };
  for (const { limit, usedNano } of limits) {
    const left = limit.amountNano > usedNano ? limit.amountNano - usedNano : 0n;
    const current = headroom[limit.currency];
    headroom[limit.currency] = current === null ? left : minNano(current, left);
  }
  return headroom;
}

/** Each source's headroom: its balance, capped by the key's limit in that source's currency. */
export function headroomsOf(available: Record<FundingSource, NanoUsd>, keyHeadroom: KeyHeadroom): SourceHeadroom[] {
  return fundingSourceOrder.map((source) => {
    const cap = keyHeadroom[limitCurrencyOf(source)];
    const raw = available[source] > 0n ? available[source] : 0n;
    return { source, headroomNano: cap === null ? raw : minNano(raw, cap) };
  });
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
  minAmountNano: NanoUsd,
): InsufficientFundsError {
  const balanceCovers = fundingSourceOrder.some((source) => available[source] >= minAmountNano);
  return balanceCovers
    ? new InsufficientFundsError('this API key has reached its spend limit', { code: 'key_limit_exceeded' })
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

/** A retry must be the same request: same key, same model, and a reservation the new bounds would accept. */
export function replayOf(existing: Reservation, input: ReserveInput): Reservation {
  const min = input.minAmountNano ?? input.amountNano;
  const sameBounds = existing.amountNano <= input.amountNano && existing.amountNano >= min;
  if (existing.keyId !== input.keyId || existing.model !== input.model || !sameBounds) {
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
