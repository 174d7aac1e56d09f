/**
 * Reads a key's limits and what it has used against them, and its project's and organization's budgets with what
 * they used, for the metering adapter's reserve and spendable.
 */
import type { StatementSync } from 'node:sqlite';
import { checkKeyUsable } from '../accounts/accountRules.ts';
import type { ApiKey, KeyLimit, KeyLimitUsage } from '../accounts/accountsLedger.ts';
import { modelsFromText } from '../accounts/sqliteKeyColumns.ts';
import { nullableNumber, type Row } from '../rows.ts';
import type { SqliteStorage } from '../sqlite/sqliteStorage.ts';
import type { BudgetPeriod } from '../teams/teamsLedger.ts';
import type { LimitCurrency } from '../vocabulary.ts';
import { type BudgetUse, budgetClassesOf } from './budgetRules.ts';
import { type KeyHeadroom, keyHeadroomOf, keyLimitUsageOf, noKeyHeadroom } from './keyLimitRules.ts';
import { sharedPeriodKeyOf } from './meteringRules.ts';
import type { SqliteSpendBatch } from './sqliteSpendBatch.ts';

// A project key's organization is the one its account funds (org_id NULL otherwise: the key is refused).
const keyForUseSql = `SELECT account_id, expires_at_ms, revoked_at_ms, allowed_models, project_id,
    (SELECT p.org_id FROM projects p JOIN organizations o ON o.id = p.org_id
      WHERE p.id = api_keys.project_id AND o.account_id = api_keys.account_id) AS org_id,
    (SELECT json_group_array(json_array(currency, period, cast(amount_nano AS TEXT))) FROM key_limits WHERE key_id = ?1)
      AS limits FROM api_keys WHERE id = ?1`;
// The budgets of the project (?1) and the organization (?2); what their scopes used is in the spend counters.
const budgetsSql = 'SELECT scope, currency, period, amount_nano FROM budgets WHERE scope_id IN (?1, ?2)';

/** A budget as the hot path remembers it: whose it is and the period key its use is counted under. */
interface BudgetOf {
  level: BudgetUse['level'];
  scopeId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  periodKey: string;
  amountNano: bigint;
}

/** A usable key: its limits with their use (null: none, so its spend is not counted), its project and organization. */
export interface KeyInUse {
  usage: KeyLimitUsage[] | null;
  projectId: string | null;
  orgId: string | null;
}

export class SqliteKeyLimits {
  private readonly keyForUse: StatementSync;
  private readonly budgetsOf: StatementSync;
  /** The spend counters with what the current transaction moved, and the remembered reads (sqliteSpendBatch.ts). */
  private readonly spend: SqliteSpendBatch;

  constructor(storage: SqliteStorage, spend: SqliteSpendBatch) {
    this.spend = spend;
    this.keyForUse = storage.prepareOne(keyForUseSql);
    this.budgetsOf = storage.prepareOne(budgetsSql);
  }

  /** Checks the key may be used now; returns its limits with their current use, its project and organization. */
  inUse(accountId: string, keyId: string, model: string | null, now: number, epoch: number, month: string): KeyInUse {
    const row = this.spend.memo('key', keyId, () => this.keyForUse.get(keyId));
    if (!row || row.account_id !== accountId) checkKeyUsable(null, accountId, model, now);
    checkKeyUsable(keyForUse(keyId, row!), accountId, model, now);
    const projectId = (row!.project_id as string | null) ?? null;
    const orgId = (row!.org_id as string | null) ?? null;
    if (projectId !== null && orgId === null) checkKeyUsable(null, accountId, model, now);
    const limits = this.spend.memo('limits', keyId, () => limitsOf(row!.limits as string));
    if (limits.length === 0) return { usage: null, projectId, orgId };
    return { usage: this.usage(keyId, limits, epoch, month), projectId, orgId };
  }

  /** The budgets of a project and its organization with what each scope used in the budget's current period. */
  budgets(projectId: string, orgId: string, epoch: number, month: string): BudgetUse[] {
    const budgets = this.spend.memo('budgets', `${projectId}\u0000${orgId}\u0000${epoch}\u0000${month}`, () =>
      this.budgetsOf.all(projectId, orgId).map((row): BudgetOf => {
        const period = row.period as BudgetPeriod;
        const project = row.scope === 'PROJECT';
        return {
          level: project ? 'project' : 'organization',
          scopeId: project ? projectId : orgId,
          currency: row.currency as LimitCurrency,
          period,
          periodKey: sharedPeriodKeyOf(period, epoch, month),
          amountNano: row.amount_nano as bigint,
        };
      }),
    );
    return budgets.map(({ level, scopeId, currency, period, periodKey, amountNano }) => {
      let usedNano = 0n;
      for (const c of budgetClassesOf(currency)) usedNano += this.spend.budgetUsed(scopeId, c, periodKey);
      return { level, currency, period, amountNano, usedNano };
    });
  }

  /** Each limit with what the key spent and holds against it in the limit's current period. */
  usage(keyId: string, limits: KeyLimit[], epoch: number, month: string): KeyLimitUsage[] {
    return limits.map((limit) => {
      const periodKey = sharedPeriodKeyOf(limit.period, epoch, month);
      let spentNano = 0n;
      let reservedNano = 0n;
      for (const c of budgetClassesOf(limit.currency)) {
        const spend = this.spend.keySpend(keyId, c, periodKey);
        spentNano += spend.spentNano;
        reservedNano += spend.reservedNano;
      }
      return keyLimitUsageOf(limit, periodKey, spentNano, reservedNano);
    });
  }
}

/** What the key's limits leave; null usage (no key, or a key without limits) leaves every source open. */
export function headroomOf(usage: KeyLimitUsage[] | null): KeyHeadroom {
  if (usage === null) return noKeyHeadroom;
  return keyHeadroomOf(usage.map((limit) => ({ limit, usedNano: limit.spentNano + limit.reservedNano })));
}

function limitsOf(json: string): KeyLimit[] {
  const limits = JSON.parse(json) as [KeyLimit['currency'], KeyLimit['period'], string][];
  return limits.map(([currency, period, amount]) => ({ currency, period, amountNano: BigInt(amount) }));
}

/** The fields of a key that `checkKeyUsable` reads, from the hot-path query. */
function keyForUse(keyId: string, row: Row): ApiKey {
  return {
    id: keyId,
    accountId: row.account_id as string,
    kind: 'INFERENCE',
    name: '',
    secretPrefix: '',
    secretLast6: null,
    createdAtMs: 0,
    expiresAtMs: nullableNumber(row.expires_at_ms),
    revokedAtMs: nullableNumber(row.revoked_at_ms),
    allowedModels: modelsFromText(row.allowed_models),
    limits: [],
    rateLimits: null,
    projectId: null,
    memberAccountId: null,
  };
}
