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
import { type BudgetUse, budgetClassesOf, budgetClassSql } from './budgetRules.ts';
import { type KeyHeadroom, keyHeadroomOf, keyLimitUsageOf, noKeyHeadroom } from './keyLimitRules.ts';
import { periodKeyOf } from './meteringRules.ts';
import type { SqliteSpendBatch } from './sqliteSpendBatch.ts';

// What a key spent and holds in a period, in one spend class (a DIEM or USD limit) or both (a TOTAL limit).
const keySpendSql =
  'SELECT spent_nano, reserved_nano FROM key_spend WHERE key_id = ? AND currency = ? AND period_key = ?';
const keySpendTotalSql = `SELECT coalesce(sum(spent_nano), 0) AS spent_nano,
    coalesce(sum(reserved_nano), 0) AS reserved_nano
  FROM key_spend WHERE key_id = ? AND currency IN ('DIEM', 'USD') AND period_key = ?`;
// A project key's organization is the one its account funds (org_id NULL otherwise: the key is refused).
const keyForUseSql = `SELECT account_id, expires_at_ms, revoked_at_ms, allowed_models, project_id,
    (SELECT p.org_id FROM projects p JOIN organizations o ON o.id = p.org_id
      WHERE p.id = api_keys.project_id AND o.account_id = api_keys.account_id) AS org_id,
    (SELECT json_group_array(json_array(currency, period, cast(amount_nano AS TEXT))) FROM key_limits WHERE key_id = ?1)
      AS limits FROM api_keys WHERE id = ?1`;
// Each budget of the project (?1) and the organization (?2) with what its scope used in its current period; the
// spend rows are sought by their whole key (both classes), not scanned over every period the scope ever had.
const budgetUseSql = `SELECT b.scope, b.currency, b.period, b.amount_nano,
    coalesce((SELECT sum(s.spent_nano + s.reserved_nano) FROM budget_spend s
      WHERE s.scope_id = b.scope_id AND s.class IN ('DIEM', 'USD')
        AND s.period_key = CASE b.period WHEN 'EPOCH' THEN ?3 ELSE ?4 END
        AND ${budgetClassSql('b.currency', 's.class')}), 0) AS used
  FROM budgets b WHERE b.scope_id IN (?1, ?2)`;

/** A usable key: its limits with their use (null: none, so its spend is not counted), its project and organization. */
export interface KeyInUse {
  usage: KeyLimitUsage[] | null;
  projectId: string | null;
  orgId: string | null;
}

export class SqliteKeyLimits {
  private readonly keySpend: StatementSync;
  private readonly keySpendTotal: StatementSync;
  private readonly keyForUse: StatementSync;
  private readonly budgetUse: StatementSync;
  /**
   * What the current transaction has moved and not yet written (every read adds it), and what it read (the rows
   * these reads return do not change within a transaction: only its own counters move, and they wait in `pending`).
   */
  private readonly pending: SqliteSpendBatch;

  constructor(storage: SqliteStorage, pending: SqliteSpendBatch) {
    this.pending = pending;
    this.keySpend = storage.prepareOne(keySpendSql);
    this.keySpendTotal = storage.prepareOne(keySpendTotalSql);
    this.keyForUse = storage.prepareOne(keyForUseSql);
    this.budgetUse = storage.prepareOne(budgetUseSql);
  }

  /** Checks the key may be used now; returns its limits with their current use, its project and organization. */
  inUse(accountId: string, keyId: string, model: string | null, now: number, epoch: number, month: string): KeyInUse {
    const row = this.pending.memo('key', keyId, () => this.keyForUse.get(keyId));
    if (!row || row.account_id !== accountId) checkKeyUsable(null, accountId, model, now);
    checkKeyUsable(keyForUse(keyId, row!), accountId, model, now);
    const projectId = (row!.project_id as string | null) ?? null;
    const orgId = (row!.org_id as string | null) ?? null;
    if (projectId !== null && orgId === null) checkKeyUsable(null, accountId, model, now);
    const limits = this.pending.memo('limits', keyId, () => limitsOf(row!.limits as string));
    if (limits.length === 0) return { usage: null, projectId, orgId };
    return { usage: this.usage(keyId, limits, epoch, month), projectId, orgId };
  }

  /** The budgets of a project and its organization with what each scope used in the budget's current period. */
  budgets(projectId: string, orgId: string, epoch: number, month: string): BudgetUse[] {
    const [e, m] = [periodKeyOf('EPOCH', epoch, month), periodKeyOf('MONTH', epoch, month)];
    const rows = this.pending.memo('budgets', `${projectId}\u0000${orgId}\u0000${e}\u0000${m}`, () =>
      this.budgetUse.all(projectId, orgId, e, m),
    );
    return rows.map((row) => {
      const currency = row.currency as LimitCurrency;
      const period = row.period as BudgetPeriod;
      const scopeId = row.scope === 'PROJECT' ? projectId : orgId;
      const periodKey = periodKeyOf(period, epoch, month);
      let usedNano = row.used as bigint;
      for (const c of budgetClassesOf(currency)) usedNano += this.pending.budgetUsed(scopeId, c, periodKey);
      return {
        level: row.scope === 'PROJECT' ? 'project' : 'organization',
        currency,
        period,
        amountNano: row.amount_nano as bigint,
        usedNano,
      };
    });
  }

  /** Each limit with what the key spent and holds against it in the limit's current period. */
  usage(keyId: string, limits: KeyLimit[], epoch: number, month: string): KeyLimitUsage[] {
    return limits.map((limit) => {
      const periodKey = periodKeyOf(limit.period, epoch, month);
      const spend = this.pending.memo('keySpend', `${keyId}\u0000${limit.currency}\u0000${periodKey}`, () =>
        limit.currency === 'TOTAL'
          ? this.keySpendTotal.get(keyId, periodKey)
          : this.keySpend.get(keyId, limit.currency, periodKey),
      );
      let spentNano = (spend?.spent_nano as bigint | undefined) ?? 0n;
      let reservedNano = (spend?.reserved_nano as bigint | undefined) ?? 0n;
      for (const c of budgetClassesOf(limit.currency)) {
        const pending = this.pending.keySpend(keyId, c, periodKey);
        spentNano += pending.spentNano;
        reservedNano += pending.reservedNano;
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
