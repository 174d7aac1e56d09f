/**
 * Key limits in the API's two shapes. Venice's: `consumptionLimit: {usd, diem}` with `limitPeriod` (EPOCH, MONTH or
 * LIFETIME; EPOCH when absent), where `usd` covers spend from credits and the USD balance and `diem` covers the DIEM
 * allowance (`vcu`, Venice's legacy name for DIEM, counts as `diem` when `diem` is absent). perdiem's extension:
 * `limits: [{currency, period, amount}]`, where currency TOTAL covers every source.
 */
import { InvalidRequestError } from '../../core/errors.ts';
import { formatUsd, nanoUsdToNumber, parseUsd } from '../../core/money.ts';
import {
  type FundingSource,
  fundingSourceOrder,
  type KeyLimit,
  type KeyLimitUsage,
  type LimitCurrency,
  type LimitPeriod,
  limitCovers,
} from '../../ledger/types.ts';

type Amount = string | number;

export interface KeyLimitFields {
  consumptionLimit?: { usd?: Amount | null; diem?: Amount | null; vcu?: Amount | null } | undefined;
  limitPeriod?: LimitPeriod | undefined;
  limits?: { currency: LimitCurrency; period: LimitPeriod; amount: Amount }[] | undefined;
}

/** The sources a limit in `currency` covers, for messages and views. */
export function coveredSources(currency: LimitCurrency): FundingSource[] {
  return fundingSourceOrder.filter((source) => limitCovers(currency, source));
}

export function amountNano(value: Amount, param: string): bigint {
  const text = typeof value === 'number' ? String(value) : value;
  if (!/^\d+(\.\d{1,9})?$/.test(text)) {
    throw new InvalidRequestError(`${param} must be a non-negative decimal with at most 9 places, got ${text}`, {
      code: 'invalid_value',
      param,
    });
  }
  return parseUsd(text);
}

/** The limits a create or update body asks for; undefined when it names none (an update then keeps the key's). */
export function limitsOf(body: KeyLimitFields): KeyLimit[] | undefined {
  if (body.limits === undefined && body.consumptionLimit === undefined && body.limitPeriod === undefined) {
    return undefined;
  }
  const limits: KeyLimit[] = (body.limits ?? []).map((limit, i) => ({
    currency: limit.currency,
    period: limit.period,
    amountNano: amountNano(limit.amount, `limits[${i}].amount`),
  }));
  const period = body.limitPeriod ?? 'EPOCH';
  const venice = body.consumptionLimit;
  if (venice?.usd != null) {
    limits.push({ currency: 'USD', period, amountNano: amountNano(venice.usd, 'consumptionLimit.usd') });
  }
  const diem = venice?.diem ?? venice?.vcu;
  if (diem != null) {
    const param = venice?.diem != null ? 'consumptionLimit.diem' : 'consumptionLimit.vcu';
    limits.push({ currency: 'DIEM', period, amountNano: amountNano(diem, param) });
  }
  const seen = new Set<string>();
  for (const limit of limits) {
    const name = `${limit.currency}:${limit.period}`;
    if (seen.has(name)) {
      throw new InvalidRequestError(`two ${limit.currency} limits for the period ${limit.period}`, {
        code: 'invalid_value',
        param: 'limits',
      });
    }
    seen.add(name);
  }
  return limits;
}

/** Venice's view of a key's limits: the USD and DIEM limits of one period (the first such limit's). */
export function veniceLimitsView(limits: readonly KeyLimit[]) {
  const venice = limits.filter((limit) => limit.currency !== 'TOTAL');
  const period = venice[0]?.period ?? null;
  const amountIn = (currency: LimitCurrency) => {
    const limit = venice.find((l) => l.currency === currency && l.period === period);
    return limit === undefined ? null : nanoUsdToNumber(limit.amountNano);
  };
  return { consumptionLimits: { usd: amountIn('USD'), diem: amountIn('DIEM') }, limitPeriod: period };
}

/** perdiem's view of each limit: what it covers and, when known, what the key used and has left this period. */
export function limitView(limit: KeyLimit | KeyLimitUsage) {
  const used =
    'remainingNano' in limit
      ? {
          periodKey: limit.periodKey,
          spent: formatUsd(limit.spentNano),
          reserved: formatUsd(limit.reservedNano),
          remaining: formatUsd(limit.remainingNano),
        }
      : {};
  return {
    currency: limit.currency,
    period: limit.period,
    amount: formatUsd(limit.amountNano),
    covers: coveredSources(limit.currency),
    ...used,
  };
}

/** The `x-perdiem-key-limit-remaining` header: "DIEM:EPOCH=0.25, TOTAL:MONTH=4.5" (USD decimals). */
export function remainingHeader(usage: readonly KeyLimitUsage[]): string {
  return usage.map((limit) => `${limit.currency}:${limit.period}=${formatUsd(limit.remainingNano)}`).join(', ');
}
