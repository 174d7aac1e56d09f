/**
 * What the audit log records of a budget, and its replay: the budgets of an organization rebuilt from its audit
 * entries alone. Each budget entry carries the budget before and after (amounts as decimal strings, JSON has no
 * bigint); the replay checks every `before` against the state it rebuilt so far, so a log with a missing or altered
 * entry does not replay.
 */
import type { NanoUsd } from '../../core/money.ts';
import type { LimitCurrency } from '../vocabulary.ts';
import type { AuditEntry, Budget, BudgetPeriod, BudgetScope } from './teamsLedger.ts';

/** A budget as the audit log holds it. */
export interface BudgetRecord {
  scopeId: string;
  scope: BudgetScope;
  currency: LimitCurrency;
  period: BudgetPeriod;
  amountNano: string;
  alertThresholds: number[];
}

export function budgetRecord(budget: Budget): BudgetRecord {
  return {
    scopeId: budget.scopeId,
    scope: budget.scope,
    currency: budget.currency,
    period: budget.period,
    amountNano: budget.amountNano.toString(),
    alertThresholds: budget.alertThresholds,
  };
}

export function budgetKey(budget: { scopeId: string; currency: LimitCurrency; period: BudgetPeriod }): string {
  return `${budget.scopeId}:${budget.currency}:${budget.period}`;
}

/** The audit target of a budget: "budget:prj_…:USD:EPOCH". */
export function budgetTarget(budget: { scopeId: string; currency: LimitCurrency; period: BudgetPeriod }): string {
  return `budget:${budgetKey(budget)}`;
}

/** What a replay rebuilds: per "scopeId:currency:period", the amount and thresholds. */
export type ReplayedBudgets = Map<string, { amountNano: NanoUsd; alertThresholds: number[] }>;

/** The current budgets in the shape a replay rebuilds. */
export function budgetsAsReplayed(budgets: Budget[]): ReplayedBudgets {
  const map: ReplayedBudgets = new Map();
  for (const b of budgets) map.set(budgetKey(b), { amountNano: b.amountNano, alertThresholds: b.alertThresholds });
  return map;
}

export class AuditReplayError extends Error {
  override readonly name = 'AuditReplayError';
}

/** The budgets an organization's audit entries (oldest first) leave; throws when an entry's `before` disagrees. */
export function replayBudgets(entries: AuditEntry[]): ReplayedBudgets {
  const state: ReplayedBudgets = new Map();
  for (const entry of entries) {
    if (entry.action === 'budget.set' || entry.action === 'budget.remove') {
      apply(state, entry, entry.before as BudgetRecord | null, entry.after as BudgetRecord | null);
    } else if (entry.action === 'budget.reallocate') {
      const before = entry.before as { from: BudgetRecord; to: BudgetRecord };
      const after = entry.after as { from: BudgetRecord; to: BudgetRecord };
      apply(state, entry, before.from, after.from);
      apply(state, entry, before.to, after.to);
    }
  }
  return state;
}

function apply(state: ReplayedBudgets, entry: AuditEntry, before: BudgetRecord | null, after: BudgetRecord | null) {
  const key = budgetKey((after ?? before)!);
  const held = state.get(key);
  const agrees =
    before === null ? held === undefined : held !== undefined && held.amountNano === BigInt(before.amountNano);
  if (!agrees) throw new AuditReplayError(`audit entry ${entry.id} (${entry.action} ${key}) does not follow the log`);
  if (after === null) state.delete(key);
  else state.set(key, { amountNano: BigInt(after.amountNano), alertThresholds: after.alertThresholds });
}
