/**
 * A project key's budgets on PostgreSQL, read outside the hot path: for `spendable` and to explain a refusal. The
 * reserve itself reads and moves them inside perdiem_reserve (functions.ts).
 */
import type { Sql } from '../postgres/pool.ts';
import { limitPeriodKeySql } from '../postgres/ruleSql.ts';
import type { BudgetPeriod } from '../teams/teamsLedger.ts';
import type { LimitCurrency } from '../vocabulary.ts';
import { type BudgetUse, budgetClassSql } from './budgetRules.ts';

/** Each budget of the key's project and organization with what its scope used in the current period; [] without. */
export async function budgetsOfKey(sql: Sql, keyId: string, epoch: number, month: string): Promise<BudgetUse[]> {
  const rows = await sql.unsafe(budgetsOfKeySql, [keyId, epoch, month]);
  return rows.map((row) => ({
    level: row.scope === 'PROJECT' ? 'project' : 'organization',
    currency: row.currency as LimitCurrency,
    period: row.period as BudgetPeriod,
    amountNano: row.amount_nano as bigint,
    usedNano: (row.used as bigint | null) ?? 0n,
  }));
}

const budgetsOfKeySql = `SELECT b.scope, b.currency, b.period, b.amount_nano,
    (SELECT sum(s.spent_nano + s.reserved_nano) FROM budget_spend s
      WHERE s.scope_id = b.scope_id AND s.period_key = ${limitPeriodKeySql('b.period', '$2::bigint', '$3::text')}
        AND ${budgetClassSql('b.currency', 's.class')})::bigint AS used
  FROM api_keys k JOIN projects p ON p.id = k.project_id
    JOIN organizations o ON o.id = p.org_id AND o.account_id = k.account_id
    JOIN budgets b ON b.scope_id IN (p.id, p.org_id)
  WHERE k.id = $1`;
