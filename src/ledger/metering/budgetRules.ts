/**
 * Pure budget-tree rules both adapters share: a request must fit every level (key → project → organization →
 * funding source). Each level caps the sources per limit currency as a key limit does (`limitCovers`); a source's
 * headroom is the least of its balance and every covering cap of every level. A refusal names the tightest level
 * that blocks, the headroom after a hold the tightest level left. The PostgreSQL adapter runs the same rules from
 * the SQL that ruleSql.ts generates out of these declarations.
 */
import { InsufficientFundsError } from '../../core/errors.ts';
import { formatUsd, minNano, type NanoUsd } from '../../core/money.ts';
import type { KeyLimitUsage } from '../accounts/accountsLedger.ts';
import type { BudgetLevel, BudgetPeriod } from '../teams/teamsLedger.ts';
import {
  type FundingSource,
  fundingSourceOrder,
  type LimitCurrency,
  limitCovers,
  limitCurrencies,
  type SpendCurrency,
} from '../vocabulary.ts';
import {
  type KeyHeadroom,
  keyLimitExceededError,
  limitCoverageOf,
  noKeyHeadroom,
  refusedByHeader,
} from './keyLimitRules.ts';

export { refusedByHeader };

/** The levels that cap sources, in the order that breaks ties (a refusal or a headroom names the earliest). */
export type CapLevel = Exclude<BudgetLevel, 'source'>;
export const capLevels: readonly CapLevel[] = ['key', 'project', 'organization'];

/** What each cap level leaves per limit currency; null: no cap in that currency at that level. */
export type LevelCaps = Record<CapLevel, KeyHeadroom>;

export const noLevelCaps: Readonly<LevelCaps> = {
  key: noKeyHeadroom,
  project: noKeyHeadroom,
  organization: noKeyHeadroom,
};

/** Spend classes a budget in `currency` reads from budget_spend: its class, or both for TOTAL. */
export const spendClasses: readonly SpendCurrency[] = ['DIEM', 'USD'];
const classesByCurrency: Record<LimitCurrency, readonly SpendCurrency[]> = {
  DIEM: ['DIEM'],
  USD: ['USD'],
  TOTAL: spendClasses,
};
export function budgetClassesOf(currency: LimitCurrency): readonly SpendCurrency[] {
  return classesByCurrency[currency];
}

/** A project's or an organization's budget with what its scope used (spent + reserved) in the current period. */
export interface BudgetUse {
  level: 'project' | 'organization';
  currency: LimitCurrency;
  period: BudgetPeriod;
  amountNano: NanoUsd;
  usedNano: NanoUsd;
}

/** The refusal code of each level (`x-perdiem-refused-by` names the level). */
export const refusalCodes: Record<BudgetLevel, string> = {
  key: 'key_limit_exceeded',
  project: 'project_budget_exceeded',
  organization: 'organization_budget_exceeded',
  source: 'insufficient_balance',
};

/** What budgets of one level leave per currency (the tightest of each currency). */
export function budgetCapsOf(budgets: BudgetUse[], level: BudgetUse['level']): KeyHeadroom {
  const caps: KeyHeadroom = { ...noKeyHeadroom };
  for (const b of budgets) {
    if (b.level !== level) continue;
    const left = b.amountNano > b.usedNano ? b.amountNano - b.usedNano : 0n;
    const current = caps[b.currency];
    caps[b.currency] = current === null ? left : minNano(current, left);
  }
  return caps;
}

/** Every level's caps folded into one per currency: the least any level leaves. */
export function combinedCaps(levels: LevelCaps): KeyHeadroom {
  const caps: KeyHeadroom = { ...noKeyHeadroom };
  for (const level of capLevels) {
    for (const currency of limitCurrencies) {
      const cap = levels[level][currency];
      const current = caps[currency];
      if (cap !== null) caps[currency] = current === null ? cap : minNano(current, cap);
    }
  }
  return caps;
}

/** The least a level's caps leave on `source` (every covering currency); null: the level does not cap it. */
export function levelCapOf(caps: KeyHeadroom, source: FundingSource): NanoUsd | null {
  let least: NanoUsd | null = null;
  for (const currency of limitCurrencies) {
    const cap = caps[currency];
    if (cap !== null && limitCovers(currency, source)) least = least === null ? cap : minNano(least, cap);
  }
  return least;
}

/**
 * The level that refuses a request no source could pay: among the sources whose balance covers the minimum, the
 * level whose cap there is the least below the minimum (ties to the earlier level); 'source' when no balance covers.
 */
export function refusalLevelOf(
  available: Record<FundingSource, NanoUsd>,
  levels: LevelCaps,
  minAmountNano: NanoUsd,
): BudgetLevel {
  let level: BudgetLevel = 'source';
  let tightest: NanoUsd | null = null;
  for (const l of capLevels) {
    for (const source of fundingSourceOrder) {
      if (available[source] < minAmountNano) continue;
      const cap = levelCapOf(levels[l], source);
      if (cap === null || cap >= minAmountNano) continue;
      if (tightest === null || cap < tightest) [tightest, level] = [cap, l];
    }
  }
  return level;
}

/**
 * The tightest remaining amount right after a hold of `amountNano` on `source`: every level's caps covering it
 * (less the hold) and what the source has left; ties to the earlier level (key, project, organization, source).
 */
export function headroomAfterHold(
  levels: LevelCaps,
  availableAfter: Record<FundingSource, NanoUsd>,
  source: FundingSource,
  amountNano: NanoUsd,
): { level: BudgetLevel; remainingNano: NanoUsd } {
  let best: { level: BudgetLevel; remainingNano: NanoUsd } | null = null;
  for (const level of capLevels) {
    const cap = levelCapOf(levels[level], source);
    if (cap !== null && (best === null || cap - amountNano < best.remainingNano)) {
      best = { level, remainingNano: cap - amountNano };
    }
  }
  const left = availableAfter[source] > 0n ? availableAfter[source] : 0n;
  if (best === null || left < best.remainingNano) best = { level: 'source', remainingNano: left };
  return best;
}

const periodPhrase = (period: BudgetPeriod) => (period === 'EPOCH' ? 'for the epoch' : 'for the month');

/** The 402 of a project or organization budget: the tightest blocking budget of that level, named. */
export function budgetExceededError(
  level: BudgetUse['level'],
  budgets: BudgetUse[],
  available: Record<FundingSource, NanoUsd>,
  amountNano: NanoUsd,
  minAmountNano: NanoUsd,
): InsufficientFundsError {
  let tightest: BudgetUse | null = null;
  const left = (b: BudgetUse) => (b.amountNano > b.usedNano ? b.amountNano - b.usedNano : 0n);
  for (const b of budgets) {
    if (b.level !== level || left(b) >= minAmountNano) continue;
    if (!fundingSourceOrder.some((s) => available[s] >= minAmountNano && limitCovers(b.currency, s))) continue;
    if (!tightest || left(b) < left(tightest)) tightest = b;
  }
  const needs =
    minAmountNano < amountNano ? `at least $${formatUsd(minAmountNano)}` : `up to $${formatUsd(amountNano)}`;
  const whose = level === 'project' ? "this key's project" : "this key's organization";
  const message = tightest
    ? `${whose} ${tightest.currency} budget ${periodPhrase(tightest.period)} ($${formatUsd(tightest.amountNano)}, ` +
      `covering ${limitCoverageOf(tightest.currency)}) has $${formatUsd(left(tightest))} left; the request needs ${needs}`
    : `${whose} budgets do not cover the request, which needs ${needs}`;
  return new InsufficientFundsError(message, {
    code: refusalCodes[level],
    param: null,
    headers: { [refusedByHeader]: level },
  });
}

/** The 402 of a refused reservation, naming its level (code and `x-perdiem-refused-by`). */
export function treeRefusal(
  level: BudgetLevel,
  available: Record<FundingSource, NanoUsd>,
  amountNano: NanoUsd,
  minAmountNano: NanoUsd,
  keyUsage: KeyLimitUsage[],
  budgets: BudgetUse[],
): InsufficientFundsError {
  if (level === 'project' || level === 'organization') {
    return budgetExceededError(level, budgets, available, amountNano, minAmountNano);
  }
  if (level === 'key') return keyLimitExceededError(keyUsage, available, amountNano, minAmountNano);
  return insufficientBalanceError();
}

export function insufficientBalanceError(): InsufficientFundsError {
  return new InsufficientFundsError('insufficient balance', {
    code: refusalCodes.source,
    headers: { [refusedByHeader]: 'source' },
  });
}

/** Each level's caps from a key's limit usage and its tree's budgets. */
export function levelCapsOf(keyCaps: KeyHeadroom, budgets: BudgetUse[]): LevelCaps {
  if (budgets.length === 0) return { key: keyCaps, project: noKeyHeadroom, organization: noKeyHeadroom };
  return {
    key: keyCaps,
    project: budgetCapsOf(budgets, 'project'),
    organization: budgetCapsOf(budgets, 'organization'),
  };
}

/**
 * Whether a budget_spend row of class `classColumn` counts for a budget of currency `currencyColumn`
 * (`budgetClassesOf`), as an SQL condition both SQLite and PostgreSQL read.
 */
export function budgetClassSql(currencyColumn: string, classColumn: string): string {
  const branches = limitCurrencies.map(
    (c) =>
      `WHEN '${c}' THEN ${classColumn} IN (${budgetClassesOf(c)
        .map((s) => `'${s}'`)
        .join(', ')})`,
  );
  return `CASE ${currencyColumn} ${branches.join(' ')} END`;
}
