/**
 * Pure key-limit rules both adapters share: how much a key's limits leave per source, what a limit has used, and the
 * 402 that names the limit in the way.
 */
import { InsufficientFundsError } from '../../core/errors.ts';
import { formatUsd, minNano, type NanoUsd } from '../../core/money.ts';
import type { KeyLimit, KeyLimitUsage } from '../accounts/accountsLedger.ts';
import {
  type FundingSource,
  fundingSourceOrder,
  type LimitCurrency,
  type LimitPeriod,
  limitCovers,
  limitCurrencies,
} from '../vocabulary.ts';
import type { SourceHeadroom } from './meteringLedger.ts';

/** The header of every 402 a reservation refusal answers: the level that refused (key, project, organization, source). */
export const refusedByHeader = 'x-perdiem-refused-by';

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
  return new InsufficientFundsError(message, {
    code: 'key_limit_exceeded',
    param: null,
    headers: { [refusedByHeader]: 'key' },
  });
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
    : new InsufficientFundsError('insufficient balance', {
        code: 'insufficient_balance',
        headers: { [refusedByHeader]: 'source' },
      });
}
