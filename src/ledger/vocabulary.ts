/** The words every ledger capability shares: funding sources, limit currencies and periods, statuses. */
/** Spend order: the first single source that can cover the reservation pays for it. */
export type FundingSource = 'DIEM' | 'CREDITS' | 'USD';
export const fundingSourceOrder: readonly FundingSource[] = ['DIEM', 'CREDITS', 'USD'];

/**
 * What a key limit covers. Venice's rule: a DIEM limit covers spend from the DIEM allowance; a USD limit covers spend
 * from credits and the USD balance. TOTAL is a perdiem extension: it covers spend from every source ($1 of inference
 * is one unit whichever source pays it).
 */
export type LimitCurrency = 'DIEM' | 'USD' | 'TOTAL';
/** The class a source's spend is recorded in (usage rows, analytics): DIEM, or USD for credits and USD. */
export type SpendCurrency = 'DIEM' | 'USD';
export type LimitPeriod = 'EPOCH' | 'MONTH' | 'LIFETIME';
export type KeyKind = 'INFERENCE' | 'ADMIN';
export type ReservationStatus = 'RESERVED' | 'SETTLED' | 'VOIDED' | 'EXPIRED';

export function limitCurrencyOf(source: FundingSource): SpendCurrency {
  return source === 'DIEM' ? 'DIEM' : 'USD';
}

/** Whether a limit in `currency` counts spend from `source`. */
export function limitCovers(currency: LimitCurrency, source: FundingSource): boolean {
  return currency === 'TOTAL' || currency === limitCurrencyOf(source);
}

export const limitCurrencies: readonly LimitCurrency[] = ['DIEM', 'USD', 'TOTAL'];
export const limitPeriods: readonly LimitPeriod[] = ['EPOCH', 'MONTH', 'LIFETIME'];
