/** The SQLite adapter of usage history, analytics and the journal: reads only. */

import { ledgerLimits } from '../limits.ts';
import type { Row } from '../rows.ts';
import { toReservation, toUsage } from '../rows.ts';
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
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

/** Usage grouped by `group`, in one account or every account (?1 null), over [?2, ?3), for one key or all (?4). */
function analyticsSql(group: string): string {
  return `SELECT ${group} AS grp, currency, sum(amount_nano) AS amount,
        sum(list_amount_nano - amount_nano) AS loss, count(DISTINCT reservation_id) AS requests,
        sum(units) AS units FROM usage_records WHERE (?1 IS NULL OR account_id = ?1) AND created_at_ms >= ?2
        AND created_at_ms < ?3
        AND (?4 IS NULL OR key_id = ?4) GROUP BY grp, currency ORDER BY grp, currency`;
}

const reportingStatements = {
  chargeReservation: `SELECT * FROM reservations WHERE request_id = ?1 AND account_id = ?2 AND status = 'SETTLED'`,
  // Usage rows carry their settle's time: the (account, time) index finds them.
  chargeLines: `SELECT * FROM usage_records WHERE account_id = ?1 AND created_at_ms = ?2 AND reservation_id = ?3
    ORDER BY id`,
  journal: 'SELECT * FROM journal_entries WHERE id > ? ORDER BY id LIMIT ?',
  usagePage: `SELECT * FROM usage_records WHERE account_id = ?1 AND (?2 IS NULL OR key_id = ?2)
    AND (?3 IS NULL OR model = ?3) AND created_at_ms >= ?4 AND created_at_ms < ?5
    AND (created_at_ms, id) < (?6, ?7) ORDER BY created_at_ms DESC, id DESC LIMIT ?8`,
  analyticsByDay: analyticsSql("strftime('%Y-%m-%d', created_at_ms / 1000, 'unixepoch')"),
  analyticsByModel: analyticsSql('model'),
  analyticsByKey: analyticsSql("coalesce(key_id, '')"),
} as const;

export class SqliteReporting implements ReportingLedger {
  private readonly stmt: PreparedCatalog<typeof reportingStatements>;

  constructor(storage: SqliteStorage) {
    this.stmt = storage.prepare(reportingStatements);
  }

  async chargeOf(input: { accountId: string; requestId: string }): Promise<SettledCharge | null> {
    const row = this.stmt.chargeReservation.get(input.requestId, input.accountId);
    if (!row) return null;
    const reservation = toReservation(row);
    const lines = this.stmt.chargeLines.all(input.accountId, reservation.finishedAtMs, reservation.id).map(toUsage);
    return { reservation, lines, priceSheetHash: (row.price_sheet_hash as string | null) ?? null };
  }

  async usageHistory(query: UsageQuery): Promise<UsagePage> {
    const limit = pageSizeOf(query.limit);
    const cursor = query.cursor ? decodeCursor(query.cursor) : { createdAtMs: Number.MAX_SAFE_INTEGER, id: 0n };
    const rows = this.stmt.usagePage.all(
      query.accountId,
      query.keyId ?? null,
      query.model ?? null,
      query.fromMs ?? 0,
      query.toMs ?? Number.MAX_SAFE_INTEGER,
      cursor.createdAtMs,
      query.cursor ? cursor.id : BigInt(Number.MAX_SAFE_INTEGER),
      limit + 1,
    );
    const items = rows.slice(0, limit).map(toUsage);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAtMs, last.id) : null };
  }

  async usageAnalytics(query: AnalyticsQuery): Promise<UsageAnalytics> {
    const params = [query.accountId, query.fromMs, query.toMs, query.keyId ?? null] as const;
    return {
      byDay: this.stmt.analyticsByDay.all(...params).map(toAnalyticsRow),
      byModel: this.stmt.analyticsByModel.all(...params).map(toAnalyticsRow),
      byKey: this.stmt.analyticsByKey.all(...params).map(toAnalyticsRow),
    };
  }

  async journal(input: { afterId?: string | null; limit?: number } = {}): Promise<JournalEntry[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    return this.stmt.journal.all(BigInt(input.afterId ?? 0), limit).map(toJournalEntry);
  }
}

function toAnalyticsRow(row: Row): AnalyticsRow {
  return {
    group: row.grp as string,
    currency: row.currency as AnalyticsRow['currency'],
    amountNano: row.amount as bigint,
    lossNano: row.loss as bigint,
    requests: Number(row.requests),
    units: Number(row.units),
  };
}

function toJournalEntry(row: Row): JournalEntry {
  return {
    id: String(row.id),
    txnId: row.txn_id as string,
    kind: row.kind as JournalEntry['kind'],
    ledgerAccount: row.ledger_account as string,
    side: row.side as JournalEntry['side'],
    amountNano: row.amount_nano as bigint,
    reservationId: (row.reservation_id as string | null) ?? null,
    createdAtMs: Number(row.created_at_ms),
  };
}
