/** Reads a key's limits and what it has used against them, for the metering adapter's reserve and spendable. */
import type { StatementSync } from 'node:sqlite';
import { checkKeyUsable } from '../accounts/accountRules.ts';
import type { ApiKey, KeyLimit, KeyLimitUsage } from '../accounts/accountsLedger.ts';
import { modelsFromText } from '../accounts/sqliteKeyColumns.ts';
import { nullableNumber, type Row } from '../rows.ts';
import type { SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { type KeyHeadroom, keyHeadroomOf, keyLimitUsageOf, noKeyHeadroom } from './keyLimitRules.ts';
import { periodKeyOf } from './meteringRules.ts';

const keySpendSql =
  'SELECT spent_nano, reserved_nano FROM key_spend WHERE key_id = ? AND currency = ? AND period_key = ?';
const keyForUseSql = `SELECT account_id, expires_at_ms, revoked_at_ms, allowed_models,
    (SELECT json_group_array(json_array(currency, period, cast(amount_nano AS TEXT))) FROM key_limits WHERE key_id = ?1)
      AS limits FROM api_keys WHERE id = ?1`;

export class SqliteKeyLimits {
  private readonly keySpend: StatementSync;
  private readonly keyForUse: StatementSync;

  constructor(storage: SqliteStorage) {
    this.keySpend = storage.prepareOne(keySpendSql);
    this.keyForUse = storage.prepareOne(keyForUseSql);
  }

  /** Checks the key may be used now; returns its limits with their current use, or null when it has none. */
  inUse(
    accountId: string,
    keyId: string,
    model: string | null,
    now: number,
    epoch: number,
    month: string,
  ): KeyLimitUsage[] | null {
    const row = this.keyForUse.get(keyId);
    if (!row || row.account_id !== accountId) checkKeyUsable(null, accountId, model, now);
    checkKeyUsable(keyForUse(keyId, row!), accountId, model, now);
    const limits = JSON.parse(row!.limits as string) as [KeyLimit['currency'], KeyLimit['period'], string][];
    if (limits.length === 0) return null;
    return this.usage(
      keyId,
      limits.map(([currency, period, amount]) => ({ currency, period, amountNano: BigInt(amount) })),
      epoch,
      month,
    );
  }

  /** Each limit with what the key spent and holds against it in the limit's current period. */
  usage(keyId: string, limits: KeyLimit[], epoch: number, month: string): KeyLimitUsage[] {
    return limits.map((limit) => {
      const periodKey = periodKeyOf(limit.period, epoch, month);
      const spend = this.keySpend.get(keyId, limit.currency, periodKey);
      return keyLimitUsageOf(
        limit,
        periodKey,
        (spend?.spent_nano as bigint | undefined) ?? 0n,
        (spend?.reserved_nano as bigint | undefined) ?? 0n,
      );
    });
  }
}

/** What the key's limits leave; null usage (no key, or a key without limits) leaves every source open. */
export function headroomOf(usage: KeyLimitUsage[] | null): KeyHeadroom {
  if (usage === null) return noKeyHeadroom;
  return keyHeadroomOf(usage.map((limit) => ({ limit, usedNano: limit.spentNano + limit.reservedNano })));
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
