/** Usage history, analytics and the journal on PostgreSQL: read-only queries. */
import { ledgerLimits } from '../limits.ts';
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import { toReservation, toUsage } from '../rows.ts';
import type {
  AnalyticsQuery,
  AnalyticsRow,
  JournalEntry,
  ReportingLedger,
  SettledCharge,
  UsageAnalytics,
  UsagePage,
  UsageQuery,
} from './reportingLedger.ts';
import { decodeCursor, encodeCursor, pageSizeOf } from './reportingRules.ts';

export class PostgresReporting implements ReportingLedger {
  private readonly storage: LedgerStorage;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
  }

  private get sql(): Sql {
    return this.storage.sql;
  }

  async chargeOf(input: { accountId: string; requestId: string }): Promise<SettledCharge | null> {
    const [row] = await this.sql`SELECT * FROM reservations WHERE request_id = ${input.requestId}
      AND account_id = ${input.accountId} AND status = 'SETTLED'`;
    if (!row) return null;
    const reservation = toReservation(row);
    // Usage rows carry their settle's time: the (account, time) index finds them.
    const lines = await this.sql`SELECT * FROM usage_records WHERE account_id = ${input.accountId}
      AND created_at_ms = ${reservation.finishedAtMs} AND reservation_id = ${reservation.id} ORDER BY id`;
    return { reservation, lines: lines.map(toUsage), priceSheetHash: (row.price_sheet_hash as string | null) ?? null };
  }

  async usageHistory(query: UsageQuery): Promise<UsagePage> {
    const limit = pageSizeOf(query.limit);
    const cursor = query.cursor
      ? decodeCursor(query.cursor)
      : { createdAtMs: Number.MAX_SAFE_INTEGER, id: BigInt(Number.MAX_SAFE_INTEGER) };
    const rows = await this.sql`SELECT * FROM usage_records WHERE account_id = ${query.accountId}
      AND (${query.keyId ?? null}::text IS NULL OR key_id = ${query.keyId ?? null})
      AND (${query.model ?? null}::text IS NULL OR model = ${query.model ?? null})
      AND created_at_ms >= ${query.fromMs ?? 0} AND created_at_ms < ${query.toMs ?? Number.MAX_SAFE_INTEGER}
      AND (created_at_ms, id) < (${cursor.createdAtMs}::bigint, ${cursor.id}::bigint)
      ORDER BY created_at_ms DESC, id DESC LIMIT ${limit + 1}`;
    const items = rows.slice(0, limit).map(toUsage);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAtMs, last.id) : null };
  }

  async usageAnalytics(query: AnalyticsQuery): Promise<UsageAnalytics> {
    return {
      byDay: await this.analytics(
        query,
        `to_char(to_timestamp(created_at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
      ),
      byModel: await this.analytics(query, 'model'),
      byKey: await this.analytics(query, `coalesce(key_id, '')`),
    };
  }

  private async analytics(query: AnalyticsQuery, group: string): Promise<AnalyticsRow[]> {
    const rows = await this.sql.unsafe(
      // Two shapes, so that an account's query keeps using the (account_id, created_at_ms) index.
      `SELECT ${group} AS grp, currency, sum(amount_nano)::text AS amount,
        sum(list_amount_nano - amount_nano)::text AS loss, count(DISTINCT reservation_id) AS requests,
        sum(units)::text AS units FROM usage_records WHERE ${query.accountId === null ? '$1::text IS NULL' : 'account_id = $1'}
        AND created_at_ms >= $2 AND created_at_ms < $3 AND ($4::text IS NULL OR key_id = $4) GROUP BY 1, 2`,
      [query.accountId, query.fromMs, query.toMs, query.keyId ?? null],
    );
    const out = rows.map((row) => ({
      group: row.grp as string,
      currency: row.currency as AnalyticsRow['currency'],
      amountNano: BigInt(row.amount as string),
      lossNano: BigInt(row.loss as string),
      requests: Number(row.requests),
      units: Number(row.units),
    }));
    // Byte order, as SQLite sorts: independent of the database collation.
    return out.sort((a, b) => (a.group === b.group ? cmp(a.currency, b.currency) : cmp(a.group, b.group)));
  }

  async journal(input: { afterId?: string | null; limit?: number } = {}): Promise<JournalEntry[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    const rows = await this.sql`SELECT * FROM journal_entries WHERE id > ${BigInt(input.afterId ?? 0)}
      ORDER BY id LIMIT ${limit}`;
    return rows.map((row) => ({
      id: String(row.id),
      txnId: row.txn_id,
      kind: row.kind,
      ledgerAccount: row.ledger_account,
      side: row.side,
      amountNano: row.amount_nano as bigint,
      reservationId: row.reservation_id ?? null,
      createdAtMs: Number(row.created_at_ms),
    }));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
