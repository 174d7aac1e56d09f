/**
 * A key's spend counters on PostgreSQL (key_spend): what its limits read, and their rebuild when a key gains or
 * loses its limits. Reserves and settles move them inside the ledger functions (functions.ts).
 */
import type { KeyLimit, KeyLimitUsage } from '../accounts/accountsLedger.ts';
import type { Sql } from '../postgres/pool.ts';
import { periodKeysSql, spendCurrencySql } from '../postgres/ruleSql.ts';
import { limitPeriods } from '../vocabulary.ts';
import { budgetClassSql } from './budgetRules.ts';
import { keyLimitUsageOf } from './keyLimitRules.ts';
import { periodKeyOf, periodKeysOf } from './meteringRules.ts';

/** Each limit of the key (in the order of `ApiKey.limits`) with its counter in the period of (epoch, month). */
export async function limitUsage(sql: Sql, keyId: string, epoch: number, month: string): Promise<KeyLimitUsage[]> {
  const periodKeys = limitPeriods.map((period) => periodKeyOf(period, epoch, month));
  // A limit reads its class's counter, or both classes' for TOTAL (budgetClassSql).
  const rows = await sql`SELECT l.currency, l.period, l.amount_nano, sum(s.spent_nano)::bigint AS spent_nano,
      sum(s.reserved_nano)::bigint AS reserved_nano
    FROM key_limits l JOIN unnest(${limitPeriods}::text[], ${periodKeys}::text[]) AS p (period, period_key)
        ON p.period = l.period
      LEFT JOIN key_spend s ON s.key_id = l.key_id AND s.period_key = p.period_key
        AND ${sql.unsafe(budgetClassSql('l.currency', 's.currency'))}
    WHERE l.key_id = ${keyId} GROUP BY l.currency, l.period, l.amount_nano ORDER BY l.currency, l.period`;
  return rows.map((row) => {
    const limit: KeyLimit = {
      currency: row.currency as KeyLimit['currency'],
      period: row.period as KeyLimit['period'],
      amountNano: row.amount_nano as bigint,
    };
    return keyLimitUsageOf(
      limit,
      periodKeyOf(limit.period, epoch, month),
      (row.spent_nano as bigint | null) ?? 0n,
      (row.reserved_nano as bigint | null) ?? 0n,
    );
  });
}

/**
 * A key's spend is counted (key_spend rows, and `counted` on its live reservations) exactly while it has limits:
 * most keys have none, and counting costs every reserve and settle three row writes. A key that gains limits has its
 * counters rebuilt from its reservations in the same transaction, so a limit still sees what the key spent before it
 * and what it holds now; a key that loses them drops its counters.
 *
 * Locks follow the order of the header of functions.ts: the key's live reservations (id order), so that no settle,
 * void or expiry moves them meanwhile; then the account mutex, so that no reserve of the account reads the old
 * limits after this rebuild; then, again, reservations that reserves committed between the two.
 */
export async function recountKeySpend(
  tx: Sql,
  key: { keyId: string; accountId: string; counted: boolean; epoch: number; month: string },
): Promise<void> {
  const lockLive = () => tx`SELECT id FROM reservations
    WHERE account_id = ${key.accountId} AND key_id = ${key.keyId} AND status = 'RESERVED' ORDER BY id FOR UPDATE`;
  await lockLive();
  await tx`SELECT 1 FROM balances WHERE account_id = ${key.accountId} AND source = 'CREDITS' FOR UPDATE`;
  await lockLive();
  await tx`DELETE FROM key_spend WHERE key_id = ${key.keyId}`;
  await tx`UPDATE reservations SET counted = ${key.counted}
    WHERE account_id = ${key.accountId} AND key_id = ${key.keyId} AND status = 'RESERVED'`;
  if (!key.counted) return;
  // What settled counts in the current periods; what is held counts in the periods it was reserved in, which its
  // settle will move. Each reservation counts in its source's class, in every period.
  await tx.unsafe(recountSql, [key.keyId, key.accountId, periodKeysOf(key.epoch, key.month)]);
}

/** The rebuild of a key's counters ($1 key, $2 account, $3 the current period keys), generated from the rules. */
const recountSql = `INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
  SELECT $1, ${spendCurrencySql('source')}, k.period_key,
      sum(CASE status WHEN 'SETTLED' THEN charged_nano ELSE 0 END),
      sum(CASE status WHEN 'RESERVED' THEN amount_nano ELSE 0 END)
    FROM reservations
      CROSS JOIN LATERAL unnest(ARRAY[${periodKeysSql('epoch', 'month')}]) AS k (period_key)
    WHERE account_id = $2 AND key_id = $1 AND status IN ('RESERVED', 'SETTLED')
      AND (status = 'RESERVED' OR k.period_key = ANY ($3::text[]))
    GROUP BY 2, k.period_key`;
